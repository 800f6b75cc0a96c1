/* One step of inverse autoregressive flow (Kingma et al. 2016, section 4 and its numerically stable variant):
 *
 *   [m, s] = MADE(z, h)               (m_i and s_i depend on z_<i only, in the step's variable order)
 *   sigma  = sigmoid(s)
 *   z'     = sigma * z + (1 - sigma) * m
 *   log |det dz'/dz| = sum_i log sigma_i   (the Jacobian is triangular with diagonal sigma)
 * MADE (Germain et al. 2015): hidden = act(z @ (W_in * M_in) + b_in + h @ W_ctx), [m | s] = hidden @ (W_out * M_out)
 * + b_out, with M_in, M_out constant 0/1 tensors (vae_made_masks) multiplied into the weights, so the autoregressive
 * property holds for any weights and the gradient of a masked weight is zero.
 * Shapes: z (..., Z), h (..., C) broadcasting against z's leading dims, hidden (..., H), [m | s] (..., 2Z).
 */
#include "models/flow_prior.h"

void vae_made_masks(int64_t Z, int64_t H, int reverse, double *mask_in, double *mask_out) {
    for (int64_t j = 0; j < H; j++) {
        int64_t dh = Z > 1 ? 1 + j % (Z - 1) : 0; /* hidden degree in 1..Z-1 */
        for (int64_t i = 0; i < Z; i++) {
            int64_t d = reverse ? Z - i : i + 1; /* input/output degree in 1..Z */
            mask_in[i * H + j] = dh >= d;
            mask_out[j * 2 * Z + i] = mask_out[j * 2 * Z + Z + i] = d > dh;
        }
    }
}

vae_tensor *vae_iaf_step(vae_ctx *ctx, const vae_made *m, vae_tensor *z, vae_tensor *h,
                         vae_tensor **logdet) {
    if (!ctx || !m || !z || !logdet) return NULL;
    if (m->w_ctx && !h) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_NULL,
                      "iaf_step: the MADE has a context but h is NULL");
        return NULL;
    }
    vae_activation none = vae_act_default(VAE_ACT_IDENTITY);
    int64_t Z = z->shape[z->ndim - 1];
    vae_tensor *pre =
        vae_linear_act(ctx, z, vae_mul(ctx, m->w_in, m->mask_in), m->b_in, none.kind, 1.0);
    if (m->w_ctx) pre = vae_add(ctx, pre, vae_linear_act(ctx, h, m->w_ctx, NULL, none.kind, 1.0));
    vae_tensor *hid = vae_act_apply(ctx, pre, m->act); /* (..., H) */
    vae_tensor *out =
        vae_linear_act(ctx, hid, vae_mul(ctx, m->w_out, m->mask_out), m->b_out, none.kind, 1.0);
    vae_tensor *mean = vae_slice(ctx, out, -1, 0, Z, 1), *s = vae_slice(ctx, out, -1, Z, 2 * Z, 1);
    vae_tensor *sigma = vae_sigmoid(ctx, s);
    vae_tensor *zn =
        vae_add(ctx, mean, vae_mul(ctx, sigma, vae_sub(ctx, z, mean))); /* m + sigma (z - m) */
    vae_tensor *ld = vae_sum(ctx, vae_log_sigmoid(ctx, s), 1, (int[]){-1}, 0);
    if (!zn || !ld) return NULL;
    *logdet = ld;
    return zn;
}
