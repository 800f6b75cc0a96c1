#ifndef _DEFAULT_SOURCE /* (already defined in the fault-injection build: tensor/fault.h) */
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE (Linux) in <sys/mman.h>; the rest is POSIX */
#endif
#include "nn/dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "nn/dataset_internal.h"

size_t vae_dataset_batch_bytes(int64_t n, int64_t d) {
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

/* A data set's values, zeroed. Training reads rows at random indices every step (the batch gather, the dynamic
 * binarization), and on 4 KiB pages each row costs a TLB miss, which under a VM's nested paging is a long page walk:
 * perf put 83% of the binarization kernel on its first loads. So a large set is 2 MiB-aligned and asks Linux for
 * transparent huge pages (MADV_HUGEPAGE: a hint, without effect where THP is off; other systems get calloc). */
#define HUGE_PAGE ((size_t)2 << 20)
static float *values_alloc(size_t bytes) {
#ifdef MADV_HUGEPAGE
    if (bytes >= 2 * HUGE_PAGE) {
        size_t len = (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
        void *p = NULL;
        if (posix_memalign(&p, HUGE_PAGE, len) != 0) return NULL;
        (void)madvise(p, len, MADV_HUGEPAGE);
        memset(p, 0, bytes);
        return p;
    }
#endif
    return calloc(bytes / sizeof(float), sizeof(float));
}

vae_status vae_dataset_alloc(vae_dataset *ds, int64_t n, int64_t d, vae_error *err) {
    if (!ds) return vae_error_set(err, VAE_ERR_NULL, "dataset: NULL output");
    size_t bytes = vae_dataset_batch_bytes(n, d);
    if (bytes == 0)
        return vae_error_set(err, VAE_ERR_ARG, "dataset: cannot hold %lld x %lld values",
                             (long long)n, (long long)d);
    float *x = values_alloc(bytes);
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

vae_status vae_dataset_filter_labels(const vae_dataset *src, const int64_t *labels, int nlabels,
                                     vae_dataset *out, vae_error *err) {
    if (!src || !out || (nlabels > 0 && !labels))
        return vae_error_set(err, VAE_ERR_NULL, "dataset_filter_labels: NULL argument");
    const char *name = src->name[0] ? src->name : "the data set";
    if (nlabels < 1)
        return vae_error_set(err, VAE_ERR_ARG, "dataset_filter_labels: no labels to keep");
    if (!src->labels || src->n < 1)
        return vae_error_set(err, VAE_ERR_ARG,
                             "dataset_filter_labels: %s has no labels to filter by", name);
    int64_t m = 0, lo = src->labels[0], hi = src->labels[0];
    for (int64_t i = 0; i < src->n; i++) {
        int64_t l = src->labels[i];
        lo = l < lo ? l : lo;
        hi = l > hi ? l : hi;
        for (int k = 0; k < nlabels; k++)
            if (labels[k] == l) {
                m++;
                break;
            }
    }
    if (m == 0)
        return vae_error_set(err, VAE_ERR_ARG,
                             "dataset_filter_labels: no example of %s has one of the %d labels "
                             "asked for (its labels lie in [%lld, %lld])",
                             name, nlabels, (long long)lo, (long long)hi);
    int64_t *idx = malloc((size_t)m * sizeof *idx);
    if (!idx) return vae_error_set(err, VAE_ERR_OOM, "dataset_filter_labels: out of memory");
    int64_t j = 0;
    for (int64_t i = 0; i < src->n; i++)
        for (int k = 0; k < nlabels; k++)
            if (labels[k] == src->labels[i]) {
                idx[j++] = i;
                break;
            }
    vae_status st = vae_dataset_subset(src, idx, m, out, err);
    free(idx);
    return st;
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
    /* one key from rng, then counter-based draws on the pool (tensor/rng.h) */
    vae_rng_bernoulli_rows_f32(rng, src->x, src->d, idx, m, dst_batch);
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
