/* train_extras.h - what `vae train` records beside the epoch log: the estimator study at
 * checkpoints (--study-every, study.jsonl) and per-step records in log.jsonl (--log-steps).
 *
 * study.jsonl: one line per study, {"epoch", "step", "objective", "batch", "draws", "rows": [...]}
 * with the rows of `vae estimators` (study_grid.h; the five fixed groups: total, encoder, decoder,
 * encoder.mu, encoder.logvar), on a fixed batch of the first --study-batch training examples, so
 * the SNR-vs-K curves of Rainforth et al. (2018) can be drawn as training proceeds.
 * Step records in log.jsonl: {"kind":"step", "step", "epoch", "loss", "bound", "kl", "kl_weight",
 * "grad_norm", "lr", "seconds"} (seconds: the run's training time so far); epoch lines have no
 * "kind". */
#ifndef VAE_CLI_TRAIN_EXTRAS_H
#define VAE_CLI_TRAIN_EXTRAS_H

#include <stddef.h>
#include <stdint.h>

#include "models/objective.h"
#include "run_data.h"

typedef struct train_study_opts {
    int64_t every;        /* epochs between studies; 0 = off */
    int64_t draws, batch; /* R and the batch size */
    const char *ks, *estimators, *objective;
} train_study_opts;

/* Check the options (usage errors): 0, or -1 with msg. */
int train_study_check(const train_study_opts *o, char *msg, size_t n);
/* Run the study on the model now and append one line to dir/study.jsonl. ctx is scratch (seeded
 * from seed and epoch; the training streams are not touched). 0, or -1 with msg. */
int train_study_record(const train_study_opts *o, const char *dir, int64_t epoch, int64_t step,
                       uint64_t seed, vae_ctx *ctx, vae_net *net, const run_data *d, char *msg,
                       size_t n);

typedef struct train_step_record {
    int64_t step, epoch;
    double loss, bound, kl, kl_weight, grad_norm, lr, seconds;
} train_step_record;

/* Append one step line to the log at path. 0, or -1 with msg. */
int train_log_step(const char *path, const train_step_record *r, char *msg, size_t n);

#endif
