/* fault.h - fault injection for tests (-Dfault_injection=true). Not installed, not for callers.
 *
 * In a fault-injection build every file of the library (and the fault test) is compiled with `-include
 * tensor/fault.h`: malloc, calloc, realloc, aligned_alloc, posix_memalign and free, fwrite and fflush, and fsync
 * then go through the counters below, so that a test can make the Nth allocation, the Nth write or the Nth
 * fsync fail and check that the library reports a clean error, leaks nothing (vae__fault_live) and leaves its
 * outputs, and the files on disk, as they were. In every other build this header declares nothing.
 */
#ifndef VAE_TENSOR_FAULT_H
#define VAE_TENSOR_FAULT_H

#ifdef VAE_FAULT_INJECTION
/* This header comes first in every file (-include), so the feature macros that single files define before their
 * includes (realpath in models/plugin.c, MADV_HUGEPAGE in nn/dataset.c) must be defined here, identically, or the
 * system headers below fix the feature set without them (realpath undeclared: an implicit int-returning call). */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700
/* the real declarations first: the macros below must not rename them */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

enum { VAE__FAULT_MALLOC = 0, VAE__FAULT_WRITE = 1, VAE__FAULT_FSYNC = 2, VAE__FAULT_KINDS = 3 };

/* Make the nth call (1-based, counted from now) of `kind` fail; n = 0 disarms. Resets that kind's call count. */
void vae__fault_arm(int kind, long n);
/* Calls of `kind` since it was last armed; 1 when the armed failure has fired. */
long vae__fault_calls(int kind);
int vae__fault_fired(int kind);
/* Allocations made through the wrappers and not yet freed. */
long vae__fault_live(void);

void *vae__fault_malloc(size_t n);
void *vae__fault_calloc(size_t n, size_t size);
void *vae__fault_realloc(void *p, size_t n);
void *vae__fault_aligned_alloc(size_t align, size_t n);
int vae__fault_posix_memalign(void **p, size_t align, size_t n);
void vae__fault_free(void *p);
size_t vae__fault_fwrite(const void *p, size_t size, size_t n, FILE *f);
int vae__fault_fflush(FILE *f);
int vae__fault_fsync(int fd);

#ifndef VAE__FAULT_IMPL
#define malloc(n)               vae__fault_malloc(n)
#define calloc(n, s)            vae__fault_calloc(n, s)
#define realloc(p, n)           vae__fault_realloc(p, n)
#define aligned_alloc(a, n)     vae__fault_aligned_alloc(a, n)
#define posix_memalign(p, a, n) vae__fault_posix_memalign(p, a, n)
#define free(p)                 vae__fault_free(p)
#define fwrite(p, s, n, f)      vae__fault_fwrite(p, s, n, f)
#define fflush(f)               vae__fault_fflush(f)
#define fsync(fd)               vae__fault_fsync(fd)
#endif
#endif

#endif
