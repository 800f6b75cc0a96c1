/* A label column of tabular data becomes the data set's labels (dataset.h: vae_dataset_take_labels). */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/dataset.h"

vae_status vae_dataset_take_labels(vae_dataset *ds, int64_t col, vae_error *err) {
    if (!ds || !ds->x)
        return vae_error_set(err, VAE_ERR_NULL, "dataset_take_labels: NULL or empty set");
    if (ds->h > 0 || col < 0 || col >= ds->d || ds->d < 2)
        return vae_error_set(err, VAE_ERR_ARG,
                             "dataset_take_labels: column %" PRId64 " of %s (%" PRId64
                             " columns%s): a label column needs tabular data with another column",
                             col + 1, ds->name, ds->d, ds->h > 0 ? ", images" : "");
    if (ds->labels || ds->col_mean)
        return vae_error_set(err, VAE_ERR_STATE,
                             "dataset_take_labels: %s already has labels or is standardized",
                             ds->name);
    int64_t n = ds->n, d = ds->d;
    for (int64_t i = 0; i < n; i++) { /* check everything before changing anything */
        float v = ds->x[i * d + col];
        if (!(v >= 0 && v <= 2147483647.0f) || v != floorf(v))
            return vae_error_set(err, VAE_ERR_ARG,
                                 "dataset_take_labels: %s row %" PRId64 " column %" PRId64
                                 " is %g, not a class label (an integer >= 0)",
                                 ds->name, i + 1, col + 1, (double)v);
    }
    int64_t *labels = malloc(sizeof(int64_t) * (size_t)(n > 0 ? n : 1));
    if (!labels) return vae_error_set(err, VAE_ERR_OOM, "dataset_take_labels: out of memory");
    for (int64_t i = 0; i < n; i++) { /* the other columns move up in place, row by row */
        labels[i] = (int64_t)ds->x[i * d + col];
        float *dst = ds->x + i * (d - 1);
        const float *src = ds->x + i * d;
        memmove(dst, src, sizeof(float) * (size_t)col);
        memmove(dst + col, src + col + 1, sizeof(float) * (size_t)(d - 1 - col));
    }
    ds->labels = labels;
    ds->d = d - 1;
    return VAE_OK;
}
