/* arena.h - the step-lifetime bump allocator.
 *
 * Activations, the tape and activation gradients of one training step live here. Reset is O(1) and keeps the
 * blocks, so after the first steps a training loop does no malloc at all (after a reset that found several blocks,
 * they are merged into one block big enough for the whole previous step). An optional byte cap turns runaway
 * memory use into a clean VAE_ERR_OOM instead of a crash. Build with -Ddebug_poison=true to fill reset memory
 * with 0xA5 bytes so that use-after-reset reads garbage that tests notice.
 */
#ifndef VAE_ARENA_H
#define VAE_ARENA_H

#include <stddef.h>

#include "tensor/error.h"

typedef struct vae_arena vae_arena;

/* New arena; cap_bytes = 0 means no cap. Returns NULL when malloc fails. */
VAE_API vae_arena *vae_arena_new(size_t cap_bytes);
/* Free the arena and all its blocks; NULL is harmless. */
VAE_API void vae_arena_free(vae_arena *a);
/* 64-byte aligned memory valid until the next reset. NULL (VAE_ERR_OOM in err, naming `bytes`) when the cap would
 * be exceeded or malloc fails. */
VAE_API void *vae_arena_alloc(vae_arena *a, size_t bytes, vae_error *err);
/* Same, zero-filled. */
VAE_API void *vae_arena_calloc(vae_arena *a, size_t bytes, vae_error *err);
/* Forget every allocation (O(1) unless blocks are merged); keeps the memory for reuse. */
VAE_API void vae_arena_reset(vae_arena *a);
/* Bytes handed out since the last reset, the peak of that over the arena's life, and the cap. */
VAE_API size_t vae_arena_used(const vae_arena *a);
VAE_API size_t vae_arena_peak(const vae_arena *a);
VAE_API size_t vae_arena_cap(const vae_arena *a);
/* Change the cap (0 = none). Never fails; allocations already made stay valid. */
VAE_API void vae_arena_set_cap(vae_arena *a, size_t cap_bytes);
/* Number of malloc calls the arena has made (tests use it to show the steady state allocates nothing). */
VAE_API size_t vae_arena_mallocs(const vae_arena *a);

#endif
