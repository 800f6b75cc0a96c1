/* bayes_decoder.h - the building blocks of full variational Bayes over a layer's parameters (Kingma & Welling
 * 2014, appendix F), which vae_net uses for its decoder when cfg.bayes_decoder is set (vae_net.h).
 *
 *   q(theta) = N(mu, diag sigma^2), sigma = softplus(rho);  p(theta) = N(0, s^2 I)
 *   KL(q || p) = sum_j [ log(s / sigma_j) + (sigma_j^2 + mu_j^2) / (2 s^2) - 1/2 ]
 */
#ifndef VAE_BAYES_DECODER_H
#define VAE_BAYES_DECODER_H

#include "autograd/ops.h"
#include "nn/linear.h"

/* One Bayesian linear layer y = act(h W + b), h (..., in) -> y (..., out), with mu_w, rho_w (in, out) and mu_b,
 * rho_b (out,):
 *   zeta_w, zeta_b given (shapes of mu_w, mu_b): W = mu_w + softplus(rho_w) * zeta_w, b likewise (the caller's
 *     noise: one theta for every row of h);
 *   both NULL: the local reparameterization (Kingma, Salimans & Welling 2015): the pre-activation
 *     a = h mu_w + mu_b + sqrt(h^2 softplus(rho_w)^2 + softplus(rho_b)^2) * eps, eps ~ N(0, I) from ctx's RNG for
 *     every row and unit.
 * NULL on failure (ctx error: shapes, dtypes, only one zeta given). */
VAE_API vae_tensor *vae_bayes_linear(vae_ctx *ctx, vae_tensor *h, vae_tensor *mu_w,
                                     vae_tensor *mu_b, vae_tensor *rho_w, vae_tensor *rho_b,
                                     vae_tensor *zeta_w, vae_tensor *zeta_b, vae_activation act);
/* KL( N(mu, softplus(rho)^2) || N(0, s^2) ) summed over every element: a scalar (0-d). NULL on failure
 * (VAE_ERR_ARG for s <= 0, VAE_ERR_SHAPE when mu and rho differ). */
VAE_API vae_tensor *vae_bayes_kl(vae_ctx *ctx, vae_tensor *mu, vae_tensor *rho, double s);

#endif
