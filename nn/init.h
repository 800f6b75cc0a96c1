/* init.h - parameter initializers, each drawing from an explicit RNG (no hidden global state).
 *
 * Every initializer writes all elements of a writable tensor (any strides, f32 or f64) in row-major order, so a
 * given seed gives the same values on every platform. Fan-based ones need a 2-d weight in this library's Linear
 * layout W (in, out): fan_in = shape[0], fan_out = shape[1].
 *
 * On failure (NULL tensor or RNG: VAE_ERR_NULL; a broadcast (read-only) tensor, a weight that is not 2-d or has a
 * zero fan, a negative std or lo > hi: VAE_ERR_ARG/VAE_ERR_SHAPE) the error goes to err and the tensor is untouched.
 */
#ifndef VAE_INIT_H
#define VAE_INIT_H

#include "tensor/error.h"
#include "tensor/rng.h"
#include "tensor/tensor.h"

/* Gain of Kaiming init for a leaky ReLU of negative slope a: sqrt(2 / (1 + a^2)) (a = 0: ReLU, sqrt(2)). Never
 * fails. */
VAE_API double vae_init_kaiming_gain(double a);

/* U(lo, hi) elementwise. */
VAE_API vae_status vae_init_uniform(vae_tensor *t, double lo, double hi, vae_rng *rng, vae_error *err);
/* N(mean, std^2) elementwise (Kingma & Welling 2014 used N(0, 0.01^2) for every weight and bias). */
VAE_API vae_status vae_init_normal(vae_tensor *t, double mean, double std, vae_rng *rng, vae_error *err);
/* Every element = v. */
VAE_API vae_status vae_init_constant(vae_tensor *t, double v, vae_error *err);

/* Xavier/Glorot uniform: U(-b, b), b = gain * sqrt(6 / (fan_in + fan_out)). */
VAE_API vae_status vae_init_xavier_uniform(vae_tensor *w, double gain, vae_rng *rng, vae_error *err);
/* Xavier/Glorot normal: N(0, s^2), s = gain * sqrt(2 / (fan_in + fan_out)). */
VAE_API vae_status vae_init_xavier_normal(vae_tensor *w, double gain, vae_rng *rng, vae_error *err);
/* Kaiming/He uniform (fan_in mode) for a leaky ReLU of negative slope a (0 = ReLU): U(-b, b),
 * b = sqrt(3) * vae_init_kaiming_gain(a) / sqrt(fan_in). */
VAE_API vae_status vae_init_kaiming_uniform(vae_tensor *w, double a, vae_rng *rng, vae_error *err);
/* Kaiming/He normal (fan_in mode): N(0, s^2), s = vae_init_kaiming_gain(a) / sqrt(fan_in). */
VAE_API vae_status vae_init_kaiming_normal(vae_tensor *w, double a, vae_rng *rng, vae_error *err);

/* PyTorch's default for nn.Linear: W ~ kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the
 * bias (may be NULL; shape (out,)) ~ the same U(-1/sqrt(fan_in), 1/sqrt(fan_in)). W is drawn first, then b. On
 * failure (also VAE_ERR_SHAPE for a bias that is not (out,)) neither tensor is touched. */
VAE_API vae_status vae_init_linear_default(vae_tensor *w, vae_tensor *b, vae_rng *rng, vae_error *err);

/* Decoder output bias at the data's mean logit (Burda et al. 2016): b_j = log(p_j / (1 - p_j)) with
 * p_j = data_mean[j] clamped to [eps, 1 - eps], so sigmoid(b) starts at the pixel means. data_mean has numel(bias)
 * entries. Fails (bias untouched) on NULL arguments (VAE_ERR_NULL) or eps outside (0, 0.5) (VAE_ERR_ARG). */
VAE_API vae_status vae_init_bias_logit_mean(vae_tensor *bias, const float *data_mean, double eps,
                                    vae_error *err);

#endif
