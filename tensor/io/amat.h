/* amat.h - binarized MNIST `.amat` text files (Larochelle & Murray 2011), plain or gzip.
 *
 * One example per line: `cols` values, each the token 0 or 1, separated by spaces or tabs. CRLF
 * line ends and blank lines are accepted. Every other deviation is an error naming the file and
 * line.
 */
#ifndef VAE_IO_AMAT_H
#define VAE_IO_AMAT_H

#include <stddef.h>
#include <stdint.h>

#include "nn/dataset.h"
#include "tensor/error.h"

/* Parse `len` bytes of .amat text into a new data set of (rows, cols) 0/1 floats with binary = 1
 * (and 28x28x1 geometry when cols == 784). cols == 0 takes the column count from the first line.
 * Errors: VAE_ERR_FORMAT
 * ("amat: NAME:LINE: ..." for a wrong column count, a token other than 0/1, a NUL byte, or no rows
 * at all), VAE_ERR_ARG (cols < 0), VAE_ERR_OOM. `out` is unchanged on failure. */
vae_status vae_amat_parse(const char *text, size_t len, const char *name, int64_t cols,
                          vae_dataset *out, vae_error *err);

/* Read a .amat file (gunzipped when it starts with 1f 8b) and parse it as vae_amat_parse does; a
 * missing file gives VAE_ERR_IO. `out` is unchanged on failure. */
vae_status vae_amat_read(const char *path, int64_t cols, vae_dataset *out, vae_error *err);

#endif
