/* strbuf.h - a growable text buffer for the library's and the CLI's text formats (run descriptions, SVG, logs).
 *
 * Zero-initialize one (vae_strbuf s = {0}), append with vae_strbuf_printf, read s.buf (NUL-terminated, s.len bytes
 * without the NUL), release with vae_strbuf_free. A failed allocation sets s.oom and makes later appends do
 * nothing, so a whole text is checked once at the end; s.buf stays valid (the text before the failure). */
#ifndef VAE_STRBUF_H
#define VAE_STRBUF_H

#include <stddef.h>

#include "tensor/error.h"

typedef struct vae_strbuf {
    char *buf;       /* NULL until the first append */
    size_t len, cap; /* bytes used (without the NUL), bytes allocated */
    int oom;         /* 1 after a failed allocation or a formatting error */
} vae_strbuf;

/* Append printf-formatted text. On failure sets s->oom and leaves the text as it was. */
VAE_API void vae_strbuf_printf(vae_strbuf *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Release the buffer and zero s; a zeroed or NULL s is harmless. */
VAE_API void vae_strbuf_free(vae_strbuf *s);

#endif
