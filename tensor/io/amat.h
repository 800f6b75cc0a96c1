/* amat.h - binarized MNIST `.amat` text files (Larochelle & Murray 2011), plain or gzip.
 *
 * One example per line: `cols` values, each the token 0 or 1, separated by spaces or tabs. CRLF
 * line ends and blank lines are accepted. Every other deviation is an error naming the file and
 * line.
 */
#ifndef VAE_TENSOR_IO_AMAT_H
#define VAE_TENSOR_IO_AMAT_H

#include <stddef.h>
#include <stdint.h>

#include "tensor/error.h"

typedef struct vae_amat {
    int64_t rows, cols;
    uint8_t *data; /* (rows, cols) row-major, each 0 or 1, malloc'd */
} vae_amat;

/* Parse `len` bytes of .amat text into a (rows, cols) table of 0/1 bytes; `name` is used in
 * messages. cols == 0 takes the column count from the first line. Errors: VAE_ERR_FORMAT
 * ("amat: NAME:LINE: ..." for a wrong column count, a token other than 0/1, a NUL byte, or no rows
 * at all), VAE_ERR_ARG (cols < 0), VAE_ERR_NULL, VAE_ERR_OOM. `out` is unchanged on failure. */
VAE_API vae_status vae_amat_parse(const char *text, size_t len, const char *name, int64_t cols,
                                  vae_amat *out, vae_error *err);

/* Read a .amat file (gunzipped when it starts with 1f 8b) and parse it as vae_amat_parse does; a
 * missing file gives VAE_ERR_IO. `out` is unchanged on failure. */
VAE_API vae_status vae_amat_read(const char *path, int64_t cols, vae_amat *out, vae_error *err);

/* Release the data and zero the struct. NULL is harmless. */
VAE_API void vae_amat_free(vae_amat *a);

#endif
