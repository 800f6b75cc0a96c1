/* atomic_file.h - replace a file all at once: the one writer behind .npy files, checkpoints, PNGs
 * and the CLI's CSV/JSON outputs.
 *
 * vae_atomic_open creates a new temporary file beside the target ("<path>.tmp-<pid>-<n>", created
 * with O_EXCL so two writers never share one); the caller writes through af.f; vae_atomic_commit
 * checks the stream, fflush + fsync, closes, renames the temporary over the target and fsyncs the
 * directory. A failure at any step, or a kill at any moment, leaves at the target either the old
 * file (or none) or the complete new one, never a partial file. A failed call removes its
 * temporary; only a kill can leave a stale "<path>.tmp-*" behind.
 *
 * Error messages name the target path, the step that failed and strerror, e.g.
 * "cannot rename onto 'out/a.npy': Is a directory".
 *
 *     vae_atomic_file af;
 *     if (vae_atomic_open(&af, path, err)) return err->code;
 *     fprintf(af.f, ...);
 *     return vae_atomic_commit(&af, err);   // or vae_atomic_abort(&af) to give up
 */
#ifndef VAE_ATOMIC_FILE_H
#define VAE_ATOMIC_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "tensor/error.h"

typedef struct vae_atomic_file {
    FILE *f;    /* write through this (fwrite, fprintf); NULL once committed or aborted */
    char *path; /* the target (a copy) */
    char *tmp;  /* the temporary file's name */
} vae_atomic_file;

/* Create a new temporary file beside `path` and open *af on it. On failure returns VAE_ERR_IO
 * (e.g. the directory is missing or not writable), VAE_ERR_NULL or VAE_ERR_OOM, with *af zeroed
 * (so vae_atomic_abort on it is harmless) and nothing created. */
VAE_API vae_status vae_atomic_open(vae_atomic_file *af, const char *path, vae_error *err);

/* Make what was written through af->f the content of the target: check the stream for write
 * errors, fflush, fsync, close, rename over the target, fsync its directory (best effort: some file
 * systems refuse). *af is closed either way. On failure returns VAE_ERR_IO (or VAE_ERR_STATE when
 * *af is not open), removes the temporary file and leaves the target untouched. */
VAE_API vae_status vae_atomic_commit(vae_atomic_file *af, vae_error *err);

/* Give up: close and remove the temporary file; the target is untouched. Harmless on a zeroed,
 * committed or already aborted *af, and on NULL. */
VAE_API void vae_atomic_abort(vae_atomic_file *af);

/* Write the n bytes at data to `path` atomically (open, fwrite, commit as above). data may be NULL
 * when n == 0. On failure returns VAE_ERR_IO, VAE_ERR_NULL or VAE_ERR_OOM with a message naming the
 * path, leaves `path` untouched and no temporary file behind. */
VAE_API vae_status vae_write_file_atomic(const char *path, const void *data, size_t n, vae_error *err);

#endif
