#include "nn/dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/io/amat.h"
#include "tensor/io/csv.h"
#include "tensor/io/idx.h"
#include "nn/sprites.h"
#include "tensor/npy.h"

#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

size_t vae__dataset_bytes(int64_t n, int64_t d) {
    if (n < 1 || d < 1) return 0;
    if ((uint64_t)n > (uint64_t)INT64_MAX / (uint64_t)d) return 0;
    uint64_t cells = (uint64_t)n * (uint64_t)d;
    if (cells > SIZE_MAX / sizeof(float)) return 0;
    return (size_t)cells * sizeof(float);
}

void vae_dataset_free(vae_dataset *ds) {
    if (!ds) return;
    free(ds->x);
    free(ds->labels);
    free(ds->factors);
    if (ds->factor_names)
        for (int i = 0; i < ds->nfactors; i++) free((void *)ds->factor_names[i]);
    free((void *)ds->factor_names);
    free(ds->factor_sizes);
    free(ds->col_mean);
    free(ds->col_std);
    memset(ds, 0, sizeof *ds);
}

vae_status vae_dataset_alloc(vae_dataset *ds, int64_t n, int64_t d, vae_error *err) {
    if (!ds) return vae_error_set(err, VAE_ERR_NULL, "dataset: NULL output");
    size_t bytes = vae__dataset_bytes(n, d);
    if (bytes == 0)
        return vae_error_set(err, VAE_ERR_ARG, "dataset: cannot hold %lld x %lld values",
                             (long long)n, (long long)d);
    float *x = calloc(bytes / sizeof(float), sizeof(float));
    if (!x)
        return vae_error_set(err, VAE_ERR_OOM, "dataset: cannot allocate %lld x %lld floats",
                             (long long)n, (long long)d);
    memset(ds, 0, sizeof *ds);
    ds->n = n;
    ds->d = d;
    ds->x = x;
    return VAE_OK;
}

vae_status vae__dataset_set_factor_meta(vae_dataset *ds, int k, const char *const *names,
                                        const int64_t *sizes, vae_error *err) {
    if (k < 1 || !names || !sizes)
        return vae_error_set(err, VAE_ERR_ARG, "dataset: bad factor description");
    const char **nm = calloc((size_t)k, sizeof *nm);
    int64_t *sz = malloc((size_t)k * sizeof *sz);
    int ok = nm && sz;
    for (int i = 0; ok && i < k; i++) {
        size_t l = strlen(names[i]);
        char *s = malloc(l + 1);
        if (!s)
            ok = 0;
        else {
            memcpy(s, names[i], l + 1);
            nm[i] = s;
            sz[i] = sizes[i];
        }
    }
    if (!ok) {
        if (nm)
            for (int i = 0; i < k; i++) free((void *)nm[i]);
        free((void *)nm);
        free(sz);
        return vae_error_set(err, VAE_ERR_OOM, "dataset: out of memory for factor names");
    }
    ds->factor_names = nm;
    ds->factor_sizes = sz;
    ds->nfactors = k;
    return VAE_OK;
}

/* ---- subsets and copies ---- */

vae_status vae_dataset_subset(const vae_dataset *src, const int64_t *idx, int64_t m,
                              vae_dataset *out, vae_error *err) {
    if (!src || !idx || !out)
        return vae_error_set(err, VAE_ERR_NULL, "dataset_subset: NULL argument");
    if (m < 1) return vae_error_set(err, VAE_ERR_ARG, "dataset_subset: m = %lld < 1", (long long)m);
    for (int64_t i = 0; i < m; i++)
        if (idx[i] < 0 || idx[i] >= src->n)
            return vae_error_set(err, VAE_ERR_ARG,
                                 "dataset_subset: idx[%lld] = %lld outside [0, %lld)", (long long)i,
                                 (long long)idx[i], (long long)src->n);
    vae_dataset ds = {0};
    vae_status st = vae_dataset_alloc(&ds, m, src->d, err);
    if (st != VAE_OK) return st;
    size_t d = (size_t)src->d, k = (size_t)(src->nfactors > 0 ? src->nfactors : 0);
    int oom = 0;
    if (src->labels && !(ds.labels = malloc((size_t)m * sizeof *ds.labels))) oom = 1;
    if (src->factors && k && !(ds.factors = malloc((size_t)m * k * sizeof *ds.factors))) oom = 1;
    if (src->col_mean && src->col_std) {
        ds.col_mean = malloc(d * sizeof *ds.col_mean);
        ds.col_std = malloc(d * sizeof *ds.col_std);
        if (!ds.col_mean || !ds.col_std)
            oom = 1;
        else {
            memcpy(ds.col_mean, src->col_mean, d * sizeof *ds.col_mean);
            memcpy(ds.col_std, src->col_std, d * sizeof *ds.col_std);
        }
    }
    if (oom) {
        vae_dataset_free(&ds);
        return vae_error_set(err, VAE_ERR_OOM, "dataset_subset: out of memory for %lld examples",
                             (long long)m);
    }
    if (src->nfactors > 0 && src->factor_names && src->factor_sizes) {
        st = vae__dataset_set_factor_meta(
            &ds, src->nfactors, (const char *const *)src->factor_names, src->factor_sizes, err);
        if (st != VAE_OK) {
            vae_dataset_free(&ds);
            return st;
        }
    }
    ds.nfactors = src->nfactors;
    for (int64_t i = 0; i < m; i++) {
        memcpy(ds.x + (size_t)i * d, src->x + (size_t)idx[i] * d, d * sizeof(float));
        if (ds.labels) ds.labels[i] = src->labels[idx[i]];
        if (ds.factors)
            memcpy(ds.factors + (size_t)i * k, src->factors + (size_t)idx[i] * k,
                   k * sizeof(int64_t));
    }
    ds.h = src->h;
    ds.w = src->w;
    ds.c = src->c;
    ds.binary = src->binary;
    memcpy(ds.name, src->name, sizeof ds.name);
    ds.name[sizeof ds.name - 1] = '\0';
    *out = ds;
    return VAE_OK;
}

/* Rows of a followed by rows of b (same d); a's metadata. */
static vae_status concat_rows(const vae_dataset *a, const vae_dataset *b, vae_dataset *out,
                              vae_error *err) {
    if (a->d != b->d)
        return vae_error_set(err, VAE_ERR_MISMATCH, "dataset: cannot join %lld and %lld columns",
                             (long long)a->d, (long long)b->d);
    if (a->n > INT64_MAX - b->n) return vae_error_set(err, VAE_ERR_ARG, "dataset: too many rows");
    vae_dataset ds = {0};
    vae_status st = vae_dataset_alloc(&ds, a->n + b->n, a->d, err);
    if (st != VAE_OK) return st;
    memcpy(ds.x, a->x, (size_t)a->n * (size_t)a->d * sizeof(float));
    memcpy(ds.x + (size_t)a->n * (size_t)a->d, b->x, (size_t)b->n * (size_t)b->d * sizeof(float));
    ds.h = a->h;
    ds.w = a->w;
    ds.c = a->c;
    ds.binary = a->binary && b->binary;
    memcpy(ds.name, a->name, sizeof ds.name);
    *out = ds;
    return VAE_OK;
}

/* ---- pre-processing ---- */

void vae_dataset_range(const vae_dataset *ds, double *lo, double *hi) {
    double l = 0, h = 0;
    if (ds && ds->x && ds->n > 0 && ds->d > 0) {
        size_t total = (size_t)ds->n * (size_t)ds->d;
        l = h = ds->x[0];
        for (size_t i = 1; i < total; i++) {
            double v = ds->x[i];
            if (v < l) l = v;
            if (v > h) h = v;
        }
    }
    if (lo) *lo = l;
    if (hi) *hi = h;
}

vae_status vae_dataset_scale01(vae_dataset *ds, double lo, double hi, vae_error *err) {
    if (!ds) return vae_error_set(err, VAE_ERR_NULL, "dataset_scale01: NULL data set");
    if (!isfinite(lo) || !isfinite(hi) || !(hi > lo))
        return vae_error_set(err, VAE_ERR_ARG, "dataset_scale01: bad range [%g, %g]", lo, hi);
    size_t total = ds->x ? (size_t)ds->n * (size_t)ds->d : 0;
    double inv = 1.0 / (hi - lo);
    for (size_t i = 0; i < total; i++) {
        double v = ((double)ds->x[i] - lo) * inv;
        ds->x[i] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
    }
    return VAE_OK;
}

void vae_dataset_threshold(vae_dataset *ds, float t) {
    if (!ds || !ds->x) return;
    size_t total = (size_t)ds->n * (size_t)ds->d;
    for (size_t i = 0; i < total; i++) ds->x[i] = ds->x[i] > t ? 1.0f : 0.0f;
    ds->binary = 1;
}

static vae_status check_batch(const vae_dataset *ds, const void *dst, const int64_t *idx, int64_t m,
                              const char *op, vae_error *err) {
    if (!ds || !dst || (!idx && m > 0))
        return vae_error_set(err, VAE_ERR_NULL, "%s: NULL argument", op);
    if (m < 0) return vae_error_set(err, VAE_ERR_ARG, "%s: m = %lld < 0", op, (long long)m);
    for (int64_t i = 0; i < m; i++)
        if (idx[i] < 0 || idx[i] >= ds->n)
            return vae_error_set(err, VAE_ERR_ARG, "%s: idx[%lld] = %lld outside [0, %lld)", op,
                                 (long long)i, (long long)idx[i], (long long)ds->n);
    return VAE_OK;
}

vae_status vae_dataset_binarize_dynamic(const vae_dataset *src, float *dst_batch,
                                        const int64_t *idx, int64_t m, vae_rng *rng,
                                        vae_error *err) {
    if (!rng) return vae_error_set(err, VAE_ERR_NULL, "dataset_binarize_dynamic: NULL rng");
    vae_status st = check_batch(src, dst_batch, idx, m, "dataset_binarize_dynamic", err);
    if (st != VAE_OK) return st;
    size_t d = (size_t)src->d;
    for (int64_t i = 0; i < m; i++) {
        vae_rng_bernoulli_f32(rng, src->x + (size_t)idx[i] * d, dst_batch + (size_t)i * d,
                              (int64_t)d);
    }
    return VAE_OK;
}

vae_status vae_dataset_gather(const vae_dataset *ds, const int64_t *idx, int64_t m, float *dst,
                              vae_error *err) {
    vae_status st = check_batch(ds, dst, idx, m, "dataset_gather", err);
    if (st != VAE_OK) return st;
    size_t d = (size_t)ds->d;
    for (int64_t i = 0; i < m; i++)
        memcpy(dst + (size_t)i * d, ds->x + (size_t)idx[i] * d, d * sizeof(float));
    return VAE_OK;
}

static void apply_standardize(vae_dataset *ds, const double *mean, const double *sd) {
    size_t d = (size_t)ds->d;
    for (int64_t i = 0; i < ds->n; i++) {
        float *row = ds->x + (size_t)i * d;
        for (size_t j = 0; j < d; j++) row[j] = (float)(((double)row[j] - mean[j]) / sd[j]);
    }
}

vae_status vae_dataset_standardize(vae_dataset *ds, vae_error *err) {
    if (!ds || !ds->x)
        return vae_error_set(err, VAE_ERR_NULL, "dataset_standardize: NULL or empty data set");
    if (ds->col_mean || ds->col_std)
        return vae_error_set(err, VAE_ERR_STATE, "dataset_standardize: %s is already standardized",
                             ds->name);
    size_t d = (size_t)ds->d;
    double *mean = calloc(d, sizeof *mean), *sd = calloc(d, sizeof *sd);
    if (!mean || !sd) {
        free(mean);
        free(sd);
        return vae_error_set(err, VAE_ERR_OOM, "dataset_standardize: out of memory for %zu columns",
                             d);
    }
    /* Two passes in double: mean, then the population variance around it. */
    for (int64_t i = 0; i < ds->n; i++)
        for (size_t j = 0; j < d; j++) mean[j] += ds->x[(size_t)i * d + j];
    for (size_t j = 0; j < d; j++) mean[j] /= (double)ds->n;
    for (int64_t i = 0; i < ds->n; i++)
        for (size_t j = 0; j < d; j++) {
            double t = ds->x[(size_t)i * d + j] - mean[j];
            sd[j] += t * t;
        }
    for (size_t j = 0; j < d; j++) {
        sd[j] = sqrt(sd[j] / (double)ds->n);
        if (!(sd[j] > 1e-12 * (1.0 + fabs(mean[j])))) sd[j] = 1.0; /* constant column */
    }
    apply_standardize(ds, mean, sd);
    ds->col_mean = mean;
    ds->col_std = sd;
    return VAE_OK;
}

vae_status vae_dataset_standardize_like(vae_dataset *ds, const vae_dataset *ref, vae_error *err) {
    if (!ds || !ref || !ds->x)
        return vae_error_set(err, VAE_ERR_NULL, "dataset_standardize_like: NULL argument");
    if (!ref->col_mean || !ref->col_std)
        return vae_error_set(err, VAE_ERR_ARG,
                             "dataset_standardize_like: reference %s is not standardized",
                             ref->name);
    if (ref->d != ds->d)
        return vae_error_set(err, VAE_ERR_SHAPE,
                             "dataset_standardize_like: %lld columns vs reference %lld",
                             (long long)ds->d, (long long)ref->d);
    if (ds->col_mean || ds->col_std)
        return vae_error_set(err, VAE_ERR_STATE,
                             "dataset_standardize_like: %s is already standardized", ds->name);
    size_t d = (size_t)ds->d;
    double *mean = malloc(d * sizeof *mean), *sd = malloc(d * sizeof *sd);
    if (!mean || !sd) {
        free(mean);
        free(sd);
        return vae_error_set(err, VAE_ERR_OOM, "dataset_standardize_like: out of memory");
    }
    memcpy(mean, ref->col_mean, d * sizeof *mean);
    memcpy(sd, ref->col_std, d * sizeof *sd);
    apply_standardize(ds, mean, sd);
    ds->col_mean = mean;
    ds->col_std = sd;
    return VAE_OK;
}

void vae_dataset_unstandardize_row(const vae_dataset *ds, const float *in, float *out) {
    if (!ds || !in || !out) return;
    size_t d = (size_t)ds->d;
    if (!ds->col_mean || !ds->col_std) {
        if (in != out) memmove(out, in, d * sizeof *out);
        return;
    }
    for (size_t j = 0; j < d; j++)
        out[j] = (float)((double)in[j] * ds->col_std[j] + ds->col_mean[j]);
}

/* ---- split and iteration ---- */

vae_status vae_dataset_split(const vae_dataset *src, double valid_amount, uint64_t seed,
                             vae_dataset *train, vae_dataset *valid, vae_error *err) {
    if (!src || !train || !valid || !src->x)
        return vae_error_set(err, VAE_ERR_NULL, "dataset_split: NULL argument");
    int64_t n = src->n, nv;
    if (!isfinite(valid_amount) || valid_amount <= 0)
        return vae_error_set(err, VAE_ERR_ARG, "dataset_split: valid amount %g must be > 0",
                             valid_amount);
    if (valid_amount < 1)
        nv = (int64_t)llround(valid_amount * (double)n);
    else {
        if (valid_amount != floor(valid_amount) || valid_amount > 9.0e18)
            return vae_error_set(
                err, VAE_ERR_ARG,
                "dataset_split: valid amount %g is neither a fraction in (0,1) nor a count",
                valid_amount);
        nv = (int64_t)valid_amount;
    }
    if (nv < 1 || nv > n - 1)
        return vae_error_set(
            err, VAE_ERR_ARG,
            "dataset_split: %lld validation examples out of %lld leaves a side empty",
            (long long)nv, (long long)n);
    int64_t *perm = malloc((size_t)n * sizeof *perm);
    uint8_t *in_valid = calloc((size_t)n, 1);
    int64_t *ti = malloc((size_t)(n - nv) * sizeof *ti), *vi = malloc((size_t)nv * sizeof *vi);
    vae_status st = VAE_OK;
    if (!perm || !in_valid || !ti || !vi) {
        st = vae_error_set(err, VAE_ERR_OOM, "dataset_split: out of memory for %lld indices",
                           (long long)n);
        goto done;
    }
    vae_rng rng;
    vae_rng_seed(&rng, seed);
    for (int64_t i = 0; i < n; i++) perm[i] = i;
    vae_rng_shuffle_i64(&rng, perm, n);
    for (int64_t i = 0; i < nv; i++) in_valid[perm[i]] = 1;
    int64_t a = 0, b = 0;
    for (int64_t i = 0; i < n; i++) {
        if (in_valid[i])
            vi[b++] = i;
        else
            ti[a++] = i;
    }
    vae_dataset t = {0}, v = {0};
    st = vae_dataset_subset(src, ti, n - nv, &t, err);
    if (st == VAE_OK) st = vae_dataset_subset(src, vi, nv, &v, err);
    if (st != VAE_OK) {
        vae_dataset_free(&t);
        goto done;
    }
    *train = t;
    *valid = v;
done:
    free(perm);
    free(in_valid);
    free(ti);
    free(vi);
    return st;
}

vae_status vae_batch_iter_init(vae_batch_iter *it, int64_t n, int64_t batch, uint64_t seed,
                               int drop_last, vae_error *err) {
    if (!it) return vae_error_set(err, VAE_ERR_NULL, "batch_iter: NULL iterator");
    if (n < 1 || batch < 1)
        return vae_error_set(err, VAE_ERR_ARG, "batch_iter: n = %lld and batch = %lld must be >= 1",
                             (long long)n, (long long)batch);
    if (drop_last && batch > n)
        return vae_error_set(err, VAE_ERR_ARG,
                             "batch_iter: batch %lld > n %lld with drop_last gives no batches",
                             (long long)batch, (long long)n);
    if ((uint64_t)n > SIZE_MAX / sizeof(int64_t))
        return vae_error_set(err, VAE_ERR_ARG, "batch_iter: n = %lld is too large", (long long)n);
    int64_t *perm = malloc((size_t)n * sizeof *perm);
    if (!perm)
        return vae_error_set(err, VAE_ERR_OOM, "batch_iter: cannot allocate %lld indices",
                             (long long)n);
    memset(it, 0, sizeof *it);
    it->n = n;
    it->batch = batch;
    it->seed = seed;
    it->drop_last = drop_last ? 1 : 0;
    it->perm = perm;
    return VAE_OK;
}

int64_t vae_batch_iter_next(vae_batch_iter *it, const int64_t **idx) {
    if (idx) *idx = NULL;
    if (!it || !it->perm) return 0;
    if (!it->started) {
        /* The permutation of epoch e depends only on (seed, e). */
        vae_rng rng;
        vae_rng_seed(&rng, it->seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(it->epoch + 1)));
        for (int64_t i = 0; i < it->n; i++) it->perm[i] = i;
        vae_rng_shuffle_i64(&rng, it->perm, it->n);
        it->pos = 0;
        it->started = 1;
    }
    int64_t left = it->n - it->pos;
    if (left <= 0 || (it->drop_last && left < it->batch)) {
        it->started = 0;
        it->epoch++;
        return 0;
    }
    int64_t m = left < it->batch ? left : it->batch;
    if (idx) *idx = it->perm + it->pos;
    it->pos += m;
    return m;
}

void vae_batch_iter_set_epoch(vae_batch_iter *it, int64_t epoch) {
    if (!it) return;
    it->epoch = epoch < 0 ? 0 : epoch;
    it->started = 0;
    it->pos = 0;
}

void vae_batch_iter_free(vae_batch_iter *it) {
    if (!it) return;
    free(it->perm);
    memset(it, 0, sizeof *it);
}

/* ---- loaders by spec ---- */

/* dir/base if it exists, else dir/base.gz, into buf; VAE_ERR_IO when neither opens, VAE_ERR_ARG
 * when the path is too long. */
static vae_status find_file(const char *dir, const char *base, char *buf, size_t cap,
                            const char *what, vae_error *err) {
    static const char *const ext[2] = {"", ".gz"};
    for (int i = 0; i < 2; i++) {
        int k = snprintf(buf, cap, "%s/%s%s", dir, base, ext[i]);
        if (k < 0 || (size_t)k >= cap) {
            return vae_error_set(err, VAE_ERR_ARG, "%s: directory name too long: %.60s...", what,
                                 dir);
        }
        FILE *f = fopen(buf, "rb");
        if (f) {
            fclose(f);
            return VAE_OK;
        }
    }
    return vae_error_set(err, VAE_ERR_IO, "%s: neither %s/%s nor %s/%s.gz can be opened", what, dir,
                         base, dir, base);
}

static vae_status load_idx_pair(const char *dir, const char *prefix, const char *what,
                                vae_dataset *out, vae_error *err) {
    char ip[4096], lp[4096], base[64];
    snprintf(base, sizeof base, "%s-images-idx3-ubyte", prefix);
    vae_status st = find_file(dir, base, ip, sizeof ip, what, err);
    if (st != VAE_OK) return st;
    snprintf(base, sizeof base, "%s-labels-idx1-ubyte", prefix);
    st = find_file(dir, base, lp, sizeof lp, what, err);
    if (st != VAE_OK) return st;
    st = vae_idx_load(ip, lp, out, err);
    if (st == VAE_OK) snprintf(out->name, sizeof out->name, "%s", what);
    return st;
}

/* Hand a loaded train (and test, when asked for) to the caller, or free both when st is a failure:
 * the caller's outputs change only on success. */
static vae_status give_pair(vae_status st, vae_dataset *tr, vae_dataset *te, vae_dataset *train,
                            vae_dataset *test) {
    if (st != VAE_OK) {
        vae_dataset_free(tr);
        vae_dataset_free(te);
        return st;
    }
    *train = *tr;
    if (test) *test = *te;
    return VAE_OK;
}

static vae_status load_mnist_like(const char *dir, const char *what, vae_dataset *train,
                                  vae_dataset *test, vae_error *err) {
    vae_dataset tr = {0}, te = {0};
    vae_status st = load_idx_pair(dir, "train", what, &tr, err);
    if (st == VAE_OK && test) st = load_idx_pair(dir, "t10k", what, &te, err);
    if (st == VAE_OK && test && te.d != tr.d) {
        st = vae_error_set(err, VAE_ERR_MISMATCH,
                           "%s: train images have %lld pixels, test images %lld", what,
                           (long long)tr.d, (long long)te.d);
    }
    return give_pair(st, &tr, &te, train, test);
}

static vae_status load_binarized(const char *dir, vae_dataset *train, vae_dataset *test,
                                 vae_error *err) {
    const char *what = "binarized-mnist";
    char p[4096];
    vae_dataset tr = {0}, va = {0}, te = {0}, all = {0};
    vae_status st = find_file(dir, "binarized_mnist_train.amat", p, sizeof p, what, err);
    if (st != VAE_OK) return st;
    st = vae_amat_read(p, 784, &tr, err);
    if (st != VAE_OK) goto fail;
    /* valid is optional: probe without recording an error */
    if (find_file(dir, "binarized_mnist_valid.amat", p, sizeof p, what, NULL) == VAE_OK) {
        st = vae_amat_read(p, 784, &va, err);
        if (st == VAE_OK) st = concat_rows(&tr, &va, &all, err);
        if (st != VAE_OK) goto fail;
        vae_dataset_free(&tr);
        tr = all;
        memset(&all, 0, sizeof all);
    }
    if (test) {
        st = find_file(dir, "binarized_mnist_test.amat", p, sizeof p, what, err);
        if (st != VAE_OK) goto fail;
        st = vae_amat_read(p, 784, &te, err);
        if (st != VAE_OK) goto fail;
        snprintf(te.name, sizeof te.name, "%s", what);
    }
    snprintf(tr.name, sizeof tr.name, "%s", what);
    vae_dataset_free(&va);
    *train = tr;
    if (test) *test = te;
    return VAE_OK;
fail:
    vae_dataset_free(&tr);
    vae_dataset_free(&va);
    vae_dataset_free(&te);
    vae_dataset_free(&all);
    return st;
}

vae_status vae_dataset_load_npy(const char *path, vae_dataset *out, vae_error *err) {
    if (!path || !out) return vae_error_set(err, VAE_ERR_NULL, "npy: NULL argument");
    vae_npy a;
    memset(&a, 0, sizeof a);
    vae_status st = vae_npy_read(path, &a, err);
    if (st != VAE_OK) return st;
    vae_dataset ds = {0};
    int64_t n = 0, d = 1;
    int h = 0, w = 0, c = 0;
    if (a.dtype != VAE_NPY_U1 && a.dtype != VAE_NPY_F4 && a.dtype != VAE_NPY_F8) {
        st = vae_error_set(err, VAE_ERR_UNSUPPORTED,
                           "npy: %s: dtype not supported as data (uint8, float32 or float64 only)",
                           path);
        goto done;
    }
    if (a.ndim < 2 || a.ndim > 4) {
        st = vae_error_set(err, VAE_ERR_SHAPE,
                           "npy: %s: %d dims; expected (n,d), (n,h,w) or (n,h,w,c)", path,
                           (int)a.ndim);
        goto done;
    }
    for (int i = 0; i < (int)a.ndim; i++) {
        if (a.shape[i] < 1) {
            st = vae_error_set(err, VAE_ERR_SHAPE, "npy: %s: dim %d is %lld", path, i,
                               (long long)a.shape[i]);
            goto done;
        }
    }
    n = (int64_t)a.shape[0];
    if (a.ndim >= 3) {
        if (a.shape[1] > 65535 || a.shape[2] > 65535 || (a.ndim == 4 && a.shape[3] > 4)) {
            st = vae_error_set(err, VAE_ERR_SHAPE,
                               "npy: %s: image dims too large (h, w <= 65535, c <= 4)", path);
            goto done;
        }
        h = (int)a.shape[1];
        w = (int)a.shape[2];
        c = a.ndim == 4 ? (int)a.shape[3] : 1;
        d = (int64_t)h * w * c;
    } else
        d = (int64_t)a.shape[1];
    if ((int64_t)a.numel != n * d) {
        st = vae_error_set(err, VAE_ERR_SHAPE, "npy: %s: numel %lld does not match its shape", path,
                           (long long)a.numel);
        goto done;
    }
    st = vae_dataset_alloc(&ds, n, d, err);
    if (st != VAE_OK) goto done;
    size_t total = (size_t)n * (size_t)d;
    if (a.dtype == VAE_NPY_U1) {
        const uint8_t *p = (const uint8_t *)a.data;
        for (size_t i = 0; i < total; i++) ds.x[i] = (float)p[i] / 255.0f;
    } else {
        for (size_t i = 0; i < total; i++) {
            double v = a.dtype == VAE_NPY_F4 ? (double)((const float *)a.data)[i]
                                             : ((const double *)a.data)[i];
            if (!isfinite(v) || fabs(v) > 3.4028234663852886e38) {
                st = vae_error_set(err, VAE_ERR_FORMAT,
                                   "npy: %s: element %zu is %g (not a finite float32)", path, i, v);
                goto done;
            }
            ds.x[i] = (float)v;
        }
    }
    ds.h = h;
    ds.w = w;
    ds.c = c;
    snprintf(ds.name, sizeof ds.name, "npy");
    *out = ds;
    memset(&ds, 0, sizeof ds);
done:
    vae_dataset_free(&ds);
    vae_npy_free(&a);
    return st;
}

static const char *spec_arg(const char *spec, const char *kind) {
    size_t k = strlen(kind);
    if (strncmp(spec, kind, k) != 0) return NULL;
    if (spec[k] == '\0') return "";
    if (spec[k] == ':') return spec + k + 1;
    return NULL;
}

#define SPEC_FORMS                                                                                 \
    "sprites[:S], mnist:DIR, fashion-mnist[:DIR], binarized-mnist:DIR, npy:FILE, csv:FILE"

vae_status vae_dataset_load(const char *spec, vae_dataset *train, vae_dataset *test,
                            vae_error *err) {
    if (!train) return vae_error_set(err, VAE_ERR_NULL, "dataset_load: NULL train output");
    if (!spec || !*spec) spec = "sprites";
    const char *arg;
    vae_dataset tr = {0}, te = {0};
    vae_status st;
    if ((arg = spec_arg(spec, "sprites"))) {
        long S = VAE_SPRITES_SIZE;
        if (*arg) {
            char *e = NULL;
            S = strtol(arg, &e, 10);
            if (*e || e == arg || S < VAE_SPRITES_MIN_SIZE || S > VAE_DATASET_SPRITES_MAX_S)
                return vae_error_set(err, VAE_ERR_ARG,
                                     "dataset_load: sprites size \"%s\" is not an integer in "
                                     "[%d, %d]",
                                     arg, VAE_SPRITES_MIN_SIZE, VAE_DATASET_SPRITES_MAX_S);
        }
        /* train does not depend on whether test is asked for: always draw both */
        int64_t ntr = VAE_DATASET_SPRITES_TRAIN, nte = VAE_DATASET_SPRITES_TEST;
        vae_dataset all = {0};
        st = vae_sprites_dataset(ntr + nte, VAE_DATASET_SPRITES_SEED, (int)S, &all, err);
        if (st != VAE_OK) return st;
        /* the draw is distinct and in random order: the first ntr are train, the rest test */
        int64_t *idx = malloc((size_t)(ntr + nte) * sizeof *idx);
        if (!idx) {
            vae_dataset_free(&all);
            return vae_error_set(err, VAE_ERR_OOM, "dataset_load: out of memory");
        }
        for (int64_t i = 0; i < ntr + nte; i++) idx[i] = i;
        st = vae_dataset_subset(&all, idx, ntr, &tr, err);
        if (st == VAE_OK && test) st = vae_dataset_subset(&all, idx + ntr, nte, &te, err);
        free(idx);
        vae_dataset_free(&all);
    } else if ((arg = spec_arg(spec, "mnist"))) {
        if (!*arg)
            return vae_error_set(err, VAE_ERR_ARG,
                                 "dataset_load: \"mnist\" needs a directory: mnist:DIR");
        st = load_mnist_like(arg, "mnist", &tr, test ? &te : NULL, err);
    } else if ((arg = spec_arg(spec, "fashion-mnist"))) {
        char probe[4096];
        if (!*arg && find_file(FASHION_MNIST_DIR, "train-images-idx3-ubyte", probe, sizeof probe,
                               "fashion-mnist", NULL) != VAE_OK)
            return vae_error_set(err, VAE_ERR_IO,
                                 "dataset_load: fashion-mnist not found in " FASHION_MNIST_DIR
                                 " (Debian: apt-get install dataset-fashion-mnist; or give "
                                 "fashion-mnist:DIR)");
        st = load_mnist_like(*arg ? arg : FASHION_MNIST_DIR, "fashion-mnist", &tr,
                             test ? &te : NULL, err);
    } else if ((arg = spec_arg(spec, "binarized-mnist"))) {
        if (!*arg)
            return vae_error_set(
                err, VAE_ERR_ARG,
                "dataset_load: \"binarized-mnist\" needs a directory: binarized-mnist:DIR");
        st = load_binarized(arg, &tr, test ? &te : NULL, err);
    } else if ((arg = spec_arg(spec, "npy"))) {
        if (!*arg)
            return vae_error_set(err, VAE_ERR_ARG, "dataset_load: \"npy\" needs a file: npy:FILE");
        st = vae_dataset_load_npy(arg, &tr, err);
    } else if ((arg = spec_arg(spec, "csv"))) {
        if (!*arg)
            return vae_error_set(err, VAE_ERR_ARG, "dataset_load: \"csv\" needs a file: csv:FILE");
        st = vae_csv_load(arg, &tr, err);
        if (st == VAE_OK) snprintf(tr.name, sizeof tr.name, "csv");
    } else {
        return vae_error_set(err, VAE_ERR_ARG,
                             "dataset_load: unknown data set \"%.80s\"; valid forms: " SPEC_FORMS,
                             spec);
    }
    return give_pair(st, &tr, &te, train, test);
}
