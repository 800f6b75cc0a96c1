#include "run_data.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define VALID_BINARIZE_SEED 0x5eedb1a5ULL

/* --max-memory (0: the library's default limit) */
static size_t run_max_memory;

void run_data_set_max_memory(size_t bytes) {
    run_max_memory = bytes;
}

size_t run_data_max_memory(void) {
    return run_max_memory ? run_max_memory : VAE_LOAD_DEFAULT_MAX_MEMORY;
}

int run_parse_size(const char *s, size_t *out) {
    char *e = NULL;
    errno = 0;
    double v = strtod(s, &e);
    if (e == s || errno || !(v > 0)) return -1;
    double mul = 1;
    switch (*e) {
    case 'k':
    case 'K':
        mul = 1024.0, e++;
        break;
    case 'm':
    case 'M':
        mul = 1024.0 * 1024, e++;
        break;
    case 'g':
    case 'G':
        mul = 1024.0 * 1024 * 1024, e++;
        break;
    case 't':
    case 'T':
        mul = 1024.0 * 1024 * 1024 * 1024, e++;
        break;
    default:
        break;
    }
    if (*e == 'B' || *e == 'b') e++;
    if (*e || v * mul >= 18446744073709551615.0 || v * mul < 1) return -1;
    *out = (size_t)(v * mul);
    return 0;
}

void run_data_free(run_data *d) {
    vae_dataset_free(&d->train);
    vae_dataset_free(&d->valid);
    vae_dataset_free(&d->test);
    memset(d, 0, sizeof *d);
}

static int lib_fail(vae_error *err, char *msg, size_t n) {
    snprintf(msg, n, "%s", err->msg[0] ? err->msg : vae_status_name(err->code));
    return -1;
}

/* Binarize every row once with a fixed seed (the valid and test sets of a dynamically binarized
 * run). */
static int binarize_fixed(vae_dataset *ds, uint64_t seed, vae_error *err) {
    if (ds->n == 0) return 0;
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)ds->n);
    float *dst = malloc(vae_dataset_batch_bytes(ds->n, ds->d));
    if (!idx || !dst) {
        free(idx), free(dst);
        vae_error_set(err, VAE_ERR_OOM, "out of memory binarizing %s", ds->name);
        return -1;
    }
    for (int64_t i = 0; i < ds->n; i++) idx[i] = i;
    vae_rng r;
    vae_rng_seed(&r, seed);
    int rc = vae_dataset_binarize_dynamic(ds, dst, idx, ds->n, &r, err) ? -1 : 0;
    if (rc == 0) {
        free(ds->x);
        ds->x = dst;
        ds->binary = 1;
    } else
        free(dst);
    free(idx);
    return rc;
}

static int preprocess(run_config *cfg, vae_dataset *ds, int dynamic, vae_error *err) {
    if (ds->n == 0) return 0;
    if (cfg->scaled && vae_dataset_scale01(ds, cfg->scale_lo, cfg->scale_hi, err)) return -1;
    if (cfg->nstd > 0) {
        vae_dataset ref;
        memset(&ref, 0, sizeof ref);
        ref.d = cfg->nstd;
        ref.col_mean = cfg->col_mean;
        ref.col_std = cfg->col_std;
        if (vae_dataset_standardize_like(ds, &ref, err)) return -1;
    }
    if (strcmp(cfg->binarize, "threshold") == 0) vae_dataset_threshold(ds, 0.5f);
    if (dynamic && binarize_fixed(ds, (uint64_t)cfg->seed ^ VALID_BINARIZE_SEED, err)) return -1;
    return 0;
}

/* Decide geometry, likelihood, binarization and scaling from the (split) training set. */
static int fit_config(run_config *cfg, vae_dataset *train, char *msg, size_t n) {
    cfg->x_dim = train->d;
    cfg->h = train->h, cfg->w = train->w, cfg->c = train->c;
    cfg->tabular = train->h == 0;
    if (!cfg->likelihood[0] || strcmp(cfg->likelihood, "auto") == 0)
        snprintf(cfg->likelihood, sizeof cfg->likelihood, "%s",
                 cfg->tabular ? "gaussian" : "bernoulli");
    int bern = strcmp(cfg->likelihood, "bernoulli") == 0;
    double lo, hi;
    vae_dataset_range(train, &lo, &hi);
    if (!cfg->tabular && (lo < 0 || hi > 1)) {
        if (!(hi > lo)) {
            snprintf(msg, n, "%s: every value is %g; nothing to learn", train->name, lo);
            return -1;
        }
        cfg->scaled = 1, cfg->scale_lo = lo, cfg->scale_hi = hi;
    }
    if (strcmp(cfg->binarize, "auto") == 0) {
        /* Sprites are binary shapes with anti-aliased edges: the grey edges are information, keep
         * them. */
        int sprites = strncmp(cfg->data, "sprites", 7) == 0;
        snprintf(cfg->binarize, sizeof cfg->binarize, "%s",
                 bern && !cfg->tabular && !train->binary && !sprites ? "dynamic" : "none");
    }
    if (strcmp(cfg->net, "conv") == 0 && cfg->tabular) {
        snprintf(msg, n, "--net conv is for images (h x w x c); %s is tabular: use --net mlp",
                 train->name);
        return -2;
    }
    if (strcmp(cfg->binarize, "none") != 0 && cfg->tabular) {
        snprintf(msg, n, "--binarize %s is for images in [0, 1], not tabular data", cfg->binarize);
        return -2;
    }
    return 0;
}

/* A likelihood of data in [0, 1] (the options table, applies.c, refuses it on other values). */
static int unit_likelihood(const char *lik) {
    return strcmp(lik, "bernoulli") == 0 || strcmp(lik, "cbernoulli") == 0;
}

/* "binary", "unit" or "real": the values of every split of d */
static void values_kind(run_data *d) {
    int unit = 1, binary = 1;
    const vae_dataset *s[3] = {&d->train, &d->valid, &d->test};
    for (int k = 0; k < 3 && unit; k++)
        for (int64_t i = 0; i < s[k]->n * s[k]->d && unit; i++) {
            float v = s[k]->x[i];
            unit = v >= 0.0f && v <= 1.0f;
            binary &= v == 0.0f || v == 1.0f;
        }
    snprintf(d->values, sizeof d->values, "%s", !unit ? "real" : binary ? "binary" : "unit");
}

/* --label-column: that column of tabular data becomes the labels (every split the data has). */
static int take_labels(const run_config *cfg, vae_dataset *ds, vae_error *err) {
    if (cfg->label_column == 0 || ds->n == 0) return 0;
    return vae_dataset_take_labels(ds, cfg->label_column - 1, err) ? -1 : 0;
}

/* Keep the examples whose label is in cfg->labels (every split the data has); a no-op without --labels. */
static int filter_labels(const run_config *cfg, vae_dataset *ds, vae_error *err) {
    if (cfg->nlabels == 0 || ds->n == 0) return 0;
    vae_dataset kept;
    memset(&kept, 0, sizeof kept);
    if (vae_dataset_filter_labels(ds, cfg->labels, cfg->nlabels, &kept, err)) return -1;
    vae_dataset_free(ds);
    *ds = kept;
    return 0;
}

int run_data_load(run_config *cfg, const char *spec, int fit, run_data *d, char *msg, size_t n) {
    memset(d, 0, sizeof *d);
    vae_error err = {0};
    vae_dataset all, valid, test;
    memset(&all, 0, sizeof all);
    memset(&valid, 0, sizeof valid);
    memset(&test, 0, sizeof test);
    if (!spec) spec = cfg->data;
    /* read only the training examples the run will use: --n-train caps the load itself (with --labels the cap
     * applies after filtering, so everything is read) */
    vae_load_limits lim = {cfg->nlabels == 0 ? cfg->n_train : 0, run_max_memory};
    if (vae_dataset_load_limited(spec, &lim, &all, &valid, &test, &err))
        return lib_fail(&err, msg, n) - (err.code == VAE_ERR_ARG);
    d->valid = valid;
    d->test = test;
    if (take_labels(cfg, &all, &err) || take_labels(cfg, &d->valid, &err) ||
        take_labels(cfg, &d->test, &err) || filter_labels(cfg, &all, &err) ||
        filter_labels(cfg, &d->valid, &err) || filter_labels(cfg, &d->test, &err)) {
        vae_dataset_free(&all);
        run_data_free(d);
        return lib_fail(&err, msg, n) - (err.code == VAE_ERR_ARG);
    }
    if (cfg->n_train > 0 && cfg->n_train < all.n) {
        int64_t *idx = malloc(sizeof(int64_t) * (size_t)cfg->n_train);
        vae_dataset sub;
        memset(&sub, 0, sizeof sub);
        int rc = -1;
        if (idx) {
            for (int64_t i = 0; i < cfg->n_train; i++) idx[i] = i;
            rc = vae_dataset_subset(&all, idx, cfg->n_train, &sub, &err) ? -1 : 0;
        } else
            vae_error_set(&err, VAE_ERR_OOM, "out of memory");
        free(idx);
        vae_dataset_free(&all);
        if (rc) goto fail;
        all = sub;
    }
    /* a data set with a validation split of its own (binarized MNIST) keeps it; --valid-fraction
     * splits one off the training set of the others */
    if (d->valid.n == 0 && cfg->valid_fraction > 0) {
        if (all.n < 4) {
            vae_error_set(&err, VAE_ERR_ARG,
                          "%s has %" PRId64 " examples: too few to split off a validation set",
                          all.name, all.n);
            vae_dataset_free(&all);
            goto fail;
        }
        if (vae_dataset_split(&all, cfg->valid_fraction, (uint64_t)cfg->seed, &d->train, &d->valid,
                              &err)) {
            vae_dataset_free(&all);
            goto fail;
        }
        vae_dataset_free(&all);
    } else
        d->train = all;

    if (fit) {
        int bad = fit_config(cfg, &d->train, msg, n);
        if (bad) {
            run_data_free(d);
            return bad;
        }
        double lo, hi;
        vae_dataset_range(&d->train, &lo, &hi);
        /* columns in [0, 1] stay as they are for a likelihood of [0, 1] data: standardized they would not be */
        if (cfg->tabular && !(unit_likelihood(cfg->likelihood) && lo >= 0 && hi <= 1)) {
            if (vae_dataset_standardize(&d->train, &err)) goto fail;
            cfg->nstd = d->train.d;
            cfg->col_mean = malloc(sizeof(double) * (size_t)cfg->nstd);
            cfg->col_std = malloc(sizeof(double) * (size_t)cfg->nstd);
            if (!cfg->col_mean || !cfg->col_std) {
                run_config_free(cfg);
                vae_error_set(&err, VAE_ERR_OOM, "out of memory");
                goto fail;
            }
            memcpy(cfg->col_mean, d->train.col_mean, sizeof(double) * (size_t)cfg->nstd);
            memcpy(cfg->col_std, d->train.col_std, sizeof(double) * (size_t)cfg->nstd);
        }
    } else if (d->train.d != cfg->x_dim) {
        snprintf(msg, n, "%s has %" PRId64 " features per example but the model expects %" PRId64,
                 d->train.name, d->train.d, cfg->x_dim);
        run_data_free(d);
        return -1;
    } else if (d->train.h != cfg->h || d->train.w != cfg->w || d->train.c != cfg->c) {
        /* the same pixel count in another geometry (14x56 for 28x28) is other data, not this run's */
        snprintf(msg, n,
                 "%s holds %dx%dx%d images but the run was trained on %dx%dx%d (h x w x channels; "
                 "0 for tabular data)",
                 d->train.name, d->train.h, d->train.w, d->train.c, cfg->h, cfg->w, cfg->c);
        run_data_free(d);
        return -1;
    }
    d->dynamic = strcmp(cfg->binarize, "dynamic") == 0;
    /* in a fitted run the training set is already standardized by vae_dataset_standardize */
    if (!(fit && cfg->tabular) && preprocess(cfg, &d->train, 0, &err)) goto fail;
    if (preprocess(cfg, &d->valid, d->dynamic, &err) || preprocess(cfg, &d->test, d->dynamic, &err))
        goto fail;
    values_kind(d);
    return 0;
fail:
    run_data_free(d);
    return lib_fail(&err, msg, n);
}

const vae_dataset *run_data_split(const run_data *d, const char *name, char *msg, size_t n) {
    const vae_dataset *ds = strcmp(name, "train") == 0   ? &d->train
                            : strcmp(name, "valid") == 0 ? &d->valid
                            : strcmp(name, "test") == 0  ? &d->test
                                                         : NULL;
    if (!ds) {
        snprintf(msg, n, "unknown split \"%s\" (train, valid or test)", name);
        return NULL;
    }
    if (ds->n == 0) {
        snprintf(msg, n, "the data has no %s split%s", name,
                 strcmp(name, "test") == 0 ? " (single-file data: use --split valid or train)"
                                           : " (the run used --valid-fraction 0)");
        return NULL;
    }
    return ds;
}

void run_data_unprocess_row(const run_config *cfg, const float *in, float *out) {
    for (int64_t j = 0; j < cfg->x_dim; j++) {
        double v = in[j];
        if (cfg->nstd > 0) v = v * cfg->col_std[j] + cfg->col_mean[j];
        if (cfg->scaled) v = cfg->scale_lo + v * (cfg->scale_hi - cfg->scale_lo);
        out[j] = (float)v;
    }
}
