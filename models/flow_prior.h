/* flow_prior.h - flows in the posterior and richer priors, as model families of vae_net.
 *
 * Posterior flows (vae_net_cfg.flow, "planar:K" or "iaf:K"): z_0 ~ q_0(z|x) = N(mu(x), diag exp(logvar(x))) is
 * pushed through K invertible steps z_k = f_k(z_{k-1}), and
 *     log q(z_K|x) = log q_0(z_0|x) - sum_k log |det d f_k / d z_{k-1}|.
 *   planar (Rezende & Mohamed 2015)  f(z) = z + u^ tanh(w.z + b),  u^ = u + (m(w.u) - w.u) w / |w|^2,
 *                                     m(a) = -1 + softplus(a), so w.u^ > -1 and f is invertible;
 *                                     log|det| = log(1 + (1 - tanh^2(w.z + b)) w.u^).
 *                                     u, w, b are AMORTIZED: one linear layer "enc.flow.amort" maps the encoder's
 *                                     last hidden layer h(x) (x itself without hidden layers) to the K steps'
 *                                     (u, w, b), as in the paper.
 *   iaf (Kingma et al. 2016)          [m, s] = MADE_k(z, h),  sigma = sigmoid(s),  z' = sigma * z + (1 - sigma) * m
 *                                     (the numerically stable LSTM-type update); log|det| = sum_i log sigma_i.
 *                                     MADE: one masked hidden layer of the encoder's last hidden size (2Z without
 *                                     hidden layers), the net's activation, the context h(x) added unmasked to its
 *                                     pre-activation; masks are constant 0/1 tensors multiplied into the weights;
 *                                     odd steps reverse the variable order. Parameters "enc.flow.<k>.*".
 * The flow posterior is a vae_dist whose rsample/sample return z_K and remember (z_K, log q(z_K|x)); log_prob of
 * that same tensor returns it (like Pyro's cached TransformedDistribution). log_prob at any other z is refused
 * (VAE_ERR_UNSUPPORTED): the density at a given z needs f^-1, which neither flow provides in closed form. Hence:
 *   reparam  works (log q along the sampling path);
 *   stl/dreg need log q with DETACHED variational parameters at a z that carries the path gradient, i.e.
 *            log q_sg(phi)(f_phi(eps)), which needs f^-1: refused (vae_dist_detached fails, and
 *            vae_net_family_check refuses the combination at configuration time);
 *   score    needs grad_phi log q_phi(z) at a FIXED z, again through f^-1: refused the same way.
 * vae_net_encode's mu and logvar are those of the base q_0 for a flow.
 *
 * Priors (vae_net_cfg.prior, "mog:K" or "vamp:K"); KL(q || p) has no closed form, so objectives take the Monte-
 * Carlo KL (vae_net_analytic_kl is 0):
 *   mog   p(z) = sum_k pi_k N(z; m_k, diag exp(v_k)), pi = softmax(logits): learned "prior.mog.mean" (K, Z)
 *         (initialized N(0, 1)), "prior.mog.logvar" (K, Z) (0), "prior.mog.logits" (K) (0).
 *   vamp  p(z) = (1/K) sum_k q(z|u_k) (Tomczak & Welling 2018) with K learned pseudo-inputs "prior.vamp.u" (K, D)
 *         (initialized N(0.05, 0.01^2) as in the authors' code, without their hardtanh) passed through the same
 *         encoder. With a flow, q(z|u_k) would be the flow density at an arbitrary z (f^-1 again): flow + vamp is
 *         refused.
 * Every function here returns NULL (or an error code) on failure with the message in ctx / err.
 */
#ifndef VAE_FLOW_PRIOR_H
#define VAE_FLOW_PRIOR_H

#include "models/estimators.h"

#define VAE_FLOW_MAX_STEPS       64
#define VAE_PRIOR_MAX_COMPONENTS 4096

typedef enum vae_flow_kind { VAE_FLOW_NONE, VAE_FLOW_PLANAR, VAE_FLOW_IAF } vae_flow_kind;
typedef enum vae_prior_kind { VAE_PRIOR_STD_NORMAL, VAE_PRIOR_MOG, VAE_PRIOR_VAMP } vae_prior_kind;

/* Parse a flow spec: "" or "none" (no flow), "planar:K", "iaf:K" (K in 1..VAE_FLOW_MAX_STEPS) into *kind and *k
 * (may be NULL). VAE_ERR_ARG with the reason otherwise (outputs unchanged). */
VAE_API vae_status vae_flow_spec_parse(const char *spec, vae_flow_kind *kind, int *k,
                                       vae_error *err);
/* Parse a prior spec: "" or "normal" (N(0, I)), "mog:K", "vamp:K" (K in 1..VAE_PRIOR_MAX_COMPONENTS).
 * VAE_ERR_ARG with the reason otherwise (outputs unchanged). */
VAE_API vae_status vae_prior_spec_parse(const char *spec, vae_prior_kind *kind, int *k,
                                        vae_error *err);
/* Check cfg's flow and prior specs, their combination (vamp with a flow is refused) and that the estimator est
 * (vae_estimator) can train this posterior (a flow: reparam only, see above). VAE_OK or VAE_ERR_ARG (reason). */
VAE_API vae_status vae_net_family_check(const vae_net_cfg *cfg, vae_estimator est, vae_error *err);

/* One planar step on z (..., Z) with u, w (..., Z) and b (..., 1) broadcasting against z: returns f(z) (z's shape)
 * and stores log|det df/dz| (...) in *logdet (u is reparameterized to u^ inside). NULL on failure. */
VAE_API vae_tensor *vae_planar_flow(vae_ctx *ctx, vae_tensor *z, vae_tensor *u, vae_tensor *w,
                                    vae_tensor *b, vae_tensor **logdet);

/* A MADE with one hidden layer for an IAF step: z (..., Z) -> hidden (..., H) -> [m | s] (..., 2Z). */
typedef struct vae_made {
    vae_tensor *w_in, *b_in;   /* (Z, H), (H) */
    vae_tensor *w_ctx;         /* (C, H) context weights (unmasked), or NULL without a context */
    vae_tensor *w_out, *b_out; /* (H, 2Z), (2Z): m = [:, :Z], s = [:, Z:] */
    vae_tensor *mask_in;       /* (Z, H) constant 0/1 */
    vae_tensor *mask_out;      /* (H, 2Z) constant 0/1 */
    vae_activation act;
} vae_made;
/* MADE masks for Z inputs and H hidden units, row-major into mask_in (Z * H) and mask_out (H * 2Z): input i has
 * degree i + 1 (Z - i when reverse), hidden unit j degree 1 + j mod (Z - 1) (0 when Z = 1: it sees no input),
 * mask_in[i][j] = deg_h(j) >= deg(i), mask_out[j][i] = mask_out[j][Z + i] = deg(i) > deg_h(j); so output i
 * depends on inputs of lower degree only (a strictly lower-triangular Jacobian in that order). */
VAE_API void vae_made_masks(int64_t Z, int64_t H, int reverse, double *mask_in, double *mask_out);
/* One IAF step on z (..., Z) with context h (..., C) (NULL when m->w_ctx is NULL): returns
 * sigma * z + (1 - sigma) * m and stores log|det| = sum_i log sigma_i (...) in *logdet. NULL on failure. */
VAE_API vae_tensor *vae_iaf_step(vae_ctx *ctx, const vae_made *m, vae_tensor *z, vae_tensor *h,
                                 vae_tensor **logdet);

/* A mixture of diagonal Gaussians over Z: p(z) = sum_k pi_k N(z; mean_k, diag exp(logvar_k)), mean and logvar
 * (K, Z), logits (K) (pi = softmax(logits); NULL: pi_k = 1/K). Its shape is (Z) (event Z, no batch), like the
 * N(0, I) prior: log_prob(z (..., Z)) is (...); sample(k) draws (k, Z) ancestrally from ctx's RNG; no rsample. */
VAE_API extern const vae_dist_ops vae_mixture_ops;
VAE_API vae_dist *vae_gaussian_mixture(vae_ctx *ctx, vae_tensor *mean, vae_tensor *logvar,
                                       vae_tensor *logits);
/* The flow posterior's ops (d->ops == &vae_flow_posterior_ops for a net with a flow). */
VAE_API extern const vae_dist_ops vae_flow_posterior_ops;

/* n draws from net's prior into z (n * vae_net_latent_dim floats, row-major): N(0, I) from rng (the values
 * `vae sample` has always drawn), or ancestral draws from a mixture or two-layer prior (rng drives ctx's RNG for
 * the call). Uses ctx as scratch
 * (resets it). VAE_OK, or the ctx's error. */
VAE_API vae_status vae_net_prior_draw(vae_ctx *ctx, vae_net *net, int64_t n, vae_rng *rng,
                                      float *z);

#endif
