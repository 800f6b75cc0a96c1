/* train_ranks.c - data-parallel gradient of one step (train_ranks.h). */
#include "train_ranks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd/ops.h"
#include "tensor/crc32.h"
#include "ranks.h"

enum { S_BOUND, S_REC, S_KL, S_ELBO, S_SIGNAL, S_STOP, NSTAT };

int train_ranks_needed(int deterministic) {
    return deterministic || ranks_size() > 1;
}

/* The gradient of rows [lo, lo + b) of the batch into the flat gradient buffer, its loss scaled by b / m; the
 * group's statistics (sums over its rows) into s. ctx's RNG and st start from the step's state each time. */
static int group_grad(vae_ctx *ctx, vae_net *net, const float *x, int64_t m, int64_t D, int64_t lo,
                      int64_t b, const vae_objective_cfg *cfg, vae_objective_state *st,
                      vae_objective_out *out, double *s, char *msg, size_t n) {
    vae_ctx_reset(ctx);
    vae_params_zero_grad(net->params);
    vae_ctx_set_noise_rows(ctx, m, lo);
    vae_net_select_labels(net, lo, b); /* a conditional net: these rows' labels */
    vae_tensor *xt =
        vae_cast(ctx, vae_wrap(ctx, VAE_F32, VAE_SHAPE(b, D), (float *)x + lo * D), net->cfg.dtype);
    vae_status rc = vae_objective(ctx, net, xt, cfg, st, out);
    vae_tensor *loss = rc       ? NULL
                       : b == m ? out->loss
                                : vae_mul_scalar(ctx, out->loss, (double)b / (double)m);
    if (rc == VAE_OK) rc = loss ? vae_backward(ctx, loss) : vae_ctx_status(ctx);
    vae_ctx_set_noise_rows(ctx, 0, 0);
    if (rc != VAE_OK) {
        snprintf(msg, n, "%s", vae_ctx_message(ctx));
        return -1;
    }
    s[S_BOUND] = out->bound_mean * (double)b;
    s[S_REC] = vae_objective_out_value(out, "rec") * (double)b;
    s[S_KL] = vae_objective_out_value(out, "kl") * (double)b;
    s[S_ELBO] = vae_objective_out_value(out, "elbo") * (double)b;
    s[S_SIGNAL] = out->signal_mean * (double)b;
    return 0;
}

int train_ranks_grad(vae_ctx *ctx, vae_net *net, const float *x, int64_t m, int64_t D,
                     const vae_objective_cfg *cfg, vae_objective_state *st, int deterministic,
                     int stop_here, vae_objective_out *out, int *stop, char *msg, size_t n) {
    int R = ranks_size(), me = ranks_rank();
    int64_t G = deterministic ? TRAIN_RANKS_GROUPS : R;
    if (G > m) G = m;
    int64_t glo, ghi; /* this rank's groups: all of them on one rank */
    ranks_range(G, me, R, &glo, &ghi);
    int64_t L = vae_params_flat_len(net->params);
    size_t esz = vae_params_dtype(net->params) == VAE_F64 ? 8 : 4;
    void *grad = vae_params_grads(net->params);
    const vae_rng rng0 = *vae_ctx_rng(ctx);
    const vae_objective_state st0 = *st;
    double *stats = calloc((size_t)(G * NSTAT), sizeof *stats), tot[NSTAT] = {0};
    int64_t *count = malloc(sizeof(int64_t) * (size_t)R);
    /* deterministic: the gradient of each of this rank's groups, kept apart until the ordered sum */
    char *stack =
        deterministic ? malloc((size_t)(me == 0 ? G : ghi - glo) * (size_t)L * esz) : NULL;
    int rc = -1;
    if (!stats || !count || (deterministic && !stack)) {
        snprintf(msg, n, "out of memory");
        goto done;
    }
    if (ghi == glo) {
        vae_params_zero_grad(net->params);
        memset(out, 0, sizeof *out);
    }
    for (int64_t g = glo; g < ghi; g++) {
        int64_t lo, hi;
        ranks_range(m, (int)g, (int)G, &lo, &hi);
        *vae_ctx_rng(ctx) = rng0; /* every group draws the whole batch's noise and keeps its rows */
        *st = st0;
        if (group_grad(ctx, net, x, m, D, lo, hi - lo, cfg, st, out, stats + g * NSTAT, msg, n))
            goto done;
        stats[g * NSTAT + S_STOP] = stop_here;
        if (stack) memcpy(stack + (size_t)(g - glo) * (size_t)L * esz, grad, (size_t)L * esz);
    }
    /* the statistics of every group on every rank, summed in group order */
    for (int r = 0; r < R; r++) {
        int64_t a, b;
        ranks_range(G, r, R, &a, &b);
        count[r] = (b - a) * NSTAT;
    }
    if (ranks_gather(stats + glo * NSTAT, stats, count, sizeof(double), 0)) {
        snprintf(msg, n, "gathering the step's statistics failed");
        goto done;
    }
    for (int64_t g = 0; g < G; g++)
        for (int k = 0; k < NSTAT; k++) tot[k] += stats[g * NSTAT + k];
    if (deterministic) {
        for (int r = 0; r < R; r++) count[r] = count[r] / NSTAT * L;
        if (ranks_gather(stack, stack, count, (int64_t)esz, 1)) {
            snprintf(msg, n, "gathering the gradients failed");
            goto done;
        }
        if (me == 0) { /* g_0 + g_1 + ... + g_{G-1}, left to right */
            memcpy(grad, stack, (size_t)L * esz);
            for (int64_t g = 1; g < G; g++) {
                if (esz == 8) {
                    double *d = grad, *s = (double *)stack + g * L;
                    for (int64_t i = 0; i < L; i++) d[i] += s[i];
                } else {
                    float *d = grad, *s = (float *)stack + g * L;
                    for (int64_t i = 0; i < L; i++) d[i] += s[i];
                }
            }
        }
        if (ranks_bcast(grad, L * (int64_t)esz)) {
            snprintf(msg, n, "broadcasting the gradient failed");
            goto done;
        }
    } else if (esz == 8 ? ranks_sum_f64(grad, L) : ranks_sum_f32(grad, L)) {
        snprintf(msg, n, "the gradient allreduce failed");
        goto done;
    }
    if (G < R && ranks_bcast(vae_ctx_rng(ctx), sizeof(vae_rng))) {
        snprintf(msg, n, "broadcasting the RNG state failed");
        goto done;
    }
    /* one vae_objective call's worth of state, from the global batch mean (as models/objective.c) */
    double signal = tot[S_SIGNAL] / (double)m;
    *st = st0;
    st->step++;
    if (!st->baseline_ready) {
        st->baseline = signal;
        st->baseline_ready = 1;
    } else
        st->baseline = cfg->baseline_decay * st->baseline + (1 - cfg->baseline_decay) * signal;
    out->loss = out->bound = NULL;
    out->bound_mean = tot[S_BOUND] / (double)m;
    out->signal_mean = signal;
    static const char *const names[] = {"rec", "kl", "elbo"};
    for (int k = 0; k < 3; k++)
        if (isfinite(vae_objective_out_value(out, names[k])))
            vae_objective_out_log(out, names[k], tot[S_REC + k] / (double)m);
    *stop = tot[S_STOP] > 0;
    rc = 0;
done:
    free(stats), free(count), free(stack);
    return rc;
}

int train_ranks_same_params(const vae_params *p, char *msg, size_t n) {
    if (ranks_size() == 1) return 0;
    size_t esz = vae_params_dtype(p) == VAE_F64 ? 8 : 4;
    uint32_t mine = vae_crc32(0, vae_params_values(p), (size_t)vae_params_flat_len(p) * esz),
             root = mine;
    if (ranks_bcast(&root, sizeof root) || ranks_any(mine != root)) {
        snprintf(msg, n, "the ranks' parameters differ (CRC %08x on rank %d, %08x on rank 0)",
                 (unsigned)mine, ranks_rank(), (unsigned)root);
        return -1;
    }
    return 0;
}
