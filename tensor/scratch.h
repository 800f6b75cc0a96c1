/* scratch.h - per-thread scratch buffers of the kernels (private to the library: not installed). */
#ifndef VAE_SCRATCH_H
#define VAE_SCRATCH_H

#include <stddef.h>
#include <stdint.h>

/* Number of scratch slots per thread; a kernel that calls another one uses different slots. */
#define VAE__SCRATCH_SLOTS 5

/* A 64-byte aligned buffer of at least `bytes` bytes owned by the calling OS thread, slot `slot` in
 * [0, VAE__SCRATCH_SLOTS). It is reallocated only when too small (contents are then lost), so the
 * steady state does not allocate. Valid until the same thread asks for the same slot again. Returns
 * NULL on OOM or a bad slot. */
void *vae__thread_scratch(int slot, size_t bytes);

/* Nonzero while the calling thread runs a pool task (or is a pool worker): a parallel call made
 * now would run serially. */
int vae__pool_in_task(void);

/* The stamp that tensors allocated in arena `a` now receive (vae_tensor.arena_id, .arena_gen); 0, 0 for NULL. */
struct vae_arena;
void vae__arena_stamp(const struct vae_arena *a, uint32_t *id, uint32_t *gen);

#endif
