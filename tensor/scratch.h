/* scratch.h - per-thread scratch buffers of the kernels (private to the library: not installed). */
#ifndef VAE_SCRATCH_H
#define VAE_SCRATCH_H

#include <stddef.h>
#include <stdint.h>

/* Number of scratch slots per thread; a kernel that calls another one uses different slots. GEMM: 0 and 1 (a
 * thread's packed A and B), 5 (the calling thread's partial of a K-split product, gemm_driver.h); conv: 2-4. */
#define VAE__SCRATCH_SLOTS 6
/* The slot that only a thread calling into the pool uses (never a task): not levelled onto the workers. */
#define VAE__SCRATCH_CALLER_ONLY 5

/* A 64-byte aligned buffer of at least `bytes` bytes owned by the calling OS thread, slot `slot` in
 * [0, VAE__SCRATCH_SLOTS). It is reallocated only when too small (contents are then lost), so the
 * steady state does not allocate. Valid until the same thread asks for the same slot again. Returns
 * NULL on OOM or a bad slot. */
void *vae__thread_scratch(int slot, size_t bytes);

/* Nonzero while the calling thread runs a pool task (or is a pool worker): a parallel call made
 * now would run serially. */
int vae__pool_in_task(void);

/* vae_parallel_for (threadpool.h), but task t runs on thread t % n of the n threads taking part (the caller is
 * thread 0), never claimed by another: a pass over the same ranges each step (the optimizer, the gradient zeroing)
 * keeps each range in one core's cache, where on a machine whose cores share no cache a range handed from core to
 * core streams at a half to a quarter of the speed (README, Performance). A slow worker is waited for, not
 * replaced. Falls back to serial like vae_parallel_for. */
void vae__parallel_pinned(int64_t ntasks, void (*fn)(void *ctx, int64_t task, int thread_id),
                          void *ctx);

/* Split [0, n) into one range per thread of len elements each (the last shorter): len = n / threads rounded up to
 * a multiple of align and at least min_len. Returns the number of ranges; range t is [t len, min(n, (t + 1) len)).
 * Passes that should touch the same elements on the same thread use the same split. */
int vae__share(int64_t n, int64_t align, int64_t min_len, int64_t *len);
/* Range t of that split: [*i0, *i1). */
static inline void vae__share_range(int64_t n, int64_t len, int64_t t, int64_t *i0, int64_t *i1) {
    *i0 = t * len;
    *i1 = *i0 + len < n ? *i0 + len : n;
}

/* fn(ctx, i0, i1) over the ranges of vae__share(n, 16, 16384) (multiples of 16 elements, at least 16384 each),
 * pinned: range t always on thread t. The per-step passes over the flat parameter store (Adam, the gradient
 * zeroing) all run through it, so every thread touches the same elements in each of them, in its own cache. */
void vae__parallel_ranges(int64_t n, void (*fn)(void *ctx, int64_t i0, int64_t i1), void *ctx);
/* The same over the ranges of an owner map (threadpool.h), range by range on its thread, pinned; a map that is NULL
 * or built for another n or thread count (vae__owner_map_fits is 0) falls back to vae__parallel_ranges. */
struct vae_owner_map;
int vae__owner_map_fits(const struct vae_owner_map *own, int64_t n);
void vae__parallel_owned(int64_t n, const struct vae_owner_map *own,
                         void (*fn)(void *ctx, int64_t i0, int64_t i1), void *ctx);

/* The stamp that tensors allocated in arena `a` now receive (vae_tensor.arena_id, .arena_gen); 0, 0 for NULL. */
struct vae_arena;
void vae__arena_stamp(const struct vae_arena *a, uint32_t *id, uint32_t *gen);

#endif
