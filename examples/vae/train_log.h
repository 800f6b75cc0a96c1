/* train_log.h - log.jsonl, one JSON object per completed epoch, and the learning curve kept in
 * memory.
 *
 * Line keys: epoch, step, bound_name (the objective's spec, e.g. "iwae:k=5"), train_bound (that
 * bound on the training batches), train_elbo (the ELBO on them, null when the objective does not
 * report it), train_rec, train_kl, valid_bound (the objective's bound on the validation data),
 * valid_bound_se (its standard error across the examples), valid_elbo, valid_elbo_se, valid_rec,
 * valid_kl (the ELBO, its standard error and its parts; null without a validation set),
 * kl_weight, beta, capacity (the last step's KL weight, beta and capacity C; null when the
 * objective has none), kl_per_dim (array), active_units, lr, seconds, samples_per_s. On
 * --resume the file is cut back to the epochs the checkpoint has completed (a crash between the log
 * line and the checkpoint would otherwise leave a duplicate), rewritten atomically, and appended
 * to.
 */
#ifndef VAE_CLI_TRAIN_LOG_H
#define VAE_CLI_TRAIN_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "models/eval.h"

typedef struct train_epoch_row {
    int64_t epoch, step;
    const char *bound_name;
    double train_bound, train_elbo, train_rec, train_kl;
    double valid_bound, valid_bound_se; /* mean over the examples and its standard error */
    double kl_weight, beta, capacity;
    int has_valid;             /* ev is from the validation set (else from training examples) */
    const vae_eval_result *ev; /* the epoch's evaluation: ELBO parts, KL per dim, active units */
    double lr, seconds, samples_per_s;
} train_epoch_row;

typedef struct train_log {
    int n, cap;
    double *train_bound, *valid_bound, *valid_elbo; /* (n) per epoch; NaN when absent */
    double *valid_bound_se, *valid_elbo_se;         /* their standard errors; NaN when absent */
} train_log;

/* Start an empty log file at path (truncating). 0 or -1 with msg. */
int train_log_reset(train_log *l, const char *path, char *msg, size_t n);
/* Keep the lines of epochs 1..epochs_done and the --log-steps records of steps <= steps_done
 * (train_extras.h; a missing file is an empty log), rewrite the file, load the curve. */
int train_log_trim(train_log *l, const char *path, int64_t epochs_done, int64_t steps_done,
                   char *msg, size_t n);
/* Append one epoch's line (flushed and synced) and extend the curve. */
int train_log_append(train_log *l, const char *path, const train_epoch_row *row, char *msg,
                     size_t n);
void train_log_free(train_log *l);

#endif
