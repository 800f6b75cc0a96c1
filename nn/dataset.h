/* dataset.h - the in-memory data set, its loaders by spec, pre-processing and minibatch iteration.
 *
 * A data set is n examples of d float32 features, row-major x[n*d]. Images carry their geometry
 * (h*w*c == d); tabular data has h = w = c = 0. Every function leaves its outputs unchanged when it
 * fails and stores the reason in the caller's `vae_error` (first error sticks). Nothing here prints
 * or exits. The file formats themselves are in tensor/io/ (idx.h, amat.h, csv.h) and tensor/npy.h;
 * this header turns them into data sets.
 *
 * Specs understood by vae_dataset_load and vae_dataset_load_splits (the `--data` argument of the CLI):
 *
 *   spec                  files                                         train / valid / test
 *   --------------------  --------------------------------------------  --------------------------
 *   sprites[:S]           none: procedural sprites (nn/sprites.h),        20000 / - / 2000 distinct
 *                         S x S pixels (default 32, 8..128), seed 1       factor tuples; labels = shape
 *   mnist:DIR             DIR/{train,t10k}-{images-idx3,labels-idx1}-     60000 / - / 10000;
 *                         ubyte[.gz]; pixels / 255                        labels 0..9
 *   fashion-mnist[:DIR]   same file names; DIR defaults to                60000 / - / 10000;
 *                         /usr/share/datasets/fashion-mnist (Debian       labels 0..9
 *                         package dataset-fashion-mnist)
 *   binarized-mnist:DIR   DIR/binarized_mnist_{train,valid,test}.amat     50000 / 10000 / 10000, the
 *                         [.gz] (Larochelle & Murray 2011); binary = 1    standard split; no labels
 *   npy:FILE              uint8 (scaled / 255) or float32/float64 array:  all / - / -
 *                         (n,h,w) or (n,h,w,c) images, (n,d) tabular
 *   csv:FILE              real-valued measurements (tensor/io/csv.h);     all / - / -
 *                         not standardized
 *
 * "-" is an empty split (n == 0). Only binarized-mnist has a validation split of its own (the valid
 * file is optional: without it valid is empty); for the others a caller splits one off the training
 * set with vae_dataset_split.
 */
#ifndef VAE_NN_DATASET_H
#define VAE_NN_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "tensor/error.h"
#include "tensor/rng.h"

/* Defaults of the `sprites` spec. */
#define VAE_DATASET_SPRITES_TRAIN 20000
#define VAE_DATASET_SPRITES_TEST  2000
#define VAE_DATASET_SPRITES_SEED  1
#define VAE_DATASET_SPRITES_MAX_S                                                                  \
    128 /* largest S the spec accepts (22000 x 128 x 128 floats = 1.4 GB) */

typedef struct vae_dataset {
    int64_t n, d; /* n examples of d features, row-major float32 x[n*d] */
    float *x;
    int h, w, c;     /* image geometry (h*w*c == d) or 0 for tabular */
    int64_t *labels; /* (n) class labels or NULL */
    int nfactors;
    int64_t *factors; /* (n, nfactors) generating factors as level indices (sprites) or NULL */
    const char **factor_names;  /* (nfactors) names, owned (array and strings) */
    int64_t *factor_sizes;      /* (nfactors) number of levels of each factor */
    int binary;                 /* 1: values are already 0/1 (binarized MNIST, thresholded) */
    double *col_mean, *col_std; /* (d) per-column standardization applied to x, NULL otherwise */
    char name[64];
} vae_dataset;

/* Release everything a data set owns and zero it. NULL or a zeroed set is harmless. */
VAE_API void vae_dataset_free(vae_dataset *ds);

/* Make `ds` a zeroed-content set of n x d features (x allocated, all 0; no labels/factors). On
 * failure (n < 1, d < 1, overflow: VAE_ERR_ARG; no memory: VAE_ERR_OOM) `ds` is unchanged. */
VAE_API vae_status vae_dataset_alloc(vae_dataset *ds, int64_t n, int64_t d, vae_error *err);

/* Load the data set named by `spec` (see the table above; NULL or "" means "sprites") into `train`
 * and `test`: vae_dataset_load_splits without the validation split (for binarized-mnist, train is
 * the 50000 standard training rows; the valid rows are not read). `test` may be NULL. Fails as
 * vae_dataset_load_splits does; both outputs are then unchanged. */
VAE_API vae_status vae_dataset_load(const char *spec, vae_dataset *train, vae_dataset *test,
                                    vae_error *err);

/* Load the data set named by `spec` into its standard splits (see the table above). `valid` and
 * `test` may be NULL (not read); a split the data set does not have is left zeroed (n == 0). On
 * failure every output is unchanged and err holds the reason: unknown spec -> VAE_ERR_ARG listing
 * the valid forms; missing file -> VAE_ERR_IO; damaged file -> VAE_ERR_FORMAT / VAE_ERR_CORRUPT /
 * VAE_ERR_MISMATCH / VAE_ERR_UNSUPPORTED from the loader. */
VAE_API vae_status vae_dataset_load_splits(const char *spec, vae_dataset *train, vae_dataset *valid,
                                           vae_dataset *test, vae_error *err);

/* Default memory limit of a load (vae_load_limits.max_memory == 0, and every loader without a limit argument). */
#define VAE_LOAD_DEFAULT_MAX_MEMORY ((size_t)4 << 30)

/* What a load may cost: a caller that uses only part of a data set, or has a memory budget, says so and the
 * loaders read no more than that. */
typedef struct vae_load_limits {
    int64_t max_train; /* keep (and read) only the first max_train training examples; 0: all */
    size_t
        max_memory; /* refuse, before reading the data, any file whose load is estimated above this many bytes
                          (file bytes + float32 set + labels), VAE_ERR_OOM with the estimate in the message; it also
                          caps any decompression. 0: VAE_LOAD_DEFAULT_MAX_MEMORY */
} vae_load_limits;

/* vae_dataset_load_splits within `limits` (NULL: no cap on examples, the default memory limit). A gzip file is
 * inflated no further than the examples kept and never past what its header promises (IDX). Fails as
 * vae_dataset_load_splits does, and with VAE_ERR_OOM when a file's estimate exceeds limits->max_memory,
 * VAE_ERR_ARG on max_train < 0; every output is then unchanged. */
VAE_API vae_status vae_dataset_load_limited(const char *spec, const vae_load_limits *limits,
                                            vae_dataset *train, vae_dataset *valid,
                                            vae_dataset *test, vae_error *err);

/* The single-file loaders below, keeping only the first max_examples examples (0: all; nothing past them is read
 * or inflated for IDX and .npy) within max_memory bytes (0: VAE_LOAD_DEFAULT_MAX_MEMORY; above it VAE_ERR_OOM with
 * the estimate, before the data is read). Otherwise they fail as the loaders without _n do, with `out` unchanged.
 */
VAE_API vae_status vae_dataset_load_idx_n(const char *images_path, const char *labels_path,
                                          int64_t max_examples, size_t max_memory, vae_dataset *out,
                                          vae_error *err);
VAE_API vae_status vae_dataset_load_amat_n(const char *path, int64_t cols, int64_t max_examples,
                                           size_t max_memory, vae_dataset *out, vae_error *err);
VAE_API vae_status vae_dataset_load_csv_n(const char *path, int64_t max_examples, size_t max_memory,
                                          vae_dataset *out, vae_error *err);
VAE_API vae_status vae_dataset_load_npy_n(const char *path, int64_t max_examples, size_t max_memory,
                                          vae_dataset *out, vae_error *err);

/* Load an IDX image file (n, h, w) and, unless `labels_path` is NULL, its IDX label file into a data
 * set: x = pixels / 255 as (n, h*w), h, w, c = 1, labels. Fails as vae_idx_read does, with
 * VAE_ERR_MISMATCH when the counts differ and VAE_ERR_FORMAT when h or w exceeds 65535; `out` is
 * then unchanged. */
VAE_API vae_status vae_dataset_load_idx(const char *images_path, const char *labels_path,
                                        vae_dataset *out, vae_error *err);

/* Load a binarized-MNIST .amat file (plain or gzip) with `cols` columns (0: from the first line)
 * into a data set of 0/1 floats with binary = 1, and 28x28x1 geometry when there are 784 columns.
 * Fails as vae_amat_read does; `out` is then unchanged. */
VAE_API vae_status vae_dataset_load_amat(const char *path, int64_t cols, vae_dataset *out,
                                         vae_error *err);

/* Load a CSV file (plain or gzip) into a tabular data set (rows, cols) of float32 (h = w = c = 0,
 * not standardized). Fails as vae_csv_read does, and with VAE_ERR_FORMAT when a value does not fit
 * in float32; `out` is then unchanged. */
VAE_API vae_status vae_dataset_load_csv(const char *path, vae_dataset *out, vae_error *err);

/* Load a .npy file as the `npy:FILE` spec does: uint8 scaled / 255, float32/float64 kept (must be
 * finite); (n,h,w) and (n,h,w,c) with c <= 4 are images, (n,d) is tabular. Fails as vae_npy_read
 * does, and with VAE_ERR_UNSUPPORTED (other dtypes), VAE_ERR_SHAPE (other ranks, a zero dim),
 * VAE_ERR_FORMAT (NaN/inf or a float64 value outside float32 range); `out` is then unchanged. */
VAE_API vae_status vae_dataset_load_npy(const char *path, vae_dataset *out, vae_error *err);

/* Bytes of an (n, d) float32 buffer (a minibatch or a whole data set), or 0 when n < 1, d < 1 or
 * the size overflows int64_t/size_t (check it before malloc). Never fails otherwise. */
VAE_API size_t vae_dataset_batch_bytes(int64_t n, int64_t d);

/* Copy examples idx[0..m) of `src` (rows, labels, factors, geometry, standardization, name) into a
 * new set `out`. Fails with VAE_ERR_ARG on m < 1 or an index outside [0, n), VAE_ERR_OOM; `out` is
 * then unchanged. */
VAE_API vae_status vae_dataset_subset(const vae_dataset *src, const int64_t *idx, int64_t m,
                                      vae_dataset *out, vae_error *err);

/* Keep the examples of `src` whose label is one of labels[0..nlabels) (in their original order,
 * with everything vae_dataset_subset copies) as a new set `out`. Fails with VAE_ERR_ARG when `src`
 * has no labels, nlabels < 1, or no example has one of the labels (the message names the set and
 * the labels it has), VAE_ERR_NULL on NULL, VAE_ERR_OOM; `out` is then unchanged. */
VAE_API vae_status vae_dataset_filter_labels(const vae_dataset *src, const int64_t *labels,
                                             int nlabels, vae_dataset *out, vae_error *err);

/* Make column `col` (0-based) of tabular data the labels: its values (integers >= 0) go to ds->labels and the
 * other d - 1 columns stay as x (a CSV's class column for a conditional VAE). Fails with VAE_ERR_ARG for images,
 * a column outside 0..d-1, a single column, or a value that is not an integer in [0, 2^31) (naming its row),
 * VAE_ERR_STATE when ds already has labels or is standardized, VAE_ERR_OOM; ds is then unchanged. */
VAE_API vae_status vae_dataset_take_labels(vae_dataset *ds, int64_t col, vae_error *err);

/* Smallest and largest value of x (0, 0 for an empty set). Never fails. */
VAE_API void vae_dataset_range(const vae_dataset *ds, double *lo, double *hi);

/* Map [lo, hi] linearly onto [0, 1] in place, clamping values outside (use the training set's range
 * for the test set). Fails with VAE_ERR_ARG when lo, hi are not finite or hi <= lo; x is then
 * unchanged. */
VAE_API vae_status vae_dataset_scale01(vae_dataset *ds, double lo, double hi, vae_error *err);

/* Replace every value by 1 if it is > t, else 0, and set binary = 1. Never fails; NULL is ignored.
 */
VAE_API void vae_dataset_threshold(vae_dataset *ds, float t);

/* Dynamic binarization of a minibatch: dst_batch[i*d + j] = Bernoulli(src->x[idx[i]*d + j]) with a
 * fresh draw on every call (values are used as probabilities, clamped to [0, 1]). dst_batch is (m,
 * d). The draws are counter-based (vae_rng_bernoulli_rows_f32): one 64-bit key taken from rng per
 * call, vectorized and split over the thread pool with the same bits for any thread count. Fails with
 * VAE_ERR_ARG on an index outside [0, n) or m < 0 (dst_batch then untouched, rng not advanced),
 * VAE_ERR_NULL on NULL. */
VAE_API vae_status vae_dataset_binarize_dynamic(const vae_dataset *src, float *dst_batch,
                                                const int64_t *idx, int64_t m, vae_rng *rng,
                                                vae_error *err);

/* Copy rows idx[0..m) of x into dst (m, d). Fails like vae_dataset_binarize_dynamic; dst is then
 * untouched. */
VAE_API vae_status vae_dataset_gather(const vae_dataset *ds, const int64_t *idx, int64_t m,
                                      float *dst, vae_error *err);

/* Standardize every column to mean 0 and std 1 (population std; a column with std 0 gets std 1),
 * storing the statistics in col_mean/col_std. Fails with VAE_ERR_STATE if already standardized,
 * VAE_ERR_OOM; x is then unchanged. */
VAE_API vae_status vae_dataset_standardize(vae_dataset *ds, vae_error *err);

/* Standardize `ds` with the statistics of `ref` (e.g. the test set with the training set's). Fails
 * with VAE_ERR_ARG if ref has no statistics, VAE_ERR_SHAPE if d differs, VAE_ERR_STATE if ds is
 * already standardized, VAE_ERR_OOM; ds is then unchanged. */
VAE_API vae_status vae_dataset_standardize_like(vae_dataset *ds, const vae_dataset *ref,
                                                vae_error *err);

/* out[j] = in[j] * col_std[j] + col_mean[j] for one row of d values (a plain copy when ds is not
 * standardized). in == out is allowed. Never fails. */
VAE_API void vae_dataset_unstandardize_row(const vae_dataset *ds, const float *in, float *out);

/* Split `src` at random (seeded) into `train` and `valid`: `valid_amount` in (0, 1) is a fraction
 * of n (rounded to nearest), an integer >= 1 is a count. Each side keeps the original order of its
 * examples. Fails with VAE_ERR_ARG when the amount is not finite, negative, a non-integer >= 1, or
 * leaves either side empty, and with VAE_ERR_OOM; both outputs are then unchanged. */
VAE_API vae_status vae_dataset_split(const vae_dataset *src, double valid_amount, uint64_t seed,
                                     vae_dataset *train, vae_dataset *valid, vae_error *err);

/* Seeded shuffling minibatch iterator over n examples. Epoch e visits a permutation that depends
 * only on (seed, e), so training can resume at any epoch with vae_batch_iter_set_epoch. */
typedef struct vae_batch_iter {
    int64_t n, batch, pos; /* pos: next position in perm */
    int64_t epoch;         /* epoch of the current permutation (0-based) */
    int drop_last;         /* 1: skip a final batch smaller than `batch` */
    int started;           /* 0 until the current epoch's permutation is drawn */
    uint64_t seed;
    int64_t *perm; /* (n) */
} vae_batch_iter;

/* Start an iterator at epoch 0. Fails with VAE_ERR_ARG on n < 1 or batch < 1, VAE_ERR_OOM; `it` is
 * then unchanged. */
VAE_API vae_status vae_batch_iter_init(vae_batch_iter *it, int64_t n, int64_t batch, uint64_t seed,
                                       int drop_last, vae_error *err);

/* Point *idx at the next minibatch's indices and return its size; return 0 (and *idx = NULL) at the
 * end of an epoch, after which the next call starts the following epoch with a fresh permutation.
 * Never fails (a NULL or uninitialized iterator gives 0). */
VAE_API int64_t vae_batch_iter_next(vae_batch_iter *it, const int64_t **idx);

/* Restart at the beginning of epoch `epoch` (>= 0; negative is treated as 0). Never fails. */
VAE_API void vae_batch_iter_set_epoch(vae_batch_iter *it, int64_t epoch);

/* Release the permutation and zero the iterator. NULL is harmless. */
VAE_API void vae_batch_iter_free(vae_batch_iter *it);

#endif
