/* dataset_load.c - data sets from files and from specs (the `--data` argument): MNIST-like IDX pairs,
 * binarized MNIST .amat, .npy, CSV and the built-in sprites. The formats are parsed by tensor/io/ and
 * tensor/npy.c; this file knows the data sets: their file names, splits and geometry. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nn/dataset.h"
#include "nn/sprites.h"
#include "tensor/io/amat.h"
#include "tensor/io/csv.h"
#include "tensor/io/idx.h"
#include "tensor/npy.h"
#include "tensor/io/io_internal.h"

#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* ---- one file into a data set ---- */

/* Estimated bytes of a load of n examples of d features: the file's bytes (raw_per_elem each) and the float32 set,
 * plus labels; refuse (VAE_ERR_OOM, with the estimate) above the limit. */
static vae_status check_estimate(const char *what, int64_t n, int64_t d, double raw_per_elem,
                                 int labels, size_t max_memory, vae_error *err) {
    if (max_memory == 0) max_memory = VAE_LOAD_DEFAULT_MAX_MEMORY;
    double est = (double)n * (double)d * (4.0 + raw_per_elem) + (labels ? (double)n * 9.0 : 0.0);
    if (est > (double)max_memory)
        return vae_error_set(err, VAE_ERR_OOM,
                             "%s: %lld examples of %lld features need an estimated %.1f MB, more "
                             "than the memory limit of %.1f MB",
                             what, (long long)n, (long long)d, est / 1e6, (double)max_memory / 1e6);
    return VAE_OK;
}

static size_t cap_bytes(size_t max_memory) {
    return max_memory ? max_memory : VAE_LOAD_DEFAULT_MAX_MEMORY;
}

vae_status vae_dataset_load_idx(const char *images_path, const char *labels_path, vae_dataset *out,
                                vae_error *err) {
    return vae_dataset_load_idx_n(images_path, labels_path, 0, 0, out, err);
}

vae_status vae_dataset_load_idx_n(const char *images_path, const char *labels_path,
                                  int64_t max_examples, size_t max_memory, vae_dataset *out,
                                  vae_error *err) {
    if (!images_path || !out) return vae_error_set(err, VAE_ERR_NULL, "idx: NULL argument");
    if (max_examples < 0)
        return vae_error_set(err, VAE_ERR_ARG, "idx: max_examples must be >= 0, got %lld",
                             (long long)max_examples);
    vae_idx im = {0}, lb = {0};
    vae_dataset ds = {0};
    /* the headers first: what the load will cost is known before anything large is read */
    vae_status st = vae_idx_read_header(images_path, 3, &im, err);
    if (st != VAE_OK) return st;
    int64_t n_file = im.shape[0];
    int64_t n = max_examples && max_examples < n_file ? max_examples : n_file;
    st = check_estimate(images_path, n, im.shape[1] * im.shape[2], 1.0, labels_path != NULL,
                        max_memory, err);
    if (st != VAE_OK) return st;
    st = vae_idx_read_n(images_path, 3, max_examples, cap_bytes(max_memory), &im, err);
    if (st != VAE_OK) return st;
    if (labels_path) {
        st = vae_idx_read_header(labels_path, 1, &lb, err);
        if (st == VAE_OK && lb.shape[0] != n_file) {
            st = vae_error_set(err, VAE_ERR_MISMATCH,
                               "idx: %s has %lld labels but %s has %lld images", labels_path,
                               (long long)lb.shape[0], images_path, (long long)n_file);
            goto done;
        }
        if (st == VAE_OK) st = vae_idx_read_n(labels_path, 1, n, cap_bytes(max_memory), &lb, err);
        if (st != VAE_OK) goto done;
        if (lb.shape[0] != im.shape[0]) {
            st = vae_error_set(err, VAE_ERR_MISMATCH,
                               "idx: %s has %lld labels but %s has %lld images", labels_path,
                               (long long)lb.shape[0], images_path, (long long)im.shape[0]);
            goto done;
        }
    }
    if (im.shape[1] > 65535 || im.shape[2] > 65535) {
        st = vae_error_set(err, VAE_ERR_FORMAT, "idx: %s: image size %lldx%lld is too large",
                           images_path, (long long)im.shape[1], (long long)im.shape[2]);
        goto done;
    }
    st = vae_dataset_alloc(&ds, im.shape[0], im.shape[1] * im.shape[2], err);
    if (st != VAE_OK) goto done;
    if (labels_path) {
        ds.labels = malloc((size_t)lb.numel * sizeof *ds.labels);
        if (!ds.labels) {
            st = vae_error_set(err, VAE_ERR_OOM, "idx: cannot allocate %lld labels",
                               (long long)lb.numel);
            goto done;
        }
        for (int64_t i = 0; i < lb.numel; i++) ds.labels[i] = lb.data[i];
    }
    for (int64_t i = 0; i < im.numel; i++) ds.x[i] = (float)im.data[i] / 255.0f;
    ds.h = (int)im.shape[1];
    ds.w = (int)im.shape[2];
    ds.c = 1;
    *out = ds;
    memset(&ds, 0, sizeof ds);
done:
    vae_dataset_free(&ds);
    vae_idx_free(&im);
    vae_idx_free(&lb);
    return st;
}

vae_status vae_dataset_load_amat(const char *path, int64_t cols, vae_dataset *out, vae_error *err) {
    return vae_dataset_load_amat_n(path, cols, 0, 0, out, err);
}

vae_status vae_dataset_load_amat_n(const char *path, int64_t cols, int64_t max_examples,
                                   size_t max_memory, vae_dataset *out, vae_error *err) {
    if (!path || !out) return vae_error_set(err, VAE_ERR_NULL, "amat: NULL argument");
    if (max_examples < 0)
        return vae_error_set(err, VAE_ERR_ARG, "amat: max_examples must be >= 0, got %lld",
                             (long long)max_examples);
    vae_amat a = {0};
    vae_status st = vae__amat_read_n(path, cols, max_examples, cap_bytes(max_memory), &a, err);
    if (st != VAE_OK) return st;
    vae_dataset ds = {0};
    st = check_estimate(path, a.rows, a.cols, 1.0, 0, max_memory, err);
    if (st == VAE_OK) st = vae_dataset_alloc(&ds, a.rows, a.cols, err);
    if (st == VAE_OK) {
        for (int64_t i = 0; i < a.rows * a.cols; i++) ds.x[i] = a.data[i] ? 1.0f : 0.0f;
        ds.binary = 1;
        if (a.cols == 784) {
            ds.h = ds.w = 28;
            ds.c = 1;
        }
        *out = ds;
    }
    vae_amat_free(&a);
    return st;
}

vae_status vae_dataset_load_csv(const char *path, vae_dataset *out, vae_error *err) {
    return vae_dataset_load_csv_n(path, 0, 0, out, err);
}

vae_status vae_dataset_load_csv_n(const char *path, int64_t max_examples, size_t max_memory,
                                  vae_dataset *out, vae_error *err) {
    if (!path || !out) return vae_error_set(err, VAE_ERR_NULL, "csv: NULL argument");
    if (max_examples < 0)
        return vae_error_set(err, VAE_ERR_ARG, "csv: max_examples must be >= 0, got %lld",
                             (long long)max_examples);
    vae_csv c = {0};
    vae_status st = vae__csv_read_limited(path, cap_bytes(max_memory), &c, err);
    if (st != VAE_OK) return st;
    if (max_examples && c.rows > max_examples) c.rows = max_examples; /* the rest is freed with c */
    vae_dataset ds = {0};
    st = check_estimate(path, c.rows, c.cols, 0.0, 0, max_memory, err);
    if (st == VAE_OK) st = vae_dataset_alloc(&ds, c.rows, c.cols, err);
    if (st == VAE_OK) {
        for (int64_t i = 0; i < c.rows * c.cols; i++) {
            double v = c.data[i];
            if (fabs(v) > 3.4028234663852886e38) {
                st =
                    vae_error_set(err, VAE_ERR_FORMAT,
                                  "csv: %s: row %lld column %lld: %g does not fit in float32", path,
                                  (long long)(i / c.cols + 1), (long long)(i % c.cols + 1), v);
                break;
            }
            ds.x[i] = (float)v;
        }
    }
    if (st == VAE_OK) {
        *out = ds;
        memset(&ds, 0, sizeof ds);
    }
    vae_dataset_free(&ds);
    vae_csv_free(&c);
    return st;
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
        /* existence only: opening here would block on a FIFO; the reader refuses what is not a regular file */
        struct stat sb;
        if (stat(buf, &sb) == 0) return VAE_OK;
    }
    return vae_error_set(err, VAE_ERR_IO, "%s: neither %s/%s nor %s/%s.gz exists", what, dir, base,
                         dir, base);
}

static vae_status load_idx_pair(const char *dir, const char *prefix, const char *what,
                                int64_t max_n, size_t max_memory, vae_dataset *out,
                                vae_error *err) {
    char ip[4096], lp[4096], base[64];
    snprintf(base, sizeof base, "%s-images-idx3-ubyte", prefix);
    vae_status st = find_file(dir, base, ip, sizeof ip, what, err);
    if (st != VAE_OK) return st;
    snprintf(base, sizeof base, "%s-labels-idx1-ubyte", prefix);
    st = find_file(dir, base, lp, sizeof lp, what, err);
    if (st != VAE_OK) return st;
    st = vae_dataset_load_idx_n(ip, lp, max_n, max_memory, out, err);
    if (st == VAE_OK) snprintf(out->name, sizeof out->name, "%s", what);
    return st;
}

/* Hand the loaded splits to the caller (valid and test only when asked for), or free them all when st
 * is a failure: the caller's outputs change only on success. */
static vae_status give_splits(vae_status st, vae_dataset *tr, vae_dataset *va, vae_dataset *te,
                              vae_dataset *train, vae_dataset *valid, vae_dataset *test) {
    if (st != VAE_OK) {
        vae_dataset_free(tr);
        vae_dataset_free(va);
        vae_dataset_free(te);
        return st;
    }
    *train = *tr;
    if (valid) *valid = *va;
    if (test) *test = *te;
    return VAE_OK;
}

static vae_status load_mnist_like(const char *dir, const char *what, const vae_load_limits *lim,
                                  vae_dataset *train, vae_dataset *test, vae_error *err) {
    vae_dataset tr = {0}, te = {0};
    vae_status st = load_idx_pair(dir, "train", what, lim->max_train, lim->max_memory, &tr, err);
    if (st == VAE_OK && test) st = load_idx_pair(dir, "t10k", what, 0, lim->max_memory, &te, err);
    if (st == VAE_OK && test && te.d != tr.d) {
        st = vae_error_set(err, VAE_ERR_MISMATCH,
                           "%s: train images have %lld pixels, test images %lld", what,
                           (long long)tr.d, (long long)te.d);
    }
    if (st != VAE_OK) {
        vae_dataset_free(&tr);
        vae_dataset_free(&te);
        return st;
    }
    *train = tr;
    if (test) *test = te;
    return VAE_OK;
}

/* The standard split of Larochelle & Murray (2011): 50000 train, 10000 valid, 10000 test rows, each
 * from its own file. valid (when asked for) is optional: without the file it is left empty. */
static vae_status load_binarized(const char *dir, const vae_load_limits *lim, vae_dataset *train,
                                 vae_dataset *valid, vae_dataset *test, vae_error *err) {
    const char *what = "binarized-mnist";
    char p[4096];
    vae_dataset tr = {0}, va = {0}, te = {0};
    vae_status st = find_file(dir, "binarized_mnist_train.amat", p, sizeof p, what, err);
    if (st == VAE_OK)
        st = vae_dataset_load_amat_n(p, 784, lim->max_train, lim->max_memory, &tr, err);
    /* valid is optional: probe without recording an error */
    if (st == VAE_OK && valid &&
        find_file(dir, "binarized_mnist_valid.amat", p, sizeof p, what, NULL) == VAE_OK)
        st = vae_dataset_load_amat_n(p, 784, 0, lim->max_memory, &va, err);
    if (st == VAE_OK && test) {
        st = find_file(dir, "binarized_mnist_test.amat", p, sizeof p, what, err);
        if (st == VAE_OK) st = vae_dataset_load_amat_n(p, 784, 0, lim->max_memory, &te, err);
    }
    snprintf(tr.name, sizeof tr.name, "%s", what);
    snprintf(va.name, sizeof va.name, "%s", what);
    snprintf(te.name, sizeof te.name, "%s", what);
    return give_splits(st, &tr, &va, &te, train, valid, test);
}

vae_status vae_dataset_load_npy(const char *path, vae_dataset *out, vae_error *err) {
    return vae_dataset_load_npy_n(path, 0, 0, out, err);
}

vae_status vae_dataset_load_npy_n(const char *path, int64_t max_examples, size_t max_memory,
                                  vae_dataset *out, vae_error *err) {
    if (!path || !out) return vae_error_set(err, VAE_ERR_NULL, "npy: NULL argument");
    if (max_examples < 0)
        return vae_error_set(err, VAE_ERR_ARG, "npy: max_examples must be >= 0, got %lld",
                             (long long)max_examples);
    vae_npy a;
    memset(&a, 0, sizeof a);
    vae_status st = vae__npy_read_rows(path, max_examples, cap_bytes(max_memory), 4, &a, err);
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

vae_status vae_dataset_load_splits(const char *spec, vae_dataset *train, vae_dataset *valid,
                                   vae_dataset *test, vae_error *err) {
    return vae_dataset_load_limited(spec, NULL, train, valid, test, err);
}

vae_status vae_dataset_load_limited(const char *spec, const vae_load_limits *limits,
                                    vae_dataset *train, vae_dataset *valid, vae_dataset *test,
                                    vae_error *err) {
    if (!train) return vae_error_set(err, VAE_ERR_NULL, "dataset_load: NULL train output");
    vae_load_limits lim = {0, 0};
    if (limits) lim = *limits;
    if (lim.max_train < 0)
        return vae_error_set(err, VAE_ERR_ARG, "dataset_load: max_train must be >= 0, got %lld",
                             (long long)lim.max_train);
    if (!spec || !*spec) spec = "sprites";
    const char *arg;
    vae_dataset tr = {0}, va = {0}, te = {0};
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
        st =
            check_estimate("sprites", 2 * (ntr + nte), (int64_t)S * S, 0.0, 1, lim.max_memory, err);
        if (st != VAE_OK) return st;
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
        st = load_mnist_like(arg, "mnist", &lim, &tr, test ? &te : NULL, err);
    } else if ((arg = spec_arg(spec, "fashion-mnist"))) {
        char probe[4096];
        if (!*arg && find_file(FASHION_MNIST_DIR, "train-images-idx3-ubyte", probe, sizeof probe,
                               "fashion-mnist", NULL) != VAE_OK)
            return vae_error_set(err, VAE_ERR_IO,
                                 "dataset_load: fashion-mnist not found in " FASHION_MNIST_DIR
                                 " (Debian: apt-get install dataset-fashion-mnist; or give "
                                 "fashion-mnist:DIR)");
        st = load_mnist_like(*arg ? arg : FASHION_MNIST_DIR, "fashion-mnist", &lim, &tr,
                             test ? &te : NULL, err);
    } else if ((arg = spec_arg(spec, "binarized-mnist"))) {
        if (!*arg)
            return vae_error_set(
                err, VAE_ERR_ARG,
                "dataset_load: \"binarized-mnist\" needs a directory: binarized-mnist:DIR");
        st = load_binarized(arg, &lim, &tr, valid ? &va : NULL, test ? &te : NULL, err);
    } else if ((arg = spec_arg(spec, "npy"))) {
        if (!*arg)
            return vae_error_set(err, VAE_ERR_ARG, "dataset_load: \"npy\" needs a file: npy:FILE");
        st = vae_dataset_load_npy_n(arg, lim.max_train, lim.max_memory, &tr, err);
    } else if ((arg = spec_arg(spec, "csv"))) {
        if (!*arg)
            return vae_error_set(err, VAE_ERR_ARG, "dataset_load: \"csv\" needs a file: csv:FILE");
        st = vae_dataset_load_csv_n(arg, lim.max_train, lim.max_memory, &tr, err);
        if (st == VAE_OK) snprintf(tr.name, sizeof tr.name, "csv");
    } else {
        return vae_error_set(err, VAE_ERR_ARG,
                             "dataset_load: unknown data set \"%.80s\"; valid forms: " SPEC_FORMS,
                             spec);
    }
    return give_splits(st, &tr, &va, &te, train, valid, test);
}

vae_status vae_dataset_load(const char *spec, vae_dataset *train, vae_dataset *test,
                            vae_error *err) {
    return vae_dataset_load_splits(spec, train, NULL, test, err);
}
