/* The planar flow step (Rezende & Mohamed 2015, eqs. 10-12 and appendix A.1).
 *
 *   f(z) = z + u^ h(w.z + b),  h = tanh
 *   u^   = u + (m(w.u) - w.u) w / |w|^2,  m(a) = -1 + softplus(a)     (so w.u^ = m(w.u) > -1: f is invertible)
 *   log |det df/dz| = log |1 + u^.psi(z)|,  psi(z) = h'(w.z + b) w,  so u^.psi = (1 - tanh^2(w.z + b)) m(w.u)
 *   and 1 + u^.psi > 0 always (no abs needed).
 * Shapes: z (..., Z); u, w (..., Z) and b (..., 1) broadcast against z (amortized: (B, Z), z (L, B, Z));
 * f(z) has z's shape, log|det| the broadcast shape without the last dim.
 */
#include "models/flow_prior.h"

static vae_tensor *dot_last(vae_ctx *ctx, vae_tensor *a, vae_tensor *b) { /* (..., 1) */
    return vae_sum(ctx, vae_mul(ctx, a, b), 1, (int[]){-1}, 1);
}

vae_tensor *vae_planar_flow(vae_ctx *ctx, vae_tensor *z, vae_tensor *u, vae_tensor *w,
                            vae_tensor *b, vae_tensor **logdet) {
    if (!ctx || !z || !u || !w || !b || !logdet) return NULL;
    vae_tensor *wu = dot_last(ctx, w, u);                             /* (..., 1) */
    vae_tensor *m = vae_add_scalar(ctx, vae_softplus(ctx, wu), -1.0); /* m(w.u) = w.u^ */
    vae_tensor *uhat =
        vae_add(ctx, u, vae_mul(ctx, vae_div(ctx, vae_sub(ctx, m, wu), dot_last(ctx, w, w)), w));
    vae_tensor *t = vae_tanh(ctx, vae_add(ctx, dot_last(ctx, w, z), b)); /* (..., 1) */
    vae_tensor *f = vae_add(ctx, z, vae_mul(ctx, uhat, t));
    /* 1 + (1 - t^2) m = 1 + psi.u^ */
    vae_tensor *psi_u = vae_mul(ctx, vae_add_scalar(ctx, vae_neg(ctx, vae_square(ctx, t)), 1.0), m);
    vae_tensor *ld = vae_squeeze(ctx, vae_log1p(ctx, psi_u), -1);
    if (!f || !ld) return NULL;
    *logdet = ld;
    return f;
}
