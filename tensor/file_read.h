/* file_read.h - the one way the library opens a file for reading. Not installed, not for callers.
 *
 * Every reader (IDX/gzip, .amat, CSV, PNG through vae_read_file; .npy; checkpoints) opens its file here, so
 * that a path naming a FIFO, a character device or a directory is refused at once instead of blocking in
 * open() or read() forever: the file is opened with O_NONBLOCK | O_CLOEXEC (an open of a FIFO without a writer
 * returns at once), the descriptor is fstat'ed, anything that is not a regular file gives VAE_ERR_IO
 * "<who>: '<path>' is not a regular file", and only then is O_NONBLOCK cleared for ordinary blocking reads.
 */
#ifndef VAE_TENSOR_FILE_READ_H
#define VAE_TENSOR_FILE_READ_H

#include <stdint.h>
#include <stdio.h>

#include "tensor/error.h"

/* Open the regular file `path` for reading into *f (fclose it) and its size into *size (may be NULL). On
 * failure returns VAE_ERR_IO (cannot open: strerror; not a regular file) or VAE_ERR_OOM naming `who` and the
 * path, with *f unchanged and nothing left open. */
vae_status vae__open_regular(const char *path, const char *who, FILE **f, uint64_t *size,
                             vae_error *err);

#endif
