/* The CLI side of the model families: the conditional VAE's labels and the full-VB decoder (families.h). */
#include "families.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd/ops.h"
#include "cli.h"
#include "models/dist_builtin.h"
#include "pictures.h"
#include "ranks.h"

int family_config(const char *cmd, const family_opts *o, int cvae_model, cli_opt *tab, int ntab,
                  run_config *c) {
    int cond = o->cond || cvae_model;
    if (!cond && cli_seen(tab, ntab, "cond-prior"))
        return cli_usage_error(
            cmd, "--cond-prior applies to a conditional VAE (--model cvae or --cond)");
    if (!o->bayes)
        for (const char *const *k = (const char *const[]){"prior-scale", "local-reparam", NULL}; *k;
             k++)
            if (cli_seen(tab, ntab, *k))
                return cli_usage_error(cmd, "--%s applies to the full-VB decoder (--bayes-decoder)",
                                       *k);
    if (o->bayes && (cli_seen(tab, ntab, "deterministic-reduce") || ranks_size() > 1))
        return cli_usage_error(cmd,
                               "--bayes-decoder does not run with --deterministic-reduce or under "
                               "mpirun (each group would add the weight KL)");
    c->classes = cond ? -1 : 0; /* -1: from the data (family_after_data) */
    snprintf(c->cond_prior, sizeof c->cond_prior, "%s", o->cond_prior ? o->cond_prior : "learned");
    c->bayes_decoder = o->bayes != 0;
    c->prior_scale = o->prior_scale > 0 ? o->prior_scale : 1.0;
    c->local_reparam = o->local_reparam != 0;
    c->label_column = o->label_column;
    return 0;
}

int family_after_data(run_config *c, const vae_dataset *train, char *msg, size_t n) {
    if (c->classes >= 0) return 0;
    if (!train->labels) {
        snprintf(
            msg, n,
            "a conditional VAE needs labelled data (mnist, fashion-mnist, sprites: its shape); "
            "%s has no labels",
            train->name);
        return -1;
    }
    int64_t C = 0;
    for (int64_t i = 0; i < train->n; i++)
        if (train->labels[i] + 1 > C) C = train->labels[i] + 1;
    if (C > 100000) {
        snprintf(msg, n, "a conditional VAE of %" PRId64 " classes: at most 100000", C);
        return -1;
    }
    c->classes = C;
    return 0;
}

int family_prepare(vae_net *net, const vae_dataset *ds, int64_t m, int64_t n_train, char *msg,
                   size_t n) {
    if (n_train > 0) vae_net_set_data_size(net, n_train);
    if (!vae_net_conditional(net)) return 0;
    if (!ds->labels) {
        snprintf(msg, n, "the model is a conditional VAE: %s has no labels to condition on",
                 ds->name);
        return -1;
    }
    vae_error err = {0};
    if (vae_net_set_labels(net, ds->labels, m, &err)) {
        snprintf(msg, n, "%s: %s", ds->name, err.msg);
        return -1;
    }
    return 0;
}

int family_batch(vae_net *net, const vae_dataset *ds, const int64_t *idx, int64_t m, int64_t *y,
                 char *msg, size_t n) {
    if (!vae_net_conditional(net)) return 0;
    for (int64_t i = 0; i < m; i++) y[i] = ds->labels[idx[i]];
    vae_error err = {0};
    if (vae_net_set_labels(net, y, m, &err)) {
        snprintf(msg, n, "%s", err.msg);
        return -1;
    }
    return 0;
}

int family_prior_z(vae_ctx *ctx, vae_net *net, int64_t n, int cols, int64_t cls, vae_rng *rng,
                   int64_t *y, float *z, char *msg, size_t msglen) {
    int64_t Z = net->cfg.z_dim;
    for (int64_t i = 0; i < n * Z; i++) z[i] = (float)vae_rng_normal(rng); /* eps, or z ~ N(0, I) */
    if (!vae_net_conditional(net)) return 0;
    int64_t C = net->cfg.n_classes;
    if (cols < 1) cols = 1;
    for (int64_t i = 0; i < n; i++) y[i] = cls >= 0 ? cls : (i / cols) % C;
    vae_error err = {0};
    if (vae_net_set_labels(net, y, n, &err)) {
        snprintf(msg, msglen, "%s", err.msg);
        return -1;
    }
    if (net->cfg.cond_prior == VAE_COND_PRIOR_NORMAL) return 0;
    /* z = mu_y + sigma_y * eps */
    int prev = vae_set_grad_enabled(ctx, 0);
    vae_ctx_reset(ctx);
    vae_tensor *eps = vae_cast(ctx, vae_wrap(ctx, VAE_F32, VAE_SHAPE(n, Z), z), net->cfg.dtype);
    vae_tensor *zt = eps ? vae_normal_rsample_with(ctx, vae_net_prior(ctx, net), eps) : NULL;
    int rc = 0;
    if (!zt || vae_numel(zt) != n * Z) {
        snprintf(msg, msglen, "prior: %s",
                 vae_ctx_message(ctx)[0] ? vae_ctx_message(ctx) : "failed");
        rc = -1;
    } else
        for (int64_t i = 0; i < n * Z; i++) z[i] = (float)vae_get_flat(zt, i);
    vae_ctx_reset(ctx);
    vae_ctx_clear_error(ctx);
    vae_set_grad_enabled(ctx, prev);
    return rc;
}

#define UNC_COLS  8
#define UNC_DRAWS 32

int family_pictures(vae_ctx *ctx, vae_net *net, const run_config *cfg, const char *dir, char *msg,
                    size_t msglen) {
    if (!net->bayes || cfg->tabular) return 0;
    int64_t Z = net->cfg.z_dim, D = net->cfg.x_dim;
    float *z = malloc(sizeof(float) * (size_t)(UNC_COLS * Z)),
          *x = malloc(sizeof(float) * (size_t)(UNC_COLS * D));
    double *s1 = calloc((size_t)(UNC_COLS * D), sizeof *s1),
           *s2 = calloc((size_t)(UNC_COLS * D), sizeof *s2);
    float *grid = malloc(sizeof(float) * (size_t)(2 * UNC_COLS * D));
    int64_t y[UNC_COLS];
    int rc = -1;
    vae_rng rng;
    vae_rng_seed(&rng, (uint64_t)cfg->seed + 11);
    if (!z || !x || !s1 || !s2 || !grid) {
        snprintf(msg, msglen, "out of memory");
        goto done;
    }
    if (family_prior_z(ctx, net, UNC_COLS, 1, -1, &rng, y, z, msg, msglen)) goto done;
    for (int s = 0; s < UNC_DRAWS; s++) {
        vae_net_resample_weights(net, &rng);
        if (pic_decode_means(ctx, net, z, UNC_COLS, x, msg, msglen)) goto done;
        for (int64_t k = 0; k < UNC_COLS * D; k++) s1[k] += x[k], s2[k] += (double)x[k] * x[k];
    }
    double top = 0;
    for (int64_t k = 0; k < UNC_COLS * D; k++) {
        double m = s1[k] / UNC_DRAWS, v = s2[k] / UNC_DRAWS - m * m;
        s1[k] = m, s2[k] = sqrt(v > 0 ? v : 0);
        if (s2[k] > top) top = s2[k];
    }
    for (int64_t k = 0; k < UNC_COLS * D; k++) {
        grid[k] = (float)s1[k];
        grid[UNC_COLS * D + k] = top > 0 ? (float)(s2[k] / top) : 0.0f;
    }
    char path[RUN_PATH_MAX];
    if (path_join(path, sizeof path, dir, "weight_uncertainty.png", msg, msglen) ||
        pic_write_grid(cfg, path, grid, 2 * UNC_COLS, UNC_COLS, msg, msglen))
        goto done;
    rc = 0;
done:
    vae_net_set_weight_mode(net, VAE_WEIGHTS_MEAN);
    vae_net_set_labels(net, NULL, 0, NULL); /* y is ours */
    free(z), free(x), free(s1), free(s2), free(grid);
    return rc;
}
