/* CPUID + XGETBV feature detection (see cpu.h). */
#include "cpu.h"

#include <stdatomic.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <stdint.h>

enum { FEAT_AVX2_FMA = 1, FEAT_AVX512 = 2, FEAT_DONE = 0x100 };

/* XCR0 through inline asm, so this file needs no -mxsave (it is compiled for the baseline ISA). */
static uint64_t read_xcr0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static int detect(void) {
    unsigned a, b, c, d;
    int f = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1;
    if (!osxsave || !avx) return 0;
    const uint64_t xcr0 = read_xcr0();
    /* bits 1,2: SSE and AVX (ymm upper halves); bits 5,6,7: opmask, zmm0-15 upper halves, zmm16-31.
     */
    const int os_ymm = (xcr0 & 0x6) == 0x6, os_zmm = (xcr0 & 0xe6) == 0xe6;
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    const int avx2 = (b >> 5) & 1;
    const int f512 = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    if (os_ymm && avx2 && fma) f |= FEAT_AVX2_FMA;
    if (os_zmm && f512 && dq && bw && vl && (f & FEAT_AVX2_FMA)) f |= FEAT_AVX512;
    return f;
}

static int features(void) {
    static atomic_int cached; /* 0 = not computed yet; benign if two threads compute it at once */
    int f = atomic_load_explicit(&cached, memory_order_relaxed);
    if (!f) {
        f = detect() | FEAT_DONE;
        atomic_store_explicit(&cached, f, memory_order_relaxed);
    }
    return f;
}

int vae_cpu_has_avx2_fma(void) {
    return (features() & FEAT_AVX2_FMA) != 0;
}
int vae_cpu_has_avx512f(void) {
    return (features() & FEAT_AVX512) != 0;
}

#else

int vae_cpu_has_avx2_fma(void) {
    return 0;
}
int vae_cpu_has_avx512f(void) {
    return 0;
}

#endif
