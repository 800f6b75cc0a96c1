/* fault.c - the counters behind tensor/fault.h; empty unless built with -Dfault_injection=true. */
#define VAE__FAULT_IMPL
#ifdef VAE_FAULT_INJECTION
#undef malloc
#undef calloc
#undef realloc
#undef aligned_alloc
#undef posix_memalign
#undef free
#undef fwrite
#undef fflush
#undef fsync
#include "tensor/fault.h"

#include <errno.h>
#include <stdatomic.h>

static atomic_long fail_at[VAE__FAULT_KINDS], calls[VAE__FAULT_KINDS], fired[VAE__FAULT_KINDS];
static atomic_long live;

void vae__fault_arm(int kind, long n) {
    atomic_store(&calls[kind], 0);
    atomic_store(&fired[kind], 0);
    atomic_store(&fail_at[kind], n);
}
long vae__fault_calls(int kind) {
    return atomic_load(&calls[kind]);
}
int vae__fault_fired(int kind) {
    return atomic_load(&fired[kind]) != 0;
}
long vae__fault_live(void) {
    return atomic_load(&live);
}

/* 1 when this call of `kind` is the one to fail */
static int hit(int kind) {
    long c = atomic_fetch_add(&calls[kind], 1) + 1, at = atomic_load(&fail_at[kind]);
    if (at > 0 && c == at) {
        atomic_store(&fired[kind], 1);
        return 1;
    }
    return 0;
}

void *vae__fault_malloc(size_t n) {
    if (hit(VAE__FAULT_MALLOC)) return NULL;
    void *p = malloc(n);
    if (p) atomic_fetch_add(&live, 1);
    return p;
}
void *vae__fault_calloc(size_t n, size_t size) {
    if (hit(VAE__FAULT_MALLOC)) return NULL;
    void *p = calloc(n, size);
    if (p) atomic_fetch_add(&live, 1);
    return p;
}
void *vae__fault_realloc(void *p, size_t n) {
    if (hit(VAE__FAULT_MALLOC)) return NULL;
    void *q = realloc(p, n);
    if (q && !p) atomic_fetch_add(&live, 1);
    return q;
}
void *vae__fault_aligned_alloc(size_t align, size_t n) {
    if (hit(VAE__FAULT_MALLOC)) return NULL;
    void *p = aligned_alloc(align, n);
    if (p) atomic_fetch_add(&live, 1);
    return p;
}
int vae__fault_posix_memalign(void **p, size_t align, size_t n) {
    if (hit(VAE__FAULT_MALLOC)) return ENOMEM;
    int rc = posix_memalign(p, align, n);
    if (rc == 0) atomic_fetch_add(&live, 1);
    return rc;
}
void vae__fault_free(void *p) {
    if (p) atomic_fetch_sub(&live, 1);
    free(p);
}

/* A failed write leaves the stream's error flag set, as a real one does: a read from a write-only stream fails
 * and sets it (EBADF), then errno says why the write failed. */
static void set_stream_error(FILE *f) {
    (void)fgetc(f);
    errno = EIO;
}
size_t vae__fault_fwrite(const void *p, size_t size, size_t n, FILE *f) {
    if (hit(VAE__FAULT_WRITE)) {
        set_stream_error(f);
        return 0;
    }
    return fwrite(p, size, n, f);
}
int vae__fault_fflush(FILE *f) {
    if (hit(VAE__FAULT_WRITE)) {
        set_stream_error(f);
        return EOF;
    }
    return fflush(f);
}
int vae__fault_fsync(int fd) {
    if (hit(VAE__FAULT_FSYNC)) {
        errno = EIO;
        return -1;
    }
    return fsync(fd);
}
#else
typedef int vae__fault_unused; /* an empty translation unit is not ISO C */
#endif
