/* dataset_internal.h - names shared by the data-set files of nn/ (dataset.c, dataset_load.c, sprites.c).
 * Not installed, not for callers. */
#ifndef VAE_NN_DATASET_INTERNAL_H
#define VAE_NN_DATASET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "nn/dataset.h"

/* Give ds (no factor names yet) k owned factor names and sizes and set nfactors = k; VAE_ERR_OOM
 * leaves ds unchanged. */
vae_status vae__dataset_set_factor_meta(vae_dataset *ds, int k, const char *const *names,
                                        const int64_t *sizes, vae_error *err);

#endif
