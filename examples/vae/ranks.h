/* ranks.h - the `vae` tool across processes: data-parallel training and sharded evaluation.
 *
 * Built with -Dmpi (VAE_HAVE_MPI) and started by a launcher (mpirun, mpiexec, srun), the tool is one of R ranks of
 * MPI_COMM_WORLD; otherwise, and always in the default build, it is rank 0 of 1 and every call below is a no-op
 * or a copy. Only this file and ranks.c know about MPI: the library stays MPI-free.
 *
 * Calls are collective (every rank makes them, in the same order). A failing collective returns -1; the tool then
 * stops every rank through ranks_finish (MPI_Abort), since the others would wait for it forever.
 */
#ifndef VAE_CLI_RANKS_H
#define VAE_CLI_RANKS_H

#include <stdint.h>

/* Join the launcher's job when there is one (MPI_Init_thread, funneled: only the main thread talks). 0 or -1. */
int ranks_init(void);
/* Leave it: MPI_Finalize when the command succeeded or every rank stopped together (exit code 0 or 130), else
 * MPI_Abort with exit_code so no rank is left waiting. Returns exit_code. */
int ranks_finish(int exit_code);
int ranks_rank(void);
int ranks_size(void);
/* Contiguous share [lo, hi) of n items of rank r of size ranks (the first n % size ranks take one more). */
void ranks_range(int64_t n, int r, int size, int64_t *lo, int64_t *hi);

/* In-place sum over ranks of n floats / doubles (MPI_Allreduce; every rank gets the same bits). */
int ranks_sum_f32(float *buf, int64_t n);
int ranks_sum_f64(double *buf, int64_t n);
/* Gather: each rank gives count[rank] items of `size` bytes at mine; all (count[0] + ... items) gets them in rank
 * order on rank 0 only (root_only) or on every rank. mine may already be the rank's own place in all. */
int ranks_gather(const void *mine, void *all, const int64_t *count, int64_t size, int root_only);
/* Copy n bytes of rank 0 to every rank. */
int ranks_bcast(void *buf, int64_t n);
/* 1 on every rank when flag is non-zero on any rank. */
int ranks_any(int flag);

#endif
