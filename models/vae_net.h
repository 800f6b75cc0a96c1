/* vae_net.h - the encoder/decoder pair of a VAE.
 *
 *   encoder  q(z|x) = N(mu(x), diag exp(logvar(x))):  x (B, D) -> MLP -> (B, 2Z) -> mu = [:, :Z], logvar = [:, Z:]
 *   decoder  p(x|z) = likelihood(decoder(z)):         z (..., Z) -> MLP -> (..., D * P)
 * where P is the likelihood's params_per_dim (1..VAE_LIK_MAX_PARAMS).
 * The decoder mirrors the encoder's hidden sizes. Parameters live in one store; encoder parameters are named
 * "enc.*" and decoder parameters "dec.*" (the estimator study groups gradients by that prefix).
 * With two stochastic layers (cfg.z2_dim > 0, models/vae_net_hier.c) the latent every objective sees is
 * z = concat(z1, z2) (..., Z + Z2): encode returns q(z1, z2|x) = q(z1|x) q(z2|z1), prior p(z1, z2) =
 * p(z2) p(z1|z2), and decode reads z1 = z[..., :Z].
 *
 * cfg.net "conv" (models/vae_net_conv.c) swaps the MLPs for a convolutional pair on h x w x c images (h, w
 * multiples of 4), c1, c2 = conv_ch (16, 32), k = 4, s = 2, p = 1, act = the hidden activation:
 *   encoder  x -> (c,h,w) -> conv(c1) act -> conv(c2) act -> flatten (c2*h/4*w/4) -> fc -> (2Z)
 *   decoder  z -> fc act -> (c2,h/4,w/4) -> convT(c1) act -> convT(c*P) -> (..., P*h*w*c) (layout of x, per P)
 * where fc is one linear layer, or an MLP through the hidden sizes conv_hidden (the decoder's reversed).
 *
 * The families (cfg blocks below) combine only where the result is correct; vae_net_init refuses the rest with the
 * reason: the conv net, discrete latents, the conditional VAE and the full-VB decoder take the MLP pair (the last
 * two may go together) with one Gaussian latent layer and no flow or learned prior; flows and learned priors do not
 * combine with two stochastic layers, and a flow not with the VampPrior.
 */
#ifndef VAE_NET_H
#define VAE_NET_H

#include "autograd/ops.h"
#include "models/dist.h"
#include "models/dist_builtin.h"
#include "models/likelihood.h"
#include "nn/conv.h"
#include "nn/mlp.h"
#include "nn/params.h"

#define VAE_NET_MAX_HIDDEN 8
#define VAE_NET_MAX_STOCH  2 /* stochastic layers */

typedef enum vae_init_kind { VAE_INIT_PYTORCH, VAE_INIT_XAVIER, VAE_INIT_NORMAL } vae_init_kind;
/* p(z|y) of a conditional VAE: learned N(mu(y), diag exp(logvar(y))), or the fixed N(0, I). */
typedef enum vae_cond_prior { VAE_COND_PRIOR_LEARNED, VAE_COND_PRIOR_NORMAL } vae_cond_prior;

/* The latent family (models/discrete.h for the discrete ones). */
typedef enum vae_latent_kind {
    VAE_LATENT_GAUSSIAN = 0, /* q(z|x) diagonal Normal, p(z) = N(0, I); the encoder outputs 2Z */
    VAE_LATENT_CATEGORICAL,  /* N one-hot variables of C classes, z (..., N * C), uniform prior */
    VAE_LATENT_BERNOULLI,    /* N bits, z (..., N), uniform prior */
} vae_latent_kind;

typedef struct vae_net_cfg {
    int64_t x_dim;                      /* D */
    int64_t z_dim;                      /* Z */
    int nhidden;                        /* 0..VAE_NET_MAX_HIDDEN */
    int64_t hidden[VAE_NET_MAX_HIDDEN]; /* encoder hidden sizes; the decoder uses them reversed */
    vae_act act;                        /* hidden activation */
    double act_alpha;                   /* for elu / leaky relu */
    char likelihood[32];                /* registry name, e.g. "bernoulli" */
    double lik_opts[VAE_LIK_MAX_OPTS];  /* likelihood options (e.g. fixed sigma); 0 = its default */
    vae_dtype dtype;
    vae_init_kind init;
    double init_sigma; /* VAE_INIT_NORMAL: N(0, sigma^2), Kingma & Welling used 0.01 */
    /* Two stochastic layers (Burda et al. 2016): z2_dim > 0 puts z2 (Z2) above z1 (the z_dim latent the
     * decoder reads), through MLPs with hidden sizes hidden2: q(z2|z1) Z -> hidden2 -> 2 Z2 and p(z1|z2)
     * Z2 -> hidden2 reversed -> 2 Z, both with `act`. 0 (the default) = one stochastic layer. */
    int64_t z2_dim;
    int nhidden2;
    int64_t hidden2[VAE_NET_MAX_HIDDEN];
    /* model families: flows in the posterior and richer priors (models/flow_prior.h); "" = none */
    char flow[32];  /* "planar:K" | "iaf:K" */
    char prior[32]; /* "mog:K" | "vamp:K" ("" = N(0, I)) */
    /* ---- network family (models/vae_net_conv.c) ---- */
    char net[16];            /* "mlp" (the default; "" reads as mlp) or "conv" */
    int img_h, img_w, img_c; /* conv: the geometry of x (B, h*w*c), pixels interleaved (h, w, c) */
    int64_t conv_ch[2];      /* conv: channels of its two stride-2 layers; 0 = 16, 32 */
    /* conv: fully connected hidden layers between the flattened features and the latent (encoder
     * c2*h/4*w/4 -> conv_hidden... -> 2Z; decoder Z -> reversed... -> features, all with `act`); 0 = one linear */
    int nconv_hidden;
    int64_t conv_hidden[VAE_NET_MAX_HIDDEN];
    /* discrete latents and the learned baseline (models/discrete.h) */
    vae_latent_kind latent_kind; /* VAE_LATENT_GAUSSIAN by default; discrete: the encoder outputs Z logits */
    int64_t latent_classes;      /* C of a categorical latent (z_dim = N * C); 0 otherwise */
    int64_t baseline_hidden; /* > 0: NVIL's input-dependent baseline b(x), an MLP D -> H tanh -> 1 ("bl.*") */
    /* model families; all 0 = the plain VAE above */
    int64_t n_classes;         /* conditional VAE (vae_net_cond.c): q(z|x,y), p(x|z,y), p(z|y), y in 0..C-1 */
    vae_cond_prior cond_prior; /* its p(z|y) */
    int bayes_decoder;         /* full VB (bayes_decoder.c): q(theta) = N(mu, softplus(rho)^2) over dec.* */
    double prior_scale;        /* p(theta) = N(0, s^2 I); 0 reads as 1 */
    int local_reparam;         /* train by sampling pre-activations (Kingma et al. 2015), not theta */
} vae_net_cfg;

typedef struct vae_bayes vae_bayes; /* bayes_decoder.c's state: sigma parameters, weight noise */

typedef struct vae_net {
    vae_net_cfg cfg;
    vae_params *params;
    const vae_likelihood *lik;
    vae_mlp enc; /* D -> hidden... -> 2Z ("enc.<i>.weight/bias") */
    vae_mlp dec; /* Z -> hidden reversed... -> D * params_per_dim ("dec.*") */
    vae_mlp enc2; /* two layers only: q(z2|z1), Z -> hidden2... -> 2 Z2 ("enc.z2.*") */
    vae_mlp dec2; /* two layers only: p(z1|z2), Z2 -> hidden2 reversed... -> 2 Z ("dec.z1.*") */
    struct vae_net_family *family; /* flow / prior parameters (opaque; flow_prior.h); NULL for the plain net */
    /* conv net (cfg.net "conv"): enc above is its head (flattened features -> 2Z, "enc.fc.0.*") and dec its stem
     * (Z -> features, "dec.fc.0.*"); these are the conv layers around them ("enc.conv<i>.*", "dec.convt<i>.*") */
    vae_conv2d_layer conv_enc[2], conv_dec[2];
    vae_mlp bl;  /* NVIL baseline D -> H -> 1 ("bl.*"), when cfg.baseline_hidden > 0 */
    /* runtime, not saved: the Gumbel-softmax relaxation the next encode hands to its q(z|x) (vae_objective sets
     * it for the gumbel estimator from its temperature schedule; discrete.h) */
    double relax_temperature; /* 0: none */
    int relax_hard;           /* straight-through: hard one-hot forward, relaxed backward */
    /* model families' state (zero when off) */
    vae_mlp prior;         /* conditional: one-hot y (C) -> (2Z), mu and logvar of p(z|y) ("prior.0.*") */
    const int64_t *labels; /* conditional: labels of the rows set (caller lifetime), vae_net_set_labels */
    int64_t nlabels, label_lo, label_m; /* ... and the current batch's window [label_lo, label_lo + label_m) */
    vae_bayes *bayes;      /* full VB decoder */
} vae_net;

/* Fill cfg with defaults: 784-400-(20) ReLU Bernoulli, f32, PyTorch init. */
VAE_API void vae_net_cfg_default(vae_net_cfg *cfg);
/* Build the parameters and initialize them from rng. On failure (bad sizes, unknown likelihood, OOM) returns the
 * code with a message in err and leaves net zeroed. */
VAE_API vae_status vae_net_init(vae_net *net, const vae_net_cfg *cfg, vae_rng *rng, vae_error *err);
/* Free the parameters; a zeroed or NULL net is harmless. */
VAE_API void vae_net_free(vae_net *net);
/* Set the decoder's output bias to the data's mean logit (Burda et al.), for Bernoulli-type likelihoods;
 * mean is D pixel means. Does nothing for other likelihoods. */
VAE_API void vae_net_init_output_bias(vae_net *net, const float *mean);

/* q(z|x) for x (B, D): a diagonal Normal with loc (B, Z) and log-variance (B, Z), which are also stored in *mu and
 * *logvar when those are non-NULL. With two stochastic layers, q(z1, z2|x) over (B, Z + Z2) (rsample draws z1,
 * then z2 given it), and *mu, *logvar are those of the mean path: q(z1|x)'s, then q(z2|z1 = mu1)'s (the
 * posterior moments of z2 are vae_encode_all's). With cfg.flow, the Normal pushed through the flow (flow_prior.h:
 * its log_prob answers at the z it drew), *mu and *logvar being the base Normal's. For discrete latents a
 * Categorical (one-hot events over (B, N * C)) or a Bernoulli from the encoder's logits (B, Z): *mu receives the
 * probabilities and *logvar the logits. NULL on failure (ctx error). */
VAE_API vae_dist *vae_net_encode(vae_ctx *ctx, vae_net *net, vae_tensor *x, vae_tensor **mu,
                         vae_tensor **logvar);
/* The prior p(z) of the current batch, a distribution whose event is the latent (Z): every objective,
 * estimator and evaluation takes log p(z) from here (N(0, I) for the plain net). Model families with a richer
 * prior (mixtures, conditional or hierarchical priors) return it here. NULL on failure (ctx error). */
VAE_API vae_dist *vae_net_prior(vae_ctx *ctx, vae_net *net);
/* 1 when KL(q(z|x) || p(z)) has the closed form of a diagonal Normal against N(0, I) (vae_normal_kl_std on
 * encode's mu and logvar); 0 when objectives must estimate the KL by Monte Carlo (discrete latents: their closed
 * form against the uniform prior is vae_discrete_kl, which evaluation uses). */
VAE_API int vae_net_analytic_kl(const vae_net *net);
/* The width of the latent z that encode draws and decode reads: Z, or Z + Z2 with two stochastic layers. */
VAE_API int64_t vae_net_latent_dim(const vae_net *net);
/* The number of stochastic layers (1 or 2); their widths, z1 first, into dims[VAE_NET_MAX_STOCH] when non-NULL
 * (z holds them side by side in that order; dims[1] = 0 for one layer). */
VAE_API int vae_net_stoch_layers(const vae_net *net, int64_t *dims);
/* ---- conditional VAE (net->cfg.n_classes > 0; every call below is a no-op for other nets) ----
 * The encoder reads concat(x, onehot y), the decoder concat(z, onehot y) (y broadcast over z's leading particle
 * dims), the prior is p(z|y). The labels reach them through the net, so every objective runs unchanged. */
/* Set the labels y[0..n) of the rows that follow (caller lifetime: not copied); the current batch is all n of
 * them until vae_net_select_labels. NULL clears. VAE_ERR_ARG (nothing changed) for a label outside 0..C-1. */
VAE_API vae_status vae_net_set_labels(vae_net *net, const int64_t *y, int64_t n, vae_error *err);
/* Make rows [i0, i0 + m) of the labels set those of the next batch (what a loop over a data set in batches
 * calls; vae_evaluate and vae_encode_all do). Out-of-range windows surface as an error at the next encode. */
VAE_API void vae_net_select_labels(vae_net *net, int64_t i0, int64_t m);
/* 1 when the net is conditional. */
VAE_API int vae_net_conditional(const vae_net *net);

/* ---- full variational Bayes over the decoder (net->cfg.bayes_decoder) ----
 * decode uses theta = mu + sigma * zeta with zeta the net's current weight noise: 0 (the posterior mean) until
 * vae_net_resample_weights draws it. vae_objective draws a fresh theta per minibatch and adds the parameter KL. */
typedef enum vae_weight_mode {
    VAE_WEIGHTS_MEAN,   /* theta = mu */
    VAE_WEIGHTS_SAMPLE, /* theta = mu + sigma * zeta, zeta fixed until the next resample */
    VAE_WEIGHTS_LOCAL   /* local reparameterization: each pre-activation drawn per datum, per decode */
} vae_weight_mode;
/* Draw a new zeta ~ N(0, I) from rng and use it (VAE_WEIGHTS_SAMPLE); no-op for other nets. */
VAE_API void vae_net_resample_weights(vae_net *net, vae_rng *rng);
/* Use theta = mu (VAE_WEIGHTS_MEAN) or the local reparameterization; no-op for other nets. */
VAE_API void vae_net_set_weight_mode(vae_net *net, vae_weight_mode mode);
/* N, the training set's size: the KL(q(theta) || p(theta)) of the data set enters a batch-mean loss as KL / N
 * (with the N/M scaling of vae_objective_cfg.data_size it enters whole). No-op for other nets. */
VAE_API void vae_net_set_data_size(vae_net *net, int64_t n);
/* KL(q(theta) || p(theta)) in closed form, summed over every decoder weight and bias: a scalar (0 for other
 * nets). NULL on failure. */
VAE_API vae_tensor *vae_net_weight_kl(vae_ctx *ctx, vae_net *net);

/* p(x|z) for z (..., Z): the likelihood over (..., D). NULL on failure. */
VAE_API vae_dist *vae_net_decode(vae_ctx *ctx, vae_net *net, vae_tensor *z);
/* The likelihood's mean E[x|z] (..., D) for pictures (sigmoid of the logits for Bernoulli). NULL on failure. */
VAE_API vae_tensor *vae_net_decode_mean(vae_ctx *ctx, vae_net *net, vae_tensor *z);

#endif
