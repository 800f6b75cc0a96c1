/* run_data.h - a run's data: load the --data spec, cap, split and pre-process it the way the run
 * says.
 *
 * Pipeline: load (train, test, and valid when the data set has its own: binarized MNIST) -> keep
 * only the examples whose label is in --labels (every split) -> keep the first n_train training
 * examples -> unless the data set has a validation split, split off valid_fraction (seeded) ->
 * pre-process every split alike: images outside [0, 1] are scaled by the training range; tabular
 * data (CSV, 2-D .npy) is standardized with the training set's column statistics; binarize =
 * threshold thresholds at 0.5; binarize = dynamic leaves the training set grey (batches are
 * binarized afresh at every step) and binarizes the valid and test sets once with a fixed seed, so
 * their scores are comparable across epochs and runs. Tabular data in [0, 1] under a likelihood of [0, 1] data
 * (bernoulli, cbernoulli) is kept as it is instead of being standardized. A fresh run (`fit`) decides and stores the
 * geometry and pre-processing in the config; later commands apply the stored ones, so a different
 * --data must have the same number of features.
 */
#ifndef VAE_CLI_RUN_DATA_H
#define VAE_CLI_RUN_DATA_H

#include <stddef.h>

#include "nn/dataset.h"
#include "run_config.h"

typedef struct run_data {
    vae_dataset train, valid, test; /* valid and/or test may be empty (n == 0) */
    int dynamic;                    /* binarize training batches at every step */
    /* the values of every split as the model sees them (after scaling and standardization): "binary" (0 and 1
     * only), "unit" (in [0, 1]) or "real"; the fact `values` of the options table (applies.h) */
    char values[8];
} run_data;

/* Load `spec` (NULL: cfg->data) for cfg. With fit = 1 (a new training run) the feature count, image
 * geometry, likelihood "auto", binarize "auto", scaling and standardization are decided here and
 * stored in cfg. Returns 0, -2 when the spec or a pre-processing option is invalid (bad usage), or
 * -1 on other failures (missing or damaged file, too little data, out of memory), with a one-line
 * reason in msg (d zeroed). */
int run_data_load(run_config *cfg, const char *spec, int fit, run_data *d, char *msg,
                  size_t msglen);
void run_data_free(run_data *d);

/* --max-memory: the memory limit of every later run_data_load (0: the library's default,
 * VAE_LOAD_DEFAULT_MAX_MEMORY); a load whose estimate exceeds it is refused with the estimate in the message. */
void run_data_set_max_memory(size_t bytes);
/* The limit in force (never 0). */
size_t run_data_max_memory(void);
/* Parse a size such as "2G", "512M", "1.5g", "100000" (bytes; K/M/G/T are powers of 1024, an optional B after
 * them); 0, or -1 when the text is not a positive size. */
int run_parse_size(const char *s, size_t *out);

/* The split called `name` ("train", "valid", "test"); NULL with a reason in msg when unknown or
 * empty. */
const vae_dataset *run_data_split(const run_data *d, const char *name, char *msg, size_t msglen);

/* Undo the run's scaling/standardization on one row of d values (for CSV output in original units).
 */
void run_data_unprocess_row(const run_config *cfg, const float *in, float *out);

#endif
