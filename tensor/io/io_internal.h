/* io_internal.h - names shared between the files of tensor/io/ and the loaders of nn/. Not installed, not for
 * callers. */
#ifndef VAE_TENSOR_IO_INTERNAL_H
#define VAE_TENSOR_IO_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "tensor/error.h"

/* Decode at most the first max_out bytes of a gzip file (all members, as vae_gunzip). When the content is longer,
 * decoding stops as soon as max_out bytes are out (nothing past them is decoded or checked) and *complete = 0;
 * otherwise the whole file is checked as vae_gunzip does and *complete = 1. Fails like vae_gunzip; outputs
 * unchanged on failure. Bounds the memory of a decode by what the caller needs, not by what the file holds. */
vae_status vae__gunzip_prefix(const uint8_t *in, size_t in_len, size_t max_out, uint8_t **out,
                              size_t *out_len, int *complete, vae_error *err);

/* vae_npy_read keeping only the first max_rows rows of the leading dimension (0: all; the file is still checked
 * whole against its header, by its size), and refusing with VAE_ERR_OOM, before allocating, when those rows plus
 * extra_per_elem bytes per element (what the caller will convert them into) exceed max_memory (0: no limit). */
typedef struct vae_npy vae_npy;
vae_status vae__npy_read_rows(const char *path, int64_t max_rows, size_t max_memory,
                              size_t extra_per_elem, vae_npy *out, vae_error *err);

/* vae_amat_read keeping the first max_rows rows (0: all), the file's content capped at max_bytes (0: 1 GiB). */
typedef struct vae_amat vae_amat;
vae_status vae__amat_read_n(const char *path, int64_t cols, int64_t max_rows, size_t max_bytes,
                            vae_amat *out, vae_error *err);

/* vae_csv_read with the file's content capped at max_bytes (0: 1 GiB). */
typedef struct vae_csv vae_csv;
vae_status vae__csv_read_limited(const char *path, size_t max_bytes, vae_csv *out, vae_error *err);

#endif
