/* objective_gradcheck.h - gradcheck of a whole objective with respect to every parameter of a small f64 net,
 * shared by test_objectives.c and test_bounds.c. The noise is fixed by reseeding the context on every call, so
 * the loss is a deterministic function of the weights. Include after test.h and vae.h. */
#ifndef VAE_TESTS_OBJECTIVE_GRADCHECK_H
#define VAE_TESTS_OBJECTIVE_GRADCHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct gc_user {
    vae_net *net;
    const vae_objective_cfg *cfg;
    const double *x;    /* (B, D) data */
    int64_t B, D, step; /* step: the objective state's step (annealing) */
} gc_user;

/* The loss with the net's weights and biases replaced by the gradcheck's inputs (restored afterwards). */
static vae_tensor *objective_fn(vae_ctx *ctx, vae_tensor *const *in, int nin, void *u) {
    gc_user *g = u;
    vae_mlp *m[2] = {&g->net->enc, &g->net->dec};
    vae_linear saved[2][VAE_MLP_MAX_LAYERS];
    int k = 0;
    (void)nin;
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < m[j]->nlayers; i++) {
            saved[j][i] = m[j]->layer[i];
            m[j]->layer[i].w = in[k++];
            m[j]->layer[i].b = in[k++];
        }
    vae_ctx_seed(ctx, 99);
    vae_tensor *x = vae_from_data(ctx, VAE_F64, VAE_SHAPE(g->B, g->D), VAE_F64, g->x);
    vae_objective_state st = {.step = g->step};
    vae_objective_out o;
    vae_status s = vae_objective(ctx, g->net, x, g->cfg, &st, &o);
    for (int j = 0; j < 2; j++)
        for (int i = 0; i < m[j]->nlayers; i++) m[j]->layer[i] = saved[j][i];
    return s ? NULL : o.loss;
}

static void gradcheck_objective(vae_net *net, const vae_objective_cfg *cfg, const double *x,
                                int64_t B, int64_t D, int64_t step, const char *what) {
    gc_user u = {net, cfg, x, B, D, step};
    int n = vae_params_count(net->params);
    vae_gc_input in[32];
    double *bufs[32];
    for (int i = 0; i < n; i++) {
        vae_tensor *p = vae_params_get(net->params, i);
        memset(&in[i], 0, sizeof in[i]);
        in[i].ndim = p->ndim;
        memcpy(in[i].shape, p->shape, sizeof in[i].shape);
        bufs[i] = malloc(sizeof(double) * (size_t)vae_numel(p));
        vae_tensor_to_f64(p, bufs[i]);
        in[i].data = bufs[i];
        in[i].requires_grad = 1;
    }
    vae_error err = {0};
    vae_gc_result res;
    vae_status s = vae_gradcheck(objective_fn, &u, n, in, 1e-6, 1e-6, 1e-5, &res, &err);
    CHECK_MSG(s == VAE_OK, "gradcheck %s: %s", what, err.msg);
    CHECK(res.checked > 50);
    printf("gradcheck %-22s max|err| %.2e over %lld parameters\n", what, res.max_abs_err,
           (long long)res.checked);
    for (int i = 0; i < n; i++) free(bufs[i]);
}

#endif
