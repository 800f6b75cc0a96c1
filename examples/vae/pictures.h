/* pictures.h - what a researcher looks at after training: samples, reconstructions, latent
 * traversals, the 2-D manifold and the learning curve; CSV files in place of images for tabular
 * data.
 *
 * Every picture shows decoder means (sigmoid of the logits for Bernoulli, the mean for Gaussians),
 * not noisy draws. Writers are atomic (the io/ PNG and plot writers), so a crash never leaves a
 * half-written picture.
 */
#ifndef VAE_CLI_PICTURES_H
#define VAE_CLI_PICTURES_H

#include <stddef.h>
#include <stdint.h>

#include "autograd/context.h"
#include "nn/dataset.h"
#include "models/vae_net.h"
#include "run_config.h"

/* Decoder means for m latent codes z (m, Z) into out (m, D) (model units: standardized for tabular
 * data). ctx is scratch. 0, or -1 with the reason in msg. */
int pic_decode_means(vae_ctx *ctx, vae_net *net, const float *z, int64_t m, float *out, char *msg,
                     size_t n);

/* Write n images (n, D) of the run's geometry as a grid PNG (ncols <= 0: square-ish). Values are in
 * model units
 * ([0, 1] for images). 0 or -1 with msg. */
int pic_write_grid(const run_config *cfg, const char *path, const float *imgs, int n, int ncols,
                   char *msg, size_t msglen);
/* Write m rows (m, D) of model-unit values as CSV in original units (un-standardized), header
 * x0..x{D-1}. */
int pic_write_csv(const run_config *cfg, const char *path, const float *rows, int64_t m, char *msg,
                  size_t msglen);

/* n samples from the prior into dir/samples.png (images) or dir/samples.csv (tabular), and their
 * decoder means into dir/samples.npy when write_npy. The draws come from rng. A conditional model
 * draws from p(z|y): class cls for every sample (cls >= 0), else one class per row of 8. 0 or -1
 * with msg; *written names the picture. */
int pic_samples(vae_ctx *ctx, vae_net *net, const run_config *cfg, const char *dir, int n,
                vae_rng *rng, int write_npy, int64_t cls, char *msg, size_t msglen);

/* All pictures of a finished (or checkpointed) run into dir: samples, reconstructions of the first
 * examples of `data`, traversals of the first example along each latent (rows ordered by
 * kl_per_dim, descending; may be NULL), the 2-D manifold when Z = 2. Tabular data gets samples.csv
 * and reconstructions.csv instead. 0 or -1 with msg. */
int pic_all(vae_ctx *ctx, vae_net *net, const run_config *cfg, const vae_dataset *data,
            const double *kl_per_dim, const char *dir, char *msg, size_t msglen);

/* learning_curve.png and .svg per epoch: the training bound and the validation bound (both named
 * bound_name, e.g. "iwae:k=5") and the validation ELBO (valid series may be all NaN). */
int pic_learning_curve(const char *dir, const char *bound_name, const double *train_bound,
                       const double *valid_bound, const double *valid_elbo, int n, char *msg,
                       size_t msglen);

/* Inverse of the standard normal CDF for p in (0, 1) (Acklam's rational approximation, one Newton
 * refinement). */
double norm_ppf(double p);

#endif
