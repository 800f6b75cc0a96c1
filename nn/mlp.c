/* MLP: builder and forward over vae_linear_forward. */
#include "mlp.h"

#include <stdio.h>

vae_status vae_mlp_init(vae_mlp *m, vae_params *p, const char *name, int nsizes,
                        const int64_t *sizes, vae_activation act, int act_last, vae_error *err) {
    if (!m || !p || !name || !sizes)
        return vae_error_set(err, VAE_ERR_NULL, "mlp_init: NULL argument");
    if (nsizes < 2 || nsizes > VAE_MLP_MAX_LAYERS + 1)
        return vae_error_set(err, VAE_ERR_ARG, "mlp_init: '%s': %d sizes is outside 2..%d", name,
                             nsizes, VAE_MLP_MAX_LAYERS + 1);
    if ((int)act.kind < 0 || act.kind >= VAE_ACT_COUNT_)
        return vae_error_set(err, VAE_ERR_ARG, "mlp_init: '%s': unknown activation %d", name,
                             (int)act.kind);
    vae_mlp tmp = {.nlayers = nsizes - 1, .act = act, .act_last = act_last != 0};
    int n0 = vae_params_count(p);
    vae_error e = {VAE_OK, ""};
    for (int i = 0; i < tmp.nlayers; i++) {
        char ln[VAE_PARAMS_MAX_NAME + 2];
        int k = snprintf(ln, sizeof ln, "%s.%d", name, i);
        if (k < 0 || k > VAE_PARAMS_MAX_NAME)
            vae_error_set(&e, VAE_ERR_ARG, "name '%.40s...' is too long", name);
        else
            vae_linear_init(&tmp.layer[i], p, ln, sizes[i], sizes[i + 1], 1, &e);
        if (e.code) {
            vae_params_truncate(p, n0);
            return vae_error_set(err, e.code, "mlp_init: %s", e.msg);
        }
    }
    *m = tmp;
    return VAE_OK;
}

vae_status vae_mlp_reset(const vae_mlp *m, vae_rng *rng, vae_error *err) {
    if (!m || !rng) return vae_error_set(err, VAE_ERR_NULL, "mlp_reset: NULL argument");
    /* every layer was validated by vae_mlp_init, so the per-layer calls below cannot fail half-way */
    for (int i = 0; i < m->nlayers; i++) {
        vae_status st = vae_linear_reset(&m->layer[i], rng, err);
        if (st) return st;
    }
    return VAE_OK;
}

vae_tensor *vae_mlp_forward(vae_ctx *ctx, const vae_mlp *m, vae_tensor *x) {
    if (!ctx) return NULL;
    if (!m || m->nlayers < 1) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_NULL, "mlp: NULL or empty MLP");
        return NULL;
    }
    vae_activation none = vae_act_default(VAE_ACT_IDENTITY);
    vae_tensor *h = x;
    for (int i = 0; i < m->nlayers; i++) {
        int last = i == m->nlayers - 1;
        h = vae_linear_forward(ctx, &m->layer[i], h, (last && !m->act_last) ? none : m->act);
    }
    return h;
}
