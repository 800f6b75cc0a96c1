/* The public f32-heavy elementwise kernels: each calls the ISA variant (ew_isa.h) chosen once at
 * first use. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"
#include "ew_isa.h"

typedef struct ew_table {
    void (*unary)(vae_unary, double, double, const vae_tensor *, vae_tensor *);
    void (*unary_grad)(vae_unary, double, double, const vae_tensor *, const vae_tensor *,
                       const vae_tensor *, vae_tensor *);
    void (*bias_act)(vae_tensor *, const vae_tensor *, vae_kact, double);
    void (*act_grad)(vae_kact, double, const vae_tensor *, const vae_tensor *, vae_tensor *);
    void (*bern)(const vae_tensor *, const vae_tensor *, vae_tensor *);
    void (*bern_grad)(const vae_tensor *, const vae_tensor *, const vae_tensor *, vae_tensor *,
                      int);
    void (*adam)(float *, float *, float *, const float *, int64_t, const vae_k_adam *, const vae_owner_map *,
                 double *);
} ew_table;

#define EW_TABLE(sfx)                                                                              \
    {                                                                                              \
        vae_k_unary_##sfx, vae_k_unary_grad_##sfx, vae_k_bias_act_##sfx, vae_k_act_grad_##sfx,     \
            vae_k_bernoulli_lp_##sfx, vae_k_bernoulli_lp_grad_##sfx, vae_k_adam_f32_##sfx          \
    }

/* Indexed by vae_simd_path; a variant this build lacks falls back to portable (never chosen: not
 * available). */
static const ew_table tables[VAE_SIMD_PATH_COUNT_] = {
    EW_TABLE(portable),
    EW_TABLE(portable),
#if defined(VAE_HAVE_AVX2)
    EW_TABLE(avx2),
#else
    EW_TABLE(portable),
#endif
#if defined(VAE_HAVE_AVX512)
    EW_TABLE(avx512),
#else
    EW_TABLE(portable),
#endif
};

static int path_available(vae_simd_path p) {
    switch (p) {
    case VAE_SIMD_PORTABLE:
        return 1;
#if defined(VAE_HAVE_AVX2)
    case VAE_SIMD_AVX2:
        return vae_cpu_has_avx2_fma();
#endif
#if defined(VAE_HAVE_AVX512)
    case VAE_SIMD_AVX512:
        return vae_cpu_has_avx512f();
#endif
    default:
        return 0;
    }
}

static vae_simd_path best_path(void) {
    if (path_available(VAE_SIMD_AVX512)) return VAE_SIMD_AVX512;
    if (path_available(VAE_SIMD_AVX2)) return VAE_SIMD_AVX2;
    return VAE_SIMD_PORTABLE;
}

static atomic_int g_path = -1; /* resolved vae_simd_path; -1 until first use */

const char *vae_simd_path_name(vae_simd_path p) {
    static const char *names[VAE_SIMD_PATH_COUNT_] = {"auto", "portable", "avx2", "avx512"};
    if ((int)p < 0 || p >= VAE_SIMD_PATH_COUNT_) return "unknown";
    return names[p];
}

vae_simd_path vae_simd_get_path(void) {
    int p = atomic_load_explicit(&g_path, memory_order_relaxed);
    if (p >= 0) return (vae_simd_path)p;
    vae_simd_path want = best_path();
    const char *env = getenv("VAE_SIMD");
    if (env)
        for (int i = VAE_SIMD_PORTABLE; i < VAE_SIMD_PATH_COUNT_; i++)
            if (strcmp(env, vae_simd_path_name((vae_simd_path)i)) == 0 &&
                path_available((vae_simd_path)i))
                want = (vae_simd_path)i;
    int expected = -1; /* a concurrent vae_simd_set_path wins over the env default */
    atomic_compare_exchange_strong(&g_path, &expected, (int)want);
    return (vae_simd_path)atomic_load(&g_path);
}

vae_status vae_simd_set_path(vae_simd_path p) {
    if ((int)p < 0 || p >= VAE_SIMD_PATH_COUNT_) return VAE_ERR_ARG;
    if (p == VAE_SIMD_AUTO) p = best_path();
    if (!path_available(p)) return VAE_ERR_UNSUPPORTED;
    atomic_store(&g_path, (int)p);
    return VAE_OK;
}

static const ew_table *ew(void) {
    return &tables[vae_simd_get_path()];
}

void vae_k_unary(vae_unary op, double p0, double p1, const vae_tensor *x, vae_tensor *y) {
    ew()->unary(op, p0, p1, x, y);
}
void vae_k_unary_grad(vae_unary op, double p0, double p1, const vae_tensor *x, const vae_tensor *y,
                      const vae_tensor *gy, vae_tensor *gx) {
    ew()->unary_grad(op, p0, p1, x, y, gy, gx);
}
void vae_k_bias_act(vae_tensor *y, const vae_tensor *b, vae_kact act, double alpha) {
    ew()->bias_act(y, b, act, alpha);
}
void vae_k_act_grad(vae_kact act, double alpha, const vae_tensor *y, const vae_tensor *gy,
                    vae_tensor *g) {
    ew()->act_grad(act, alpha, y, gy, g);
}
void vae_k_bernoulli_lp(const vae_tensor *l, const vae_tensor *x, vae_tensor *out) {
    ew()->bern(l, x, out);
}
void vae_k_bernoulli_lp_grad(const vae_tensor *l, const vae_tensor *x, const vae_tensor *gy,
                             vae_tensor *g, int accumulate) {
    ew()->bern_grad(l, x, gy, g, accumulate);
}
void vae_k_adam_f32(float *x, float *m, float *v, const float *g, int64_t n, const vae_k_adam *a,
                    const vae_owner_map *own, double *sumsq) {
    ew()->adam(x, m, v, g, n, a, own, sumsq);
}

/* The second group of variants (ew_isa.h VAE__EW_PROTOS2), in a table of its own. */
typedef struct ew_table2 {
    void (*bern_keyed)(uint64_t, uint64_t, const float *, int64_t, const int64_t *, int64_t,
                       float *);
    void (*kl)(const float *, int64_t, const float *, int64_t, int64_t, int64_t, float *);
    void (*kl_grad)(const float *, int64_t, const float *, int64_t, const float *, int64_t, int64_t,
                    float *, float *);
    double (*sumsq)(const void *, int64_t, int);
    void (*lpdf)(const vae_tensor *, const vae_tensor *, const vae_tensor *, vae_tensor *);
    void (*lpdf_grad)(const vae_tensor *, const vae_tensor *, const vae_tensor *, const vae_tensor *,
                      vae_tensor *, vae_tensor *, vae_tensor *);
} ew_table2;

#define EW_TABLE2(sfx)                                                                             \
    {                                                                                              \
        vae_k_bernoulli_keyed_f32_##sfx, vae_k_normal_kl_std_f32_##sfx,                            \
            vae_k_normal_kl_std_grad_f32_##sfx, vae_k_sumsq_##sfx, vae_k_normal_lpdf_##sfx,        \
            vae_k_normal_lpdf_grad_##sfx                                                           \
    }

static const ew_table2 tables2[VAE_SIMD_PATH_COUNT_] = {
    EW_TABLE2(portable),
    EW_TABLE2(portable),
#if defined(VAE_HAVE_AVX2)
    EW_TABLE2(avx2),
#else
    EW_TABLE2(portable),
#endif
#if defined(VAE_HAVE_AVX512)
    EW_TABLE2(avx512),
#else
    EW_TABLE2(portable),
#endif
};

void vae_k_bernoulli_keyed_f32(uint64_t key, uint64_t ctr0, const float *p, int64_t d,
                               const int64_t *idx, int64_t m, float *out) {
    tables2[vae_simd_get_path()].bern_keyed(key, ctr0, p, d, idx, m, out);
}
void vae_k_normal_kl_std_f32(const float *mu, int64_t smu, const float *lv, int64_t slv,
                             int64_t rows, int64_t Z, float *y) {
    tables2[vae_simd_get_path()].kl(mu, smu, lv, slv, rows, Z, y);
}
void vae_k_normal_kl_std_grad_f32(const float *mu, int64_t smu, const float *lv, int64_t slv,
                                  const float *gy, int64_t rows, int64_t Z, float *gm, float *gl) {
    tables2[vae_simd_get_path()].kl_grad(mu, smu, lv, slv, gy, rows, Z, gm, gl);
}
double vae_k_sumsq(const void *x, int64_t n, int f64) {
    return tables2[vae_simd_get_path()].sumsq(x, n, f64);
}
int64_t vae_k_sumsq_chunk(int64_t n) {
    const int64_t c = n > 0 ? (n + VAE__SUMSQ_MAX_CHUNKS - 1) / VAE__SUMSQ_MAX_CHUNKS : 1;
    return c < VAE__SUMSQ_MIN_CHUNK ? VAE__SUMSQ_MIN_CHUNK : c;
}
void vae_k_normal_lpdf(const vae_tensor *x, const vae_tensor *mu, const vae_tensor *s, vae_tensor *y) {
    tables2[vae_simd_get_path()].lpdf(x, mu, s, y);
}
void vae_k_normal_lpdf_grad(const vae_tensor *x, const vae_tensor *mu, const vae_tensor *s, const vae_tensor *gy,
                            vae_tensor *gx, vae_tensor *gmu, vae_tensor *gs) {
    tables2[vae_simd_get_path()].lpdf_grad(x, mu, s, gy, gx, gmu, gs);
}
