/* file_read.c - open a file for reading without ever blocking on a FIFO (see file_read.h). */
#include "tensor/file_read.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

vae_status vae__open_regular(const char *path, const char *who, FILE **f, uint64_t *size,
                             vae_error *err) {
    if (!path || !f) return vae_error_set(err, VAE_ERR_NULL, "%s: NULL argument", who);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return vae_error_set(err, VAE_ERR_IO, "%s: cannot open '%s': %s", who, path,
                             strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < 0) {
        close(fd);
        return vae_error_set(err, VAE_ERR_IO, "%s: '%s' is not a regular file", who, path);
    }
    /* a regular file never blocks, but clear the flag so that reads behave as they always do */
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        int e = errno;
        close(fd);
        return vae_error_set(err, VAE_ERR_IO, "%s: '%s': fcntl: %s", who, path, strerror(e));
    }
    FILE *fp = fdopen(fd, "rb");
    if (!fp) {
        int e = errno;
        close(fd);
        return vae_error_set(err, e == ENOMEM ? VAE_ERR_OOM : VAE_ERR_IO,
                             "%s: cannot open '%s': %s", who, path, strerror(e));
    }
    *f = fp;
    if (size) *size = (uint64_t)sb.st_size;
    return VAE_OK;
}
