/* The VampPrior (Tomczak & Welling 2018, eq. 9): a mixture of the variational posterior at K learned
 * pseudo-inputs u_k (K, D), passed through the same encoder:
 *
 *   p(z) = (1/K) sum_k q(z | u_k),   q(z | u_k) = N(z; mu(u_k), diag exp(logvar(u_k)))
 *
 * so log p(z) = logsumexp_k log N(z; mu_k, v_k) - log K (vae__mixture_log_prob with uniform weights). The encoder
 * and the pseudo-inputs both get gradients from the prior term. Shapes: u (K, D) -> mu, logvar (K, Z).
 */
#include "models/flow_prior_internal.h"

vae_dist *vae__vamp_prior(vae_ctx *ctx, vae_net *net) {
    vae_tensor *mu, *lv;
    if (vae__encoder_base(ctx, net, net->family->vamp_u, &mu, &lv, NULL)) return NULL;
    return vae_gaussian_mixture(ctx, mu, lv, NULL);
}
