/* npy.h - NumPy .npy files (format versions 1.0, 2.0, 3.0), little-endian, C order.
 *
 * Supported dtypes: '|u1' (uint8, also read as '<u1'), '<i8' (int64), '<f4' (float), '<f8'
 * (double). The writer emits version 1.0 with 'fortran_order': False and a header padded to a
 * multiple of 64 bytes, written atomically (tensor/atomic_file.h), so a failed or killed write
 * never leaves a broken file behind. The reader treats its input as hostile: every field, size
 * and product is checked, nothing is trusted.
 */
#ifndef VAE_NPY_H
#define VAE_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "tensor/error.h"

#define VAE_NPY_MAX_DIM 8
/* Largest header (dict + padding) the reader accepts; NumPy itself refuses headers past 10000 bytes
 * by default. */
#define VAE_NPY_MAX_HEADER 65536

typedef enum vae_npy_dtype {
    VAE_NPY_U1 = 0, /* '|u1' uint8_t */
    VAE_NPY_I8,     /* '<i8' int64_t */
    VAE_NPY_F4,     /* '<f4' float   */
    VAE_NPY_F8,     /* '<f8' double  */
    VAE_NPY_DTYPE_COUNT_
} vae_npy_dtype;

/* A loaded array: data is malloc'd, C order, numel = product of shape (1 for 0-d), never NULL after
 * a successful read (a zero-size array still gets a 1-byte allocation). */
typedef struct vae_npy {
    vae_npy_dtype dtype;
    int ndim;
    int64_t shape[VAE_NPY_MAX_DIM];
    int64_t numel;
    void *data;
} vae_npy;

/* Bytes per element of `dtype` (1, 8, 4, 8); 0 for an invalid value. */
VAE_API size_t vae_npy_dtype_size(vae_npy_dtype dtype);

/* NumPy descr string of `dtype` ("|u1", "<i8", "<f4", "<f8"); "?" for an invalid value. */
VAE_API const char *vae_npy_dtype_descr(vae_npy_dtype dtype);

/* Write an array of `ndim` (0..8) dims `shape` from C-order `data` to `path` atomically (a
 * temporary file beside it, fsync, rename: tensor/atomic_file.h). data may be NULL only when the
 * array has no elements. On failure returns VAE_ERR_ARG/NULL (bad arguments) or VAE_ERR_IO
 * (message names the path), removes the temporary file and leaves `path` untouched. */
VAE_API vae_status vae_npy_write(const char *path, vae_npy_dtype dtype, int ndim, const int64_t *shape,
                         const void *data, vae_error *err);

/* Parse a complete .npy image held in memory (`len` bytes) into *out (data copied into a new
 * allocation). On failure returns VAE_ERR_FORMAT (bad magic, bad header syntax, truncated or
 * trailing data, bad shape), VAE_ERR_VERSION (format version other than 1.0/2.0/3.0),
 * VAE_ERR_UNSUPPORTED (big-endian, Fortran order, other dtype, ndim > 8) or VAE_ERR_OOM, with a
 * message saying what is wrong; *out is left unchanged. */
VAE_API vae_status vae_npy_parse(const void *buf, size_t len, vae_npy *out, vae_error *err);

/* Read the .npy file `path` into *out. Fails like vae_npy_parse, plus VAE_ERR_IO if the file cannot
 * be opened or read; messages name the path; *out is left unchanged on failure. */
VAE_API vae_status vae_npy_read(const char *path, vae_npy *out, vae_error *err);

/* Free the data of *a and zero it. Safe on NULL and on a zeroed struct. */
VAE_API void vae_npy_free(vae_npy *a);

#endif
