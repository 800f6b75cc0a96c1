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
#ifndef VAE_CLI_MIG_H
#define VAE_CLI_MIG_H

#include <stdint.h>

#define MIG_BINS 20

/* mu (n, Z) latent means; factors (n, nf) level indices, level < sizes[k]. per_factor (nf, may be
 * NULL) receives each factor's normalized gap (NaN for a constant factor). Returns 0 with *mig set,
 * or -1 on a bad argument (n < 1, Z < 2, a level out of range, OOM). */
int mig_compute(const float *mu, int64_t n, int64_t Z, const int64_t *factors, int nf,
                const int64_t *sizes, int bins, double *per_factor, double *mig);

#endif
