/* idx.h - IDX files (the MNIST / Fashion-MNIST format), raw or gzip.
 *
 * Layout: magic 00 00 TYPE NDIM (big-endian), NDIM big-endian uint32 dims, then the data in C
 * order. Only TYPE 0x08 (uint8) is supported: images are magic 0x00000803 (n, h, w), labels
 * 0x00000801 (n). The file is treated as hostile: magic, type, dims, byte counts (with overflow
 * checks) and trailing bytes are all checked. nn/dataset.h turns an image and a label file into a data
 * set (vae_dataset_load_idx).
 */
#ifndef VAE_TENSOR_IO_IDX_H
#define VAE_TENSOR_IO_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "tensor/error.h"

#define VAE_IDX_MAGIC_U8_1D 0x00000801u /* labels */
#define VAE_IDX_MAGIC_U8_3D 0x00000803u /* images */

typedef struct vae_idx {
    int ndim;         /* 1 or 3 */
    int64_t shape[3]; /* (n) or (n, h, w) */
    int64_t numel;
    uint8_t *data; /* (numel) malloc'd */
} vae_idx;

/* Parse an in-memory IDX file of uint8 with `want_ndim` dims (1: labels, 3: images); `name` is used
 * in messages. Errors: VAE_ERR_FORMAT (bad magic, wrong ndim, zero or absurd dims, truncated,
 * trailing bytes), VAE_ERR_UNSUPPORTED (a non-uint8 type), VAE_ERR_OOM. `out` is unchanged on
 * failure. */
VAE_API vae_status vae_idx_parse(const uint8_t *buf, size_t len, const char *name, int want_ndim,
                                 vae_idx *out, vae_error *err);

/* Read an IDX file (gunzipped when it starts with 1f 8b) and parse it as vae_idx_parse does. A
 * missing or unreadable file gives VAE_ERR_IO; gzip damage VAE_ERR_FORMAT/VAE_ERR_CORRUPT. `out` is
 * unchanged on failure. */
VAE_API vae_status vae_idx_read(const char *path, int want_ndim, vae_idx *out, vae_error *err);

/* Read at most the first max_items items (0: all) of an IDX file as vae_idx_read does, holding in memory only
 * what is returned: a raw file is read no further than those items, a gzip file is inflated no further than
 * them, and never past what the header promises. The file is still checked against its header (a raw file's
 * size; a gzip file's content, fully, when every item is read). max_bytes caps the returned data (0: 1 GiB):
 * more gives VAE_ERR_OOM with the size in the message, before anything large is allocated. Fails otherwise as
 * vae_idx_read does; `out` is unchanged on failure. */
VAE_API vae_status vae_idx_read_n(const char *path, int want_ndim, int64_t max_items,
                                  size_t max_bytes, vae_idx *out, vae_error *err);

/* Read and check only the header of an IDX file (raw or gzip; a few bytes are read or inflated): out gets ndim,
 * shape and numel, with data NULL. Fails as vae_idx_read does on a bad header; `out` is unchanged on failure. */
VAE_API vae_status vae_idx_read_header(const char *path, int want_ndim, vae_idx *out,
                                       vae_error *err);

/* Release the data and zero the struct. NULL is harmless. */
VAE_API void vae_idx_free(vae_idx *x);

#endif
