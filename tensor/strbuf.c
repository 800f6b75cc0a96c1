/* A growable text buffer: printf into it, doubling the allocation until the text fits. */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vae_strbuf_printf(vae_strbuf *s, const char *fmt, ...) {
    if (!s || s->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(s->buf ? s->buf + s->len : NULL, s->buf ? s->cap - s->len : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            if (s->buf) s->buf[s->len] = '\0'; /* drop a partial write */
            s->oom = 1;
            return;
        }
        if (s->buf && s->len + (size_t)k < s->cap) {
            s->len += (size_t)k;
            return;
        }
        size_t cap = s->cap ? s->cap * 2 : 256;
        while (cap < s->len + (size_t)k + 1) cap *= 2;
        char *nb = realloc(s->buf, cap);
        if (!nb) {
            if (s->buf) s->buf[s->len] = '\0';
            s->oom = 1;
            return;
        }
        s->buf = nb;
        s->cap = cap;
    }
}

void vae_strbuf_free(vae_strbuf *s) {
    if (!s) return;
    free(s->buf);
    memset(s, 0, sizeof *s);
}
