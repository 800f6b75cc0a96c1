/* xoshiro256**: fixed outputs for seed 0, ranges of uniform / uniform_pos (including the extreme raw outputs),
 * moments of normal and bernoulli, unbiased vae_rng_below, independent split streams, shuffle. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vae.h"

/* Inverse of an odd number mod 2^64 (Newton: each step doubles the correct low bits). */
static uint64_t inv64(uint64_t a) {
    uint64_t x = a;
    for (int i = 0; i < 6; i++) x *= 2 - a * x;
    return x;
}
static uint64_t rotr(uint64_t x, int k) {
    return (x >> k) | (x << (64 - k));
}

/* A state whose next raw output is `want`: the output is rotl(s1 * 5, 7) * 9, so s1 = rotr(want / 9, 7) / 5. */
static void force_next(vae_rng *r, uint64_t want) {
    r->s[1] = rotr(want * inv64(9), 7) * inv64(5);
    r->s[0] = r->s[2] = r->s[3] = 0x1234567u;
    r->has_spare = 0;
}

static void test_reference(void) {
    vae_rng r;
    vae_rng_seed(&r, 0);
    /* splitmix64 from 0: its first four outputs are the published reference values */
    CHECK(r.s[0] == 0xe220a8397b1dcdafULL && r.s[1] == 0x6e789e6aa1b965f4ULL);
    CHECK(r.s[2] == 0x06c45d188009454fULL && r.s[3] == 0xf88bb8a8724c81ecULL);
    /* first xoshiro256** outputs, computed once from the reference algorithm */
    static const uint64_t want[4] = {0x99ec5f36cb75f2b4ULL, 0xbf6e1f784956452aULL,
                                     0x1a5f849d4933e6e0ULL, 0x6aa594f1262d2d2cULL};
    for (int i = 0; i < 4; i++) CHECK(vae_rng_u64(&r) == want[i]);
    /* reproducible; different seeds differ */
    vae_rng a, b, c;
    vae_rng_seed(&a, 42);
    vae_rng_seed(&b, 42);
    vae_rng_seed(&c, 43);
    int same = 1, diff = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = vae_rng_u64(&a), y = vae_rng_u64(&b), z = vae_rng_u64(&c);
        same &= x == y;
        diff += x != z;
    }
    CHECK(same && diff == 100);
    /* reseeding forgets the normal's spare */
    vae_rng_seed(&a, 9);
    double n0 = vae_rng_normal(&a);
    vae_rng_seed(&a, 9);
    CHECK(vae_rng_normal(&a) == n0);
    /* the forcing trick works */
    force_next(&a, 0xdeadbeefcafef00dULL);
    CHECK(vae_rng_u64(&a) == 0xdeadbeefcafef00dULL);
}

static void test_uniform(void) {
    vae_rng r;
    vae_rng_seed(&r, 1);
    const int n = 1000000;
    double s = 0, lo = 1, hi = 0, plo = 1, phi = 0;
    for (int i = 0; i < n; i++) {
        double u = vae_rng_uniform(&r), p = vae_rng_uniform_pos(&r);
        s += u;
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
        plo = p < plo ? p : plo;
        phi = p > phi ? p : phi;
    }
    CHECK(lo >= 0 && hi < 1 && plo > 0 && phi < 1);
    CHECK_NEAR(s / n, 0.5, 4 * sqrt(1.0 / 12 / n), 0);
    /* the extreme raw outputs: all zero bits and all one bits */
    force_next(&r, 0);
    CHECK(vae_rng_uniform(&r) == 0);
    force_next(&r, 0);
    double p0 = vae_rng_uniform_pos(&r);
    CHECK(p0 > 0 && isfinite(log(p0)));
    force_next(&r, UINT64_MAX);
    double u1 = vae_rng_uniform(&r);
    CHECK_MSG(u1 < 1, "uniform of all-ones bits is %.17g", u1);
    force_next(&r, UINT64_MAX);
    double p1 = vae_rng_uniform_pos(&r);
    CHECK_MSG(p1 < 1, "uniform_pos of all-ones bits is %.17g", p1);
    /* vae_rand in f32 must also stay below 1 (a double just under 1 rounds to 1.0f) */
    vae_ctx *c = vae_ctx_new(0);
    if (c) {
        for (int dt = 0; dt < 2; dt++) {
            force_next(vae_ctx_rng(c), UINT64_MAX);
            vae_tensor *t = vae_rand(c, dt ? VAE_F64 : VAE_F32, VAE_SHAPE(1));
            CHECK_MSG(t && vae_item(t) < 1 && vae_item(t) > 0.99,
                      "rand %s of all-ones bits is %.17g", dt ? "f64" : "f32",
                      t ? vae_item(t) : -1);
        }
        vae_ctx_free(c);
    }
}

static void test_normal_bernoulli(void) {
    vae_rng r;
    vae_rng_seed(&r, 2);
    const int n = 1000000;
    double s = 0, ss = 0, s4 = 0;
    for (int i = 0; i < n; i++) {
        double z = vae_rng_normal(&r);
        s += z;
        ss += z * z;
        s4 += z * z * z * z;
    }
    double m = s / n, v = ss / n - m * m;
    CHECK_NEAR(m, 0, 4 / sqrt((double)n), 0);
    CHECK_NEAR(v, 1, 4 * sqrt(2.0 / n), 0);
    CHECK_NEAR(s4 / n, 3, 4 * sqrt(96.0 / n), 0); /* E z^4 = 3, Var z^4 = 105 - 9 = 96 */
    int k = 0;
    for (int i = 0; i < n; i++) k += vae_rng_bernoulli(&r, 0.25);
    CHECK_NEAR((double)k / n, 0.25, 4 * sqrt(0.25 * 0.75 / n), 0);
    int never = 0, always = 0;
    for (int i = 0; i < 1000; i++) {
        never += vae_rng_bernoulli(&r, -1) + vae_rng_bernoulli(&r, 0);
        always += vae_rng_bernoulli(&r, 2) + vae_rng_bernoulli(&r, 1);
    }
    CHECK(never == 0 && always == 2000);
}

/* vae_rng_normal_n gives what vae_rng_normal gives one call at a time, bit for bit, for counts around its block of
 * 64 pairs, starting with and without a spare normal, and leaves the same state behind (the spare field too, also
 * when it was already returned). */
static void test_normal_n(void) {
    const int64_t counts[] = {0, 1, 2, 3, 127, 128, 129, 130, 1001};
    double got[1001], want[1001];
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
        for (int spare = 0; spare < 2; spare++) {
            const int64_t n = counts[c];
            vae_rng a, b;
            vae_rng_seed(&a, 77 + (uint64_t)c);
            if (spare) vae_rng_normal(&a); /* leaves one spare normal */
            b = a;
            vae_rng_normal_n(&a, got, n);
            for (int64_t i = 0; i < n; i++) want[i] = vae_rng_normal(&b);
            CHECK_MSG(memcmp(got, want, sizeof(double) * (size_t)n) == 0, "normal_n n=%lld spare %d",
                      (long long)n, spare);
            CHECK(a.has_spare == b.has_spare && memcmp(&a.spare, &b.spare, sizeof a.spare) == 0 &&
                  memcmp(a.s, b.s, sizeof a.s) == 0);
            CHECK(vae_rng_normal(&a) == vae_rng_normal(&b));
        }
}

static void test_below(void) {
    vae_rng r;
    vae_rng_seed(&r, 3);
    CHECK(vae_rng_below(&r, 0) == 0 && vae_rng_below(&r, 1) == 0);
    enum { K = 7, N = 700000 };
    int cnt[K] = {0}, inrange = 1;
    for (int i = 0; i < N; i++) {
        uint64_t x = vae_rng_below(&r, K);
        if (x >= K)
            inrange = 0;
        else
            cnt[x]++;
    }
    CHECK(inrange);
    double e = (double)N / K, se = sqrt(N * (1.0 / K) * (1 - 1.0 / K));
    for (int i = 0; i < K; i++) CHECK_NEAR(cnt[i], e, 4 * se, 0);
    /* n = 3 * 2^62: plain modulo would put half of the mass below 2^62 instead of a third */
    const uint64_t big = 3ULL << 62;
    int low = 0, ok = 1;
    const int M = 200000;
    for (int i = 0; i < M; i++) {
        uint64_t x = vae_rng_below(&r, big);
        if (x >= big) ok = 0;
        low += x < (1ULL << 62);
    }
    CHECK(ok);
    CHECK_NEAR((double)low / M, 1.0 / 3, 4 * sqrt(2.0 / 9 / M), 0);
    /* the largest n */
    uint64_t x = vae_rng_below(&r, UINT64_MAX);
    CHECK(x < UINT64_MAX);
}

static void test_split_shuffle(void) {
    vae_rng p, ref, c1, c2;
    vae_rng_seed(&p, 4);
    ref = p;
    vae_rng_split(&p, &c1);
    vae_rng_split(&p, &c2);
    /* the first child continues the parent's old stream; parent and second child are elsewhere */
    int eq = 1, d12 = 0, dp = 0;
    uint64_t a[1000], b[1000];
    for (int i = 0; i < 1000; i++) {
        uint64_t r0 = vae_rng_u64(&ref), x1 = vae_rng_u64(&c1), x2 = vae_rng_u64(&c2),
                 xp = vae_rng_u64(&p);
        eq &= r0 == x1;
        d12 += x1 != x2;
        dp += xp != x1 && xp != x2;
        a[i] = x1;
        b[i] = x2;
    }
    CHECK(eq && d12 == 1000 && dp == 1000);
    /* no output of one child's first 1000 appears among the other's */
    int overlap = 0;
    for (int i = 0; i < 1000; i++)
        for (int j = 0; j < 1000; j++) overlap += a[i] == b[j];
    CHECK(overlap == 0);
    /* split is deterministic */
    vae_rng q, d1;
    vae_rng_seed(&q, 4);
    vae_rng_split(&q, &d1);
    vae_rng_split(&q, &d1);
    vae_rng_seed(&c2, 0);
    vae_rng_seed(&p, 4);
    vae_rng_split(&p, &c2);
    vae_rng_split(&p, &c2);
    CHECK(memcmp(d1.s, c2.s, sizeof d1.s) == 0);

    enum { N = 1000 };
    int64_t idx[N], idx2[N];
    for (int i = 0; i < N; i++) idx[i] = idx2[i] = i;
    vae_rng s1, s2;
    vae_rng_seed(&s1, 5);
    vae_rng_seed(&s2, 5);
    vae_rng_shuffle_i64(&s1, idx, N);
    vae_rng_shuffle_i64(&s2, idx2, N);
    int seen[N] = {0}, perm = 1, fixed = 0;
    for (int i = 0; i < N; i++) {
        if (idx[i] < 0 || idx[i] >= N || seen[idx[i]]++) perm = 0;
        fixed += idx[i] == i;
    }
    CHECK(perm);
    CHECK(fixed < 10); /* about 1 expected */
    CHECK(memcmp(idx, idx2, sizeof idx) == 0);
    /* every position receives every value about equally often (first element over many shuffles of 4) */
    int first[4] = {0};
    for (int t = 0; t < 40000; t++) {
        int64_t v[4] = {0, 1, 2, 3};
        vae_rng_shuffle_i64(&s1, v, 4);
        first[v[0]]++;
    }
    for (int i = 0; i < 4; i++) CHECK_NEAR(first[i], 10000, 4 * sqrt(40000 * 0.25 * 0.75), 0);
    int64_t one = 7;
    vae_rng_shuffle_i64(&s1, &one, 1);
    vae_rng_shuffle_i64(&s1, NULL, 0);
    CHECK(one == 7);
}

/* The bulk Bernoulli draw equals vae_rng_bernoulli in order, and leaves the state where those calls would. */
static void test_bernoulli_f32(void) {
    enum { N = 1000 };
    static float p[N], got[N];
    for (int i = 0; i < N; i++)
        p[i] = (float)((i * 37) % 101) / 100.0f - 0.005f * (i % 3); /* < 0, 0..1, 1 */
    vae_rng a, b;
    vae_rng_seed(&a, 77);
    b = a;
    vae_rng_bernoulli_f32(&a, p, got, N);
    int same = 1;
    for (int i = 0; i < N; i++) same &= got[i] == (float)vae_rng_bernoulli(&b, p[i]);
    CHECK(same);
    CHECK(vae_rng_u64(&a) == vae_rng_u64(&b));
    vae_rng_bernoulli_f32(&a, p, got, 0); /* n = 0: no draw */
    CHECK(vae_rng_u64(&a) == vae_rng_u64(&b));
}

int main(void) {
    test_reference();
    test_bernoulli_f32();
    test_uniform();
    test_normal_bernoulli();
    test_normal_n();
    test_below();
    test_split_shuffle();
    return test_finish();
}
