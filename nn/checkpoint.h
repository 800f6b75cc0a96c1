/* checkpoint.h - save and resume a parameter store with its optimizer state, atomically and with validation.
 *
 * File format, version 1. Every integer is little-endian, every float IEEE-754 little-endian; offsets in bytes.
 *
 *   Preamble (32 bytes)
 *     0   u8[8]   magic "VAECKPT\n"
 *     8   u32     format version (1)
 *     12  u32     flags (0; any other value is a newer format: VAE_ERR_VERSION)
 *     16  u64     total file length L, trailer included
 *     24  u32     CRC32 of bytes [0, 24) (so a damaged version or length reads as corrupt, not as a wrong version)
 *     28  u32     reserved (0)
 *   Header (96 bytes)
 *     32  u64     optimizer step count
 *     40  u32     optimizer kind (vae_optim_kind; 0 = no optimizer state in the file)
 *     44  u32     S, the number of optimizer state slots stored per tensor (0..4; as vae_optim_slots says)
 *     48  f64[8]  hyper-parameters: lr, momentum, nesterov (0 or 1), beta1, beta2, eps, weight_decay, reserved 0
 *     112 u32     store dtype (0 = f32, 1 = f64)
 *     116 u32     N, the number of tensors
 *     120 u64     M, the metadata length
 *   128   u8[M]   metadata: the user's bytes (the CLI keeps its config and data standardization here)
 *   Tensors, N records, in the store's order:
 *           u32     name length (1..255), then the name's bytes (no NUL)
 *           u32     dtype (as in the header), u32 ndim (0..8), i64[ndim] shape
 *           values  numel * dtype size bytes, row-major
 *           state   S blocks of numel * dtype size bytes (slot 0, 1, ...)
 *   Trailer
 *     L-4 u32     CRC32 (zlib's polynomial) of bytes [0, L-4)
 *
 * Saving writes a temporary file in the target's directory, then fflush + fsync, rename over the target, and fsync
 * of the directory: a failure, or a kill at any point, leaves either the old file or the new one at the target,
 * never a partial one (a stale "<path>.tmp-*" file may remain after a kill).
 *
 * Loading treats the file as hostile. It reads and checks the whole file, in this order: magic (VAE_ERR_FORMAT),
 * preamble CRC (VAE_ERR_CORRUPT), version and flags (VAE_ERR_VERSION), length (truncated or trailing bytes:
 * VAE_ERR_FORMAT), file CRC (VAE_ERR_CORRUPT), every field's range and the record sizes (VAE_ERR_FORMAT), that
 * every value and optimizer-state element is finite (VAE_ERR_FORMAT naming the tensor: a valid CRC does not make a
 * NaN usable), then the
 * match with the store and optimizer: names, dtypes, shapes, optimizer kind (VAE_ERR_MISMATCH). Only when all of it
 * passes is anything copied; a failed load leaves the store, the optimizer and the outputs unchanged.
 */
#ifndef VAE_CHECKPOINT_H
#define VAE_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "nn/optim.h"
#include "nn/params.h"

#define VAE_CHECKPOINT_VERSION 1

/* What a checkpoint holds, besides the tensors. */
typedef struct vae_checkpoint_info {
    uint32_t version;
    int64_t step;
    vae_optim_config cfg; /* cfg.kind == VAE_OPTIM_NONE when saved without an optimizer */
    int nslots;
    vae_dtype dtype;
    int ntensors;
    size_t meta_len;
} vae_checkpoint_info;

/* Write p's parameters, the optimizer's step, configuration and state (o may be NULL: weights only) and `meta_len`
 * bytes of user metadata (meta may be NULL when meta_len is 0) atomically to `path`. On failure (VAE_ERR_IO naming
 * the system error, VAE_ERR_ARG, VAE_ERR_NULL) the file at `path` is unchanged and no temporary file remains. */
VAE_API vae_status vae_checkpoint_save(const char *path, const vae_params *p, const vae_optim *o,
                                       const void *meta, size_t meta_len, vae_error *err);

/* Restore p's values from `path` and, when o is not NULL (it must have been set up on p), the optimizer's step,
 * configuration and state; when meta is not NULL, *meta receives a malloc'ed copy of the metadata (free() it; NULL
 * when empty) and *meta_len its length. Fails with the codes listed at the top of this header, leaving p, o, *meta
 * and *meta_len unchanged. */
VAE_API vae_status vae_checkpoint_load(const char *path, vae_params *p, vae_optim *o, void **meta,
                                       size_t *meta_len, vae_error *err);

/* Validate `path` fully (all checks but the match with a store) and return its header in *info (may be NULL) and,
 * as in vae_checkpoint_load, its metadata: lets a program read its saved configuration before building the model.
 * On failure the outputs are unchanged. */
VAE_API vae_status vae_checkpoint_read_info(const char *path, vae_checkpoint_info *info,
                                            void **meta, size_t *meta_len, vae_error *err);

#endif
