/* error.h - status codes and the sticky error record shared by every layer.
 *
 * The library never prints and never exits: a failing call stores a code and a one-line message naming the op and
 * the shapes involved, e.g. "matmul: (64,400) x (20,400): inner dims 400 != 20". The FIRST error sticks; later errors
 * are ignored until the record is cleared, so a whole expression can be checked once at the end.
 */
#ifndef VAE_ERROR_H
#define VAE_ERROR_H

#include <stdarg.h>
#include <stdint.h>

/* VAE_API marks a public function: the library is built with hidden visibility, so only names declared with it
 * are exported from the shared object (`nm -D libvae.so` lists exactly the public API). Names shared between
 * the library's own files carry a double-underscore prefix, live in non-installed headers and are not exported. */
#if defined(_WIN32)
#define VAE_API __declspec(dllexport)
#elif defined(__GNUC__)
#define VAE_API __attribute__((visibility("default")))
#else
#define VAE_API
#endif

typedef enum vae_status {
    VAE_OK = 0,
    VAE_ERR_SHAPE,       /* shapes do not fit the op */
    VAE_ERR_DTYPE,       /* dtypes do not fit the op */
    VAE_ERR_ARG,         /* an argument is out of range (axis, count, option) */
    VAE_ERR_OOM,         /* malloc failed or the arena's byte cap was reached */
    VAE_ERR_NULL,        /* a NULL input (reported only when no earlier error explains it) */
    VAE_ERR_IO,          /* open/read/write/rename failed */
    VAE_ERR_FORMAT,      /* a file is malformed (bad magic, truncated, bad field) */
    VAE_ERR_CORRUPT,     /* a checksum (CRC32, ISIZE) does not match */
    VAE_ERR_VERSION,     /* a file's format version is not supported */
    VAE_ERR_MISMATCH,    /* a file is valid but does not fit the target (names, shapes) */
    VAE_ERR_NAN,         /* anomaly mode: an op produced NaN or Inf */
    VAE_ERR_STATE,       /* the call is not valid in the current state (e.g. backward twice) */
    VAE_ERR_UNSUPPORTED, /* valid request the library does not implement (e.g. no rsample) */
    VAE_ERR_COUNT_
} vae_status;

#define VAE_ERROR_MSG_LEN 320

typedef struct vae_error {
    vae_status code;
    char msg[VAE_ERROR_MSG_LEN];
} vae_error;

/* Short stable name of a status ("shape", "oom", ...); never NULL. */
VAE_API const char *vae_status_name(vae_status s);

/* Record an error unless one is already stored (first error sticks). Returns `code`. A NULL `err` is ignored. */
VAE_API vae_status vae_error_set(vae_error *err, vae_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
VAE_API vae_status vae_error_setv(vae_error *err, vae_status code, const char *fmt, va_list ap);

/* Forget the stored error. */
VAE_API void vae_error_clear(vae_error *err);

/* Format a shape as "(2,3,4)" into buf (always NUL-terminated); returns buf. */
VAE_API char *vae_shape_str(char *buf, int buflen, int ndim, const int64_t *shape);

#endif
