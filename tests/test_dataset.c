/* test_dataset.c - sprites, split, shuffling iterator, dynamic binarization, standardization, spec
 * parsing. */
#include <stdlib.h>
#include <string.h>

#include "nn/dataset.h"
#include "nn/sprites.h"
#include "test.h"

static void test_sprites_determinism(void) {
    vae_error err = {0};
    vae_dataset a = {0}, b = {0}, c = {0};
    CHECK(vae_sprites_dataset(500, 7, 32, &a, &err) == VAE_OK);
    CHECK(vae_sprites_dataset(500, 7, 32, &b, &err) == VAE_OK);
    CHECK(vae_sprites_dataset(500, 8, 32, &c, &err) == VAE_OK);
    CHECK(a.n == 500 && a.d == 1024 && a.h == 32 && a.w == 32 && a.c == 1);
    CHECK(memcmp(a.x, b.x, (size_t)a.n * (size_t)a.d * sizeof(float)) == 0);
    CHECK(memcmp(a.factors, b.factors, (size_t)a.n * 5 * sizeof(int64_t)) == 0);
    CHECK(memcmp(a.factors, c.factors, (size_t)a.n * 5 * sizeof(int64_t)) != 0);
    CHECK(memcmp(a.x, c.x, (size_t)a.n * (size_t)a.d * sizeof(float)) != 0);
    /* metadata */
    CHECK(a.nfactors == 5 && a.factor_names && a.factor_sizes);
    CHECK(strcmp(a.factor_names[0], "shape") == 0 &&
          strcmp(a.factor_names[2], "orientation") == 0 && strcmp(a.factor_names[4], "pos_y") == 0);
    CHECK(a.factor_sizes[0] == 3 && a.factor_sizes[1] == 6 && a.factor_sizes[2] == 40 &&
          a.factor_sizes[3] == 32 && a.factor_sizes[4] == 32);
    /* factor ranges, labels = shape, distinct tuples, rows match a fresh render */
    int ranges_ok = 1, distinct = 1, render_ok = 1;
    uint8_t *seen = calloc(VAE_SPRITES_COUNT, 1);
    float img[32 * 32];
    for (int64_t i = 0; i < a.n; i++) {
        const int64_t *f = a.factors + i * 5;
        for (int k = 0; k < 5; k++)
            if (f[k] < 0 || f[k] >= vae_sprites_factor_sizes[k]) ranges_ok = 0;
        if (a.labels[i] != f[0]) ranges_ok = 0;
        int64_t idx = -1;
        if (vae_sprites_index(f, &idx, &err) != VAE_OK || seen[idx])
            distinct = 0;
        else
            seen[idx] = 1;
        vae_sprites_render(f, img, 32, &err);
        if (memcmp(img, a.x + i * a.d, sizeof img) != 0) render_ok = 0;
    }
    free(seen);
    CHECK(ranges_ok);
    CHECK(distinct);
    CHECK(render_ok);
    /* each factor takes many of its levels in 500 draws */
    int64_t lo[5] = {99, 99, 99, 99, 99}, hi[5] = {0};
    for (int64_t i = 0; i < a.n; i++)
        for (int k = 0; k < 5; k++) {
            int64_t v = a.factors[i * 5 + k];
            if (v < lo[k]) lo[k] = v;
            if (v > hi[k]) hi[k] = v;
        }
    for (int k = 0; k < 5; k++) CHECK(lo[k] == 0 && hi[k] == vae_sprites_factor_sizes[k] - 1);
    CHECK(err.code == VAE_OK);
    vae_dataset_free(&a);
    vae_dataset_free(&b);
    vae_dataset_free(&c);
    /* n = all combinations: a permutation of them */
    vae_dataset all = {0};
    CHECK(vae_sprites_dataset(VAE_SPRITES_COUNT, 3, 8, &all, &err) == VAE_OK);
    if (all.factors) {
        uint8_t *s2 = calloc(VAE_SPRITES_COUNT, 1);
        int perm = 1;
        for (int64_t i = 0; i < all.n; i++) {
            int64_t idx = 0;
            vae_sprites_index(all.factors + i * 5, &idx, NULL);
            if (s2[idx]++) perm = 0;
        }
        CHECK(perm);
        free(s2);
    }
    vae_dataset_free(&all);
}

static void test_sprites_frame(void) {
    vae_error err = {0};
    for (int S = 16; S <= 64; S *= 2) {
        float *img = malloc((size_t)S * (size_t)S * sizeof *img);
        int border_ok = 1, nonzero_ok = 1, count = 0;
        double area[3][6] = {{0}};
        for (int64_t shape = 0; shape < 3; shape++)
            for (int64_t scale = 0; scale < 6; scale++)
                for (int64_t rot = 0; rot < 40; rot++)
                    for (int corner = 0; corner < 5; corner++) {
                        int64_t px = corner == 4 ? 15 : (corner & 1) * 31,
                                py = corner == 4 ? 16 : (corner >> 1) * 31;
                        int64_t f[5] = {shape, scale, rot, px, py};
                        if (vae_sprites_render(f, img, S, &err) != VAE_OK) border_ok = 0;
                        double sum = 0;
                        int nz = 0;
                        for (int i = 0; i < S * S; i++) {
                            sum += img[i];
                            nz += img[i] > 0;
                            if (img[i] < 0 || img[i] > 1) border_ok = 0;
                        }
                        for (int k = 0; k < S; k++)
                            if (img[k] != 0 || img[(S - 1) * S + k] != 0 || img[k * S] != 0 ||
                                img[k * S + S - 1] != 0)
                                border_ok = 0;
                        if (nz < 4) nonzero_ok = 0;
                        area[shape][scale] += sum;
                        count++;
                    }
        CHECK_MSG(border_ok, "S=%d: a sprite touches the frame border", S);
        CHECK_MSG(nonzero_ok, "S=%d: a sprite is (almost) empty", S);
        CHECK(count == 3 * 6 * 40 * 5);
        /* area grows with scale, roughly as scale^2 (ratio 4 from 0.5 to 1.0) */
        int mono = 1;
        for (int s = 0; s < 3; s++) {
            for (int k = 1; k < 6; k++)
                if (!(area[s][k] > area[s][k - 1])) mono = 0;
            double ratio = area[s][5] / area[s][0];
            if (ratio < 3.0 || ratio > 5.0) mono = 0;
        }
        CHECK_MSG(mono, "S=%d: area not increasing ~scale^2", S);
        free(img);
    }
    /* the three shapes differ */
    float a[1024], b[1024], c[1024];
    int64_t fa[5] = {0, 5, 3, 16, 16}, fb[5] = {1, 5, 3, 16, 16}, fc[5] = {2, 5, 3, 16, 16};
    vae_sprites_render(fa, a, 32, &err);
    vae_sprites_render(fb, b, 32, &err);
    vae_sprites_render(fc, c, 32, &err);
    CHECK(memcmp(a, b, sizeof a) != 0 && memcmp(b, c, sizeof b) != 0 &&
          memcmp(a, c, sizeof a) != 0);
    /* index <-> factors round trip and bad arguments */
    int64_t f[5], idx = -5;
    CHECK(vae_sprites_factors(VAE_SPRITES_COUNT - 1, f, &err) == VAE_OK);
    CHECK(f[0] == 2 && f[1] == 5 && f[2] == 39 && f[3] == 31 && f[4] == 31);
    CHECK(vae_sprites_factors(12345, f, &err) == VAE_OK &&
          vae_sprites_index(f, &idx, &err) == VAE_OK && idx == 12345);
    CHECK(err.code == VAE_OK);
    CHECK(vae_sprites_factors(VAE_SPRITES_COUNT, f, &err) == VAE_ERR_ARG);
    vae_error_clear(&err);
    int64_t bad[5] = {3, 0, 0, 0, 0};
    a[0] = 42.0f;
    CHECK(vae_sprites_render(bad, a, 32, &err) == VAE_ERR_ARG && a[0] == 42.0f);
    CHECK(strstr(err.msg, "shape") != NULL);
    vae_error_clear(&err);
    CHECK(vae_sprites_render(fa, a, 7, &err) == VAE_ERR_ARG && a[0] == 42.0f);
    vae_error_clear(&err);
    vae_dataset ds = {0};
    ds.n = 77;
    CHECK(vae_sprites_dataset(0, 1, 32, &ds, &err) == VAE_ERR_ARG && ds.n == 77);
    vae_error_clear(&err);
    CHECK(vae_sprites_dataset(VAE_SPRITES_COUNT + 1, 1, 32, &ds, &err) == VAE_ERR_ARG &&
          ds.n == 77);
}

/* A small set whose labels are the row number and x[i*d + j] = i + j/10. */
static vae_dataset make_rows(int64_t n, int64_t d) {
    vae_dataset ds = {0};
    vae_dataset_alloc(&ds, n, d, NULL);
    ds.labels = malloc((size_t)n * sizeof *ds.labels);
    for (int64_t i = 0; i < n; i++) {
        ds.labels[i] = i;
        for (int64_t j = 0; j < d; j++) ds.x[i * d + j] = (float)i + (float)j / 10.0f;
    }
    snprintf(ds.name, sizeof ds.name, "rows");
    return ds;
}

static int split_ok(const vae_dataset *src, const vae_dataset *t, const vae_dataset *v) {
    if (t->n + v->n != src->n || t->d != src->d || v->d != src->d) return 0;
    uint8_t *seen = calloc((size_t)src->n, 1);
    int ok = 1;
    const vae_dataset *sides[2] = {t, v};
    for (int s = 0; s < 2; s++)
        for (int64_t i = 0; i < sides[s]->n; i++) {
            int64_t r = sides[s]->labels[i];
            if (r < 0 || r >= src->n || seen[r]++)
                ok = 0;
            else if (memcmp(sides[s]->x + i * src->d, src->x + r * src->d,
                            (size_t)src->d * sizeof(float)))
                ok = 0;
            if (i > 0 && sides[s]->labels[i - 1] >= r) ok = 0; /* original order kept */
        }
    free(seen);
    return ok;
}

static void test_split(void) {
    vae_error err = {0};
    vae_dataset src = make_rows(1000, 3), t = {0}, v = {0}, t2 = {0}, v2 = {0};
    CHECK(vae_dataset_split(&src, 0.1, 42, &t, &v, &err) == VAE_OK);
    CHECK(t.n == 900 && v.n == 100);
    CHECK(split_ok(&src, &t, &v));
    CHECK(strcmp(t.name, "rows") == 0);
    CHECK(vae_dataset_split(&src, 0.1, 42, &t2, &v2, &err) == VAE_OK);
    CHECK(v2.n == 100 && memcmp(v.labels, v2.labels, 100 * sizeof(int64_t)) == 0);
    vae_dataset_free(&t2);
    vae_dataset_free(&v2);
    CHECK(vae_dataset_split(&src, 0.1, 43, &t2, &v2, &err) == VAE_OK);
    CHECK(memcmp(v.labels, v2.labels, 100 * sizeof(int64_t)) != 0);
    vae_dataset_free(&t2);
    vae_dataset_free(&v2);
    CHECK(vae_dataset_split(&src, 250, 1, &t2, &v2, &err) == VAE_OK);
    CHECK(t2.n == 750 && v2.n == 250 && split_ok(&src, &t2, &v2));
    CHECK(err.code == VAE_OK);
    /* bad amounts: outputs unchanged */
    const double bad[] = {0.0, -0.5, 1.5, 1000.0, 2000.0, 0.0001, NAN, INFINITY};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        vae_error e = {0};
        vae_dataset a = {0}, b = {0};
        a.n = 5;
        b.n = 6;
        CHECK_MSG(vae_dataset_split(&src, bad[k], 1, &a, &b, &e) == VAE_ERR_ARG && a.n == 5 &&
                      b.n == 6,
                  "amount %g", bad[k]);
    }
    vae_dataset_free(&t);
    vae_dataset_free(&v);
    vae_dataset_free(&t2);
    vae_dataset_free(&v2);
    /* subset and gather */
    int64_t idx[3] = {7, 0, 999};
    float dst[9];
    CHECK(vae_dataset_gather(&src, idx, 3, dst, &err) == VAE_OK);
    CHECK(dst[0] == 7.0f && dst[3] == 0.0f && dst[8] == 999.2f);
    int64_t badidx[2] = {1, 1000};
    dst[0] = -1;
    CHECK(vae_dataset_gather(&src, badidx, 2, dst, &err) == VAE_ERR_ARG && dst[0] == -1);
    CHECK(strstr(err.msg, "1000") != NULL);
    vae_error_clear(&err);
    vae_dataset sub = {0};
    CHECK(vae_dataset_subset(&src, idx, 3, &sub, &err) == VAE_OK);
    CHECK(sub.n == 3 && sub.labels[0] == 7 && sub.labels[2] == 999 && sub.x[3] == 0.0f);
    vae_dataset_free(&sub);
    vae_dataset_free(&src);
    vae_dataset_free(NULL);
}

static void test_iter(void) {
    vae_error err = {0};
    vae_batch_iter it, it2;
    CHECK(vae_batch_iter_init(&it, 103, 10, 5, 0, &err) == VAE_OK);
    int64_t *e0 = malloc(103 * sizeof *e0), *e1 = malloc(103 * sizeof *e1);
    const int64_t *b;
    int64_t m, got = 0, nb = 0;
    while ((m = vae_batch_iter_next(&it, &b)) > 0) {
        memcpy(e0 + got, b, (size_t)m * sizeof *b);
        got += m;
        nb++;
    }
    CHECK(got == 103 && nb == 11 && b == NULL && it.epoch == 1);
    uint8_t seen[103] = {0};
    int perm = 1, identity = 1;
    for (int i = 0; i < 103; i++) {
        if (e0[i] < 0 || e0[i] >= 103 || seen[e0[i]]++) perm = 0;
        if (e0[i] != i) identity = 0;
    }
    CHECK(perm && !identity);
    got = 0;
    while ((m = vae_batch_iter_next(&it, &b)) > 0) {
        memcpy(e1 + got, b, (size_t)m * sizeof *b);
        got += m;
    }
    CHECK(got == 103 && memcmp(e0, e1, 103 * sizeof *e0) != 0); /* a fresh permutation per epoch */
    /* same seed reproduces; set_epoch resumes */
    CHECK(vae_batch_iter_init(&it2, 103, 10, 5, 0, &err) == VAE_OK);
    vae_batch_iter_set_epoch(&it2, 1);
    m = vae_batch_iter_next(&it2, &b);
    CHECK(m == 10 && memcmp(b, e1, 10 * sizeof *b) == 0);
    vae_batch_iter_free(&it2);
    CHECK(vae_batch_iter_init(&it2, 103, 10, 6, 0, &err) == VAE_OK);
    m = vae_batch_iter_next(&it2, &b);
    CHECK(m == 10 && memcmp(b, e0, 10 * sizeof *b) != 0);
    vae_batch_iter_free(&it2);
    /* drop_last */
    CHECK(vae_batch_iter_init(&it2, 103, 10, 5, 1, &err) == VAE_OK);
    nb = 0;
    while ((m = vae_batch_iter_next(&it2, &b)) > 0) {
        CHECK(m == 10);
        nb++;
    }
    CHECK(nb == 10);
    vae_batch_iter_free(&it2);
    CHECK(err.code == VAE_OK);
    CHECK(vae_batch_iter_init(&it2, 5, 10, 5, 1, &err) == VAE_ERR_ARG);
    vae_error_clear(&err);
    CHECK(vae_batch_iter_init(&it2, 0, 10, 5, 0, &err) == VAE_ERR_ARG);
    vae_batch_iter_free(&it);
    vae_batch_iter_free(NULL);
    free(e0);
    free(e1);
}

static void test_binarize(void) {
    vae_error err = {0};
    /* 2 rows of 8 probabilities; draw each row many times */
    vae_dataset ds = {0};
    vae_dataset_alloc(&ds, 2, 8, &err);
    const float p[16] = {0,    0.05f, 0.1f, 0.3f, 0.5f, 0.7f, 0.95f, 1,
                         0.2f, 0.4f,  0.6f, 0.8f, 0,    1,    0.5f,  0.01f};
    memcpy(ds.x, p, sizeof p);
    vae_rng rng;
    vae_rng_seed(&rng, 2024);
    enum { M = 64, DRAWS = 400 };
    int64_t idx[M];
    for (int i = 0; i < M; i++) idx[i] = i % 2;
    float *dst = malloc(M * 8 * sizeof *dst);
    double sum[16] = {0};
    int binary = 1;
    for (int r = 0; r < DRAWS; r++) {
        CHECK(vae_dataset_binarize_dynamic(&ds, dst, idx, M, &rng, &err) == VAE_OK);
        for (int i = 0; i < M; i++)
            for (int j = 0; j < 8; j++) {
                float v = dst[i * 8 + j];
                if (v != 0.0f && v != 1.0f) binary = 0;
                sum[(i % 2) * 8 + j] += v;
            }
    }
    CHECK(binary);
    double draws = (double)DRAWS * M / 2;
    for (int k = 0; k < 16; k++) {
        double mean = sum[k] / draws, se = sqrt(p[k] * (1 - p[k]) / draws);
        CHECK_MSG(fabs(mean - p[k]) <= 4 * se + 1e-12, "p=%g mean=%g se=%g", p[k], mean, se);
    }
    /* two calls draw afresh */
    float a[8], b2[8];
    int64_t one = 0;
    vae_dataset_binarize_dynamic(&ds, a, &one, 1, &rng, &err);
    int differ = 0;
    for (int r = 0; r < 20 && !differ; r++) {
        vae_dataset_binarize_dynamic(&ds, b2, &one, 1, &rng, &err);
        differ = memcmp(a, b2, sizeof a) != 0;
    }
    CHECK(differ);
    /* bad index: dst untouched, rng not advanced */
    vae_rng before = rng;
    int64_t badidx[2] = {0, 2};
    dst[0] = 7;
    CHECK(vae_dataset_binarize_dynamic(&ds, dst, badidx, 2, &rng, &err) == VAE_ERR_ARG &&
          dst[0] == 7);
    CHECK(memcmp(&before, &rng, sizeof rng) == 0);
    vae_error_clear(&err);
    vae_dataset_free(&ds);
    free(dst);

    /* on sprites: the mean of the binarized batch matches the mean pixel within a few standard
     * errors */
    vae_dataset sp = {0};
    CHECK(vae_sprites_dataset(64, 11, 32, &sp, &err) == VAE_OK);
    int64_t all[64];
    for (int i = 0; i < 64; i++) all[i] = i;
    float *bb = malloc(64 * 1024 * sizeof *bb);
    double pix = 0, var = 0;
    for (int i = 0; i < 64 * 1024; i++) {
        pix += sp.x[i];
        var += sp.x[i] * (1 - sp.x[i]);
    }
    double tot = 0;
    vae_rng_seed(&rng, 99);
    for (int r = 0; r < 50; r++) {
        vae_dataset_binarize_dynamic(&sp, bb, all, 64, &rng, &err);
        for (int i = 0; i < 64 * 1024; i++) tot += bb[i];
    }
    double se = sqrt(50 * var);
    CHECK_MSG(fabs(tot - 50 * pix) <= 4 * se + 1e-9, "tot=%g expect=%g se=%g", tot, 50 * pix, se);
    free(bb);
    vae_dataset_free(&sp);
}

static void test_standardize(void) {
    vae_error err = {0};
    enum { N = 500, D = 4 };
    vae_dataset ds = {0}, te = {0};
    vae_dataset_alloc(&ds, N, D, &err);
    vae_dataset_alloc(&te, 10, D, &err);
    vae_rng rng;
    vae_rng_seed(&rng, 3);
    for (int i = 0; i < N; i++) {
        ds.x[i * D + 0] = (float)(1000 + 50 * vae_rng_normal(&rng));
        ds.x[i * D + 1] = (float)(-3 + 0.01 * vae_rng_normal(&rng));
        ds.x[i * D + 2] = 7.5f; /* constant column */
        ds.x[i * D + 3] = (float)vae_rng_uniform(&rng);
    }
    for (int i = 0; i < 10 * D; i++) te.x[i] = ds.x[i];
    float *orig = malloc(N * D * sizeof *orig);
    memcpy(orig, ds.x, N * D * sizeof *orig);
    CHECK(vae_dataset_standardize(&ds, &err) == VAE_OK);
    CHECK(ds.col_mean && ds.col_std);
    for (int j = 0; j < D; j++) {
        double m = 0, v = 0;
        for (int i = 0; i < N; i++) m += ds.x[i * D + j];
        m /= N;
        for (int i = 0; i < N; i++) v += (ds.x[i * D + j] - m) * (ds.x[i * D + j] - m);
        v = sqrt(v / N);
        CHECK_NEAR(m, 0.0, 1e-5, 0);
        if (j == 2) {
            CHECK(ds.col_std[2] == 1.0 && v == 0.0);
        } else
            CHECK_NEAR(v, 1.0, 1e-4, 0);
    }
    CHECK_NEAR(ds.col_mean[0], 1000, 10, 0);
    CHECK_NEAR(ds.col_mean[2], 7.5, 1e-12, 0);
    double maxerr = 0;
    float row[D];
    for (int i = 0; i < N; i++) {
        vae_dataset_unstandardize_row(&ds, ds.x + i * D, row);
        for (int j = 0; j < D; j++) {
            double e = fabs(row[j] - orig[i * D + j]) / (1 + fabs(orig[i * D + j]));
            if (e > maxerr) maxerr = e;
        }
    }
    CHECK_MSG(maxerr < 1e-5, "max rel error %g", maxerr);
    /* in place */
    memcpy(row, ds.x, sizeof row);
    vae_dataset_unstandardize_row(&ds, row, row);
    CHECK_NEAR(row[0], orig[0], 1e-3, 1e-6);
    /* the test set with the train statistics equals the first train rows */
    CHECK(vae_dataset_standardize_like(&te, &ds, &err) == VAE_OK);
    CHECK(memcmp(te.x, ds.x, 10 * D * sizeof(float)) == 0);
    CHECK(err.code == VAE_OK);
    CHECK(vae_dataset_standardize(&ds, &err) == VAE_ERR_STATE);
    vae_error_clear(&err);
    vae_dataset plain = {0};
    vae_dataset_alloc(&plain, 3, 2, &err);
    CHECK(vae_dataset_standardize_like(&plain, &plain, &err) == VAE_ERR_ARG);
    vae_error_clear(&err);
    /* the stats travel through split */
    vae_dataset t = {0}, v = {0};
    CHECK(vae_dataset_split(&ds, 0.2, 1, &t, &v, &err) == VAE_OK);
    CHECK(v.col_mean && v.col_mean[0] == ds.col_mean[0] && v.col_std[3] == ds.col_std[3]);
    vae_dataset_free(&t);
    vae_dataset_free(&v);
    /* range / scale01 / threshold */
    double lo, hi;
    vae_dataset_range(&plain, &lo, &hi);
    CHECK(lo == 0 && hi == 0);
    plain.x[0] = -2;
    plain.x[1] = 6;
    plain.x[2] = 2;
    vae_dataset_range(&plain, &lo, &hi);
    CHECK(lo == -2 && hi == 6);
    CHECK(vae_dataset_scale01(&plain, lo, hi, &err) == VAE_OK);
    CHECK(plain.x[0] == 0.0f && plain.x[1] == 1.0f && plain.x[2] == 0.5f && plain.x[3] == 0.25f);
    CHECK(vae_dataset_scale01(&plain, 1, 1, &err) == VAE_ERR_ARG && plain.x[2] == 0.5f);
    vae_error_clear(&err);
    vae_dataset_threshold(&plain, 0.4f);
    CHECK(plain.binary == 1 && plain.x[0] == 0 && plain.x[1] == 1 && plain.x[2] == 1 &&
          plain.x[3] == 0);
    vae_dataset_free(&plain);
    vae_dataset_free(&ds);
    vae_dataset_free(&te);
    free(orig);
}

static void test_specs(void) {
    vae_error err = {0};
    vae_dataset tr = {0}, te = {0};
    CHECK(vae_dataset_load("sprites", &tr, &te, &err) == VAE_OK);
    CHECK(tr.n == VAE_DATASET_SPRITES_TRAIN && te.n == VAE_DATASET_SPRITES_TEST);
    CHECK(tr.d == 1024 && tr.h == 32 && te.w == 32 && tr.nfactors == 5 && te.nfactors == 5);
    CHECK(strcmp(tr.name, "sprites") == 0);
    if (tr.factors && te.factors) {
        uint8_t *seen = calloc(VAE_SPRITES_COUNT, 1);
        int disjoint = 1;
        for (int64_t i = 0; i < tr.n; i++) {
            int64_t k;
            vae_sprites_index(tr.factors + i * 5, &k, NULL);
            seen[k] = 1;
        }
        for (int64_t i = 0; i < te.n; i++) {
            int64_t k;
            vae_sprites_index(te.factors + i * 5, &k, NULL);
            if (seen[k]) disjoint = 0;
        }
        CHECK(disjoint);
        free(seen);
    }
    vae_dataset tr2 = {0};
    CHECK(vae_dataset_load(NULL, &tr2, NULL, &err) == VAE_OK);
    CHECK(tr2.n == tr.n && memcmp(tr.x, tr2.x, 1000 * sizeof(float)) == 0);
    vae_dataset_free(&tr2);
    CHECK(vae_dataset_load("sprites:16", &tr2, NULL, &err) == VAE_OK && tr2.d == 256);
    vae_dataset_free(&tr2);
    CHECK(err.code == VAE_OK);
    vae_dataset_free(&tr);
    vae_dataset_free(&te);

    const char *bad[] = {"mnst:/tmp", "sprites:abc", "sprites:4", "sprites:129", "mnist",
                         "mnist:",    "npy:",        "csv",       "spritesX"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        vae_error e = {0};
        tr.n = 3;
        CHECK_MSG(vae_dataset_load(bad[k], &tr, &te, &e) == VAE_ERR_ARG && tr.n == 3, "spec %s: %s",
                  bad[k], e.msg);
    }
    vae_error e = {0};
    vae_dataset_load("nope", &tr, &te, &e);
    CHECK(strstr(e.msg, "mnist:DIR") && strstr(e.msg, "csv:FILE") && strstr(e.msg, "sprites"));
    e.code = VAE_OK;
    CHECK(vae_dataset_load("mnist:/nonexistent/dir", &tr, &te, &e) == VAE_ERR_IO && tr.n == 3);
    CHECK(strstr(e.msg, "/nonexistent/dir/train-images-idx3-ubyte") != NULL);
}

/* vae_dataset_filter_labels: keeps exactly the asked labels in order, with their rows, factors and
 * metadata; refuses a set without labels, an empty label list and a filter that keeps nothing. */
static void test_filter_labels(void) {
    vae_error err = {0};
    vae_dataset src = {0}, out = {0};
    CHECK(vae_dataset_alloc(&src, 6, 2, &err) == VAE_OK);
    static const int64_t lab[6] = {0, 3, 1, 3, 2, 0};
    src.labels = malloc(6 * sizeof *src.labels);
    if (!src.labels) return;
    for (int i = 0; i < 6; i++) {
        src.labels[i] = lab[i];
        src.x[2 * i] = (float)i, src.x[2 * i + 1] = (float)(10 * i);
    }
    src.h = 1, src.w = 2, src.c = 1, src.binary = 1;
    snprintf(src.name, sizeof src.name, "toy");
    const int64_t keep[2] = {3, 0};
    CHECK_MSG(vae_dataset_filter_labels(&src, keep, 2, &out, &err) == VAE_OK, "%s", err.msg);
    CHECK(out.n == 4 && out.d == 2 && out.labels && out.h == 1 && out.w == 2 && out.binary == 1);
    if (out.n == 4 && out.labels) {
        /* rows 0, 1, 3, 5 of the source, in their original order */
        CHECK(out.labels[0] == 0 && out.labels[1] == 3 && out.labels[2] == 3 && out.labels[3] == 0);
        CHECK(out.x[0] == 0 && out.x[2] == 1 && out.x[4] == 3 && out.x[6] == 5 && out.x[7] == 50);
    }
    CHECK(strcmp(out.name, "toy") == 0);
    vae_dataset_free(&out);
    const int64_t one[1] = {2};
    CHECK(vae_dataset_filter_labels(&src, one, 1, &out, &err) == VAE_OK && out.n == 1 &&
          out.x[0] == 4);
    vae_dataset_free(&out);
    CHECK(err.code == VAE_OK);

    /* failures leave `out` unchanged and say why */
    const int64_t none[2] = {7, 9};
    out.n = 77;
    vae_error e = {0};
    CHECK(vae_dataset_filter_labels(&src, none, 2, &out, &e) == VAE_ERR_ARG && out.n == 77);
    CHECK_MSG(strstr(e.msg, "toy") && strstr(e.msg, "[0, 3]"), "%s", e.msg);
    vae_error_clear(&e);
    CHECK(vae_dataset_filter_labels(&src, keep, 0, &out, &e) == VAE_ERR_ARG && out.n == 77);
    vae_error_clear(&e);
    CHECK(vae_dataset_filter_labels(&src, NULL, 2, &out, &e) == VAE_ERR_NULL && out.n == 77);
    vae_error_clear(&e);
    free(src.labels);
    src.labels = NULL;
    CHECK(vae_dataset_filter_labels(&src, keep, 2, &out, &e) == VAE_ERR_ARG && out.n == 77);
    CHECK_MSG(strstr(e.msg, "has no labels") != NULL, "%s", e.msg);
    vae_dataset_free(&src);

    /* sprites carry labels = shape (0..2) and their factors follow the rows */
    vae_dataset tr = {0}, va = {0}, te = {0};
    va.n = 5; /* sprites have no validation split of their own: valid comes back zeroed */
    CHECK(vae_dataset_load_splits("sprites:8", &tr, &va, &te, &err) == VAE_OK);
    CHECK(va.n == 0 && va.x == NULL && tr.n == VAE_DATASET_SPRITES_TRAIN && te.n > 0);
    const int64_t shapes01[2] = {0, 1};
    CHECK(vae_dataset_filter_labels(&tr, shapes01, 2, &out, &err) == VAE_OK);
    int ok = out.n > 0 && out.n < tr.n && out.factors != NULL && out.nfactors == 5;
    for (int64_t i = 0; ok && i < out.n; i++)
        ok = out.labels[i] <= 1 && out.factors[i * 5 + VAE_SPRITES_FACTOR_SHAPE] == out.labels[i];
    CHECK(ok);
    vae_dataset_free(&out);
    vae_dataset_free(&tr);
    vae_dataset_free(&te);
}

int main(void) {
    test_sprites_determinism();
    test_sprites_frame();
    test_split();
    test_iter();
    test_binarize();
    test_standardize();
    test_specs();
    test_filter_labels();
    return test_finish();
}
