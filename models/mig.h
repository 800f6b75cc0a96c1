/* mig.h - the mutual information gap (Chen et al. 2018, "Isolating sources of disentanglement in
 * VAEs").
 *
 *   MIG = (1/K) sum_k (I(z_j1; v_k) - I(z_j2; v_k)) / H(v_k)
 * where j1, j2 are the latents with the largest and second largest mutual information with factor
 * v_k. As in the paper's discrete estimator (and disentanglement_lib), each latent mean is
 * discretized into `bins` equal-width bins over its observed range and the MI is computed from the
 * empirical joint histogram. Factors that take a single value in the data (H = 0) are left out of
 * the average.
 */
#ifndef VAE_MODELS_MIG_H
#define VAE_MODELS_MIG_H

#include <stdint.h>

#include "tensor/error.h"

#define VAE_MIG_BINS 20 /* the usual number of bins per latent */

/* MIG of latent means mu (n, Z) against known factors (n, nf) given as level indices, level <
 * sizes[k] (a vae_dataset's factors and factor_sizes). per_factor (nf, may be NULL) receives each
 * factor's normalized gap (NaN for a constant factor); *mig is their mean (NaN when every factor is
 * constant). Fails with VAE_ERR_ARG (n < 1, Z < 2, nf < 1, bins < 2, a size outside [1, 10^6], a
 * level out of range, n * Z overflows), VAE_ERR_NULL on NULL, VAE_ERR_OOM; per_factor and *mig are
 * then unchanged. */
VAE_API vae_status vae_mig(const float *mu, int64_t n, int64_t Z, const int64_t *factors, int nf,
                           const int64_t *sizes, int bins, double *per_factor, double *mig,
                           vae_error *err);

#endif
