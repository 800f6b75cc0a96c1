/* Atomic file replacement: temporary file beside the target, fsync, rename, directory fsync. */
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Makes temp names unique among the writers of one process (threads included); the pid separates
 * processes, and O_EXCL catches whatever a stale file from a killed run still collides with. */
static atomic_uint tmp_counter;

vae_status vae_atomic_open(vae_atomic_file *af, const char *path, vae_error *err) {
    if (!af) return vae_error_set(err, VAE_ERR_NULL, "atomic_open: NULL argument");
    memset(af, 0, sizeof *af);
    if (!path) return vae_error_set(err, VAE_ERR_NULL, "atomic_open: NULL path");
    size_t plen = strlen(path), tl = plen + 48; /* ".tmp-" + two decimal integers */
    char *own = malloc(plen + 1), *tmp = malloc(tl);
    if (!own || !tmp) {
        free(own);
        free(tmp);
        return vae_error_set(err, VAE_ERR_OOM, "cannot write '%s': out of memory", path);
    }
    memcpy(own, path, plen + 1);
    /* Same directory as the target, so that rename() is atomic (never a copy across file systems).
     * 0666: the umask decides the permissions, as for fopen. */
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(tmp, tl, "%s.tmp-%ld-%u", path, (long)getpid(), atomic_fetch_add(&tmp_counter, 1));
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        free(own);
        free(tmp);
        return vae_error_set(err, VAE_ERR_IO, "cannot create a temporary file next to '%s': %s",
                             path, strerror(e));
    }
    af->f = f;
    af->path = own;
    af->tmp = tmp;
    return VAE_OK;
}

/* Make the rename itself durable. Best effort: some file systems refuse fsync on a directory, and
 * the new file is complete at the target either way. */
static void fsync_dir_of(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir = NULL;
    if (slash) {
        size_t n = slash == path ? 1 : (size_t)(slash - path); /* "/x" lives in "/" */
        if (!(dir = malloc(n + 1))) return;
        memcpy(dir, path, n);
        dir[n] = 0;
    }
    int fd = open(dir ? dir : ".", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

static void release(vae_atomic_file *af) {
    free(af->path);
    free(af->tmp);
    memset(af, 0, sizeof *af);
}

vae_status vae_atomic_commit(vae_atomic_file *af, vae_error *err) {
    if (!af || !af->f) {
        vae_atomic_abort(af);
        return vae_error_set(err, VAE_ERR_STATE, "atomic_commit: the file is not open");
    }
    /* A failed fwrite/fprintf leaves only the stream's error flag; its errno is the best account of
     * why, so it is taken before anything here can change errno. */
    int e = errno;
    const char *what = NULL;
    if (ferror(af->f))
        what = "write";
    else if (fflush(af->f) != 0)
        what = "flush", e = errno;
    else if (fsync(fileno(af->f)) != 0)
        what = "fsync", e = errno;
    if (fclose(af->f) != 0 && !what) what = "close", e = errno;
    af->f = NULL;
    if (!what && rename(af->tmp, af->path) != 0) what = "rename onto", e = errno;
    if (what) {
        vae_error_set(err, VAE_ERR_IO, "cannot %s '%s': %s", what, af->path,
                      e ? strerror(e) : "unknown error");
        vae_atomic_abort(af);
        return VAE_ERR_IO;
    }
    fsync_dir_of(af->path);
    release(af);
    return VAE_OK;
}

void vae_atomic_abort(vae_atomic_file *af) {
    if (!af) return;
    if (af->f) fclose(af->f);
    if (af->tmp) unlink(af->tmp);
    release(af);
}

vae_status vae_write_file_atomic(const char *path, const void *data, size_t n, vae_error *err) {
    if (!path || (!data && n)) return vae_error_set(err, VAE_ERR_NULL, "write_file: NULL argument");
    vae_atomic_file af;
    vae_status st = vae_atomic_open(&af, path, err);
    if (st) return st;
    /* A short write sets the stream's error flag, which the commit reports. */
    if (n) fwrite(data, 1, n, af.f);
    return vae_atomic_commit(&af, err);
}
