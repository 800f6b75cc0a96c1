/* train_ranks.h - one training step's gradient over R ranks (data parallel), for vae train.
 *
 * The global minibatch x (m, D) is the same on every rank (same batch order, same binarization draws); rank r
 * computes the rows of its share, with the noise the single-process run draws for those rows
 * (vae_ctx_set_noise_rows), its loss scaled by m_r / m so that the sum over ranks is the gradient of the
 * single-process batch mean. Then:
 *   default                 one MPI_Allreduce (sum) of the flat gradient buffer: equal to the single-process
 *                           gradient within float rounding (the batch sum is split differently).
 *   deterministic (groups)  the batch is cut into G = min(m, TRAIN_RANKS_GROUPS) fixed groups, whatever R; each
 *                           group's gradient is computed on its own, gathered to rank 0 in group order, summed
 *                           there in that order and broadcast. Bit for bit the same for every R <= G, including
 *                           one process with the same flag (not the same bits as one process without it).
 * The step's statistics (bound, rec, kl, elbo, the MA baseline's signal) are batch means over all ranks, and the
 * moving-average baseline is updated from the global mean, so every rank holds the same objective state. A rank
 * left without rows (a last batch smaller than R, or R > G) adds a zero gradient and takes rank 0's RNG state.
 */
#ifndef VAE_CLI_TRAIN_RANKS_H
#define VAE_CLI_TRAIN_RANKS_H

#include "models/objective.h"

#define TRAIN_RANKS_GROUPS 8

/* Whether a step needs this file: more than one rank, or the deterministic reduction. */
int train_ranks_needed(int deterministic);
/* Zero the gradients and fill them with the gradient of the batch mean loss on x (m, D) f32 row-major, summed
 * over ranks; advance st as one single-process vae_objective call would, with the global signal mean; out's
 * bound_mean and rec/kl/elbo logs are global means (out->loss and out->bound are not kept). *stop = 1 on every rank
 * when stop_here is set on any. 0, or -1 with the reason in msg. */
int train_ranks_grad(vae_ctx *ctx, vae_net *net, const float *x, int64_t m, int64_t D,
                     const vae_objective_cfg *cfg, vae_objective_state *st, int deterministic,
                     int stop_here, vae_objective_out *out, int *stop, char *msg, size_t n);

/* Whether every rank holds the same parameter bits (a CRC of the flat values against rank 0's): a check that the
 * reductions gave every rank the same result. 0, or -1 with the reason in msg (on every rank). */
int train_ranks_same_params(const vae_params *p, char *msg, size_t n);

#endif
