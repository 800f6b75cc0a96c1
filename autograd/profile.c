/* Per-op calls and wall time (profile.h). The context keeps a mark: set when an op starts (vae__inputs_ok) and when
 * one ends (vae__done); an op's forward time is from the latest mark to its end, so an op that builds on another
 * counts only what it does after that one returns. */
#include "autograd/profile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

enum { PHASES = 16, NAME_LEN = 32 };

struct vae_profile {
    int64_t calls[VAE_OP_COUNT_], fwd_ns[VAE_OP_COUNT_], bwd_calls[VAE_OP_COUNT_],
        bwd_ns[VAE_OP_COUNT_];
    int nphase;
    char phase[PHASES][NAME_LEN];
    int64_t phase_calls[PHASES], phase_ns[PHASES];
};

int64_t vae_profile_now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

vae_profile *vae_profile_new(void) {
    return calloc(1, sizeof(vae_profile));
}

void vae_profile_free(vae_profile *p) {
    free(p);
}

void vae_profile_clear(vae_profile *p) {
    if (p) memset(p, 0, sizeof *p);
}

void vae_ctx_set_profile(vae_ctx *ctx, vae_profile *p) {
    if (!ctx) return;
    ctx->prof = p;
    ctx->prof_mark = 0;
}

void vae__prof_start(vae_ctx *ctx) {
    ctx->prof_mark = vae_profile_now_ns();
}

void vae__prof_forward(vae_ctx *ctx, int op) {
    const int64_t t = vae_profile_now_ns();
    if (op >= 0 && op < VAE_OP_COUNT_ && ctx->prof_mark) {
        ctx->prof->calls[op]++;
        ctx->prof->fwd_ns[op] += t - ctx->prof_mark;
    }
    ctx->prof_mark = t;
}

void vae__prof_backward(vae_ctx *ctx, int op, int64_t ns) {
    if (op >= 0 && op < VAE_OP_COUNT_) {
        ctx->prof->bwd_calls[op]++;
        ctx->prof->bwd_ns[op] += ns;
    }
}

void vae_profile_add(vae_profile *p, const char *name, int64_t ns) {
    if (!p || !name) return;
    int i = 0;
    while (i < p->nphase && strcmp(p->phase[i], name)) i++;
    if (i == p->nphase) {
        if (p->nphase < PHASES - 1) {
            snprintf(p->phase[i], NAME_LEN, "%s", name);
            p->nphase++;
        } else { /* the last slot collects every name that did not fit */
            i = PHASES - 1;
            if (p->nphase == PHASES - 1) {
                snprintf(p->phase[i], NAME_LEN, "other");
                p->nphase = PHASES;
            }
        }
    }
    p->phase_calls[i]++;
    p->phase_ns[i] += ns;
}

static int by_total(const void *a, const void *b) {
    const vae_profile_row *x = a, *y = b;
    const int64_t tx = x->fwd_ns + x->bwd_ns, ty = y->fwd_ns + y->bwd_ns;
    if (tx != ty) return tx < ty ? 1 : -1;
    return strcmp(x->name, y->name);
}

int vae_profile_rows(const vae_profile *p, vae_profile_row *rows, int cap) {
    if (!p) return 0;
    vae_profile_row all[VAE_OP_COUNT_ + PHASES];
    int n = 0;
    for (int op = 0; op < VAE_OP_COUNT_; op++)
        if (p->calls[op] || p->bwd_ns[op])
            all[n++] = (vae_profile_row){vae_op_name(op), 0,
                                         p->calls[op] ? p->calls[op] : p->bwd_calls[op],
                                         p->fwd_ns[op], p->bwd_ns[op]};
    for (int i = 0; i < p->nphase; i++)
        all[n++] = (vae_profile_row){p->phase[i], 1, p->phase_calls[i], p->phase_ns[i], 0};
    qsort(all, (size_t)n, sizeof all[0], by_total);
    for (int i = 0; i < n && i < cap; i++) rows[i] = all[i];
    return n;
}

/* snprintf into buf at *len, tracking the length needed even past the end. */
static void put(char *buf, size_t n, int *len, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static void put(char *buf, size_t n, int *len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const size_t at = (size_t)*len;
    const int k = vsnprintf(at < n ? buf + at : NULL, at < n ? n - at : 0, fmt, ap);
    va_end(ap);
    if (k > 0) *len += k;
}

int vae_profile_format(const vae_profile *p, double steps, char *buf, size_t n) {
    if (buf && n) buf[0] = '\0';
    if (!buf) n = 0;
    if (!p) return 0;
    if (!(steps > 0)) steps = 1;
    vae_profile_row rows[VAE_OP_COUNT_ + PHASES];
    const int nr = vae_profile_rows(p, rows, VAE_OP_COUNT_ + PHASES);
    int64_t total = 0;
    for (int i = 0; i < nr; i++) total += rows[i].fwd_ns + rows[i].bwd_ns;
    int len = 0;
    put(buf, n, &len, "%-22s %10s %11s %11s %11s %7s\n", "op / phase", "calls/step", "fwd ms",
        "bwd ms", "total ms", "share");
    for (int i = 0; i < nr; i++) {
        const vae_profile_row *r = &rows[i];
        const int64_t t = r->fwd_ns + r->bwd_ns;
        char fwd[16], bwd[16];
        snprintf(fwd, sizeof fwd, "%.4f", 1e-6 * (double)r->fwd_ns / steps);
        snprintf(bwd, sizeof bwd, "%.4f", 1e-6 * (double)r->bwd_ns / steps);
        put(buf, n, &len, "%-22s %10.2f %11s %11s %11.4f %6.1f%%\n", r->name,
            (double)r->calls / steps, r->kind ? "" : fwd, r->kind ? "" : bwd,
            1e-6 * (double)t / steps, total ? 100.0 * (double)t / (double)total : 0.0);
    }
    put(buf, n, &len, "%-22s %10s %11s %11s %11.4f %6.1f%%\n", "total", "", "", "",
        1e-6 * (double)total / steps, 100.0);
    return len;
}
