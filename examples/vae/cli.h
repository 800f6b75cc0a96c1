/* cli.h - the subcommands of `vae` and what they share.
 *
 * Exit status: 0 success, 1 an error (bad file, corrupt checkpoint, diverged training, ...), 2 bad
 * usage, 130 training interrupted by Ctrl-C (after saving). Every subcommand prints exactly one
 * JSON object on one line to stdout at the end; everything meant for people goes to stderr.
 */
#ifndef VAE_CLI_H
#define VAE_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "autograd/context.h"
#include "models/vae_net.h"
#include "progress.h"
#include "run.h"
#include "run_data.h"

#define VAE_CLI_VERSION "0.1.0"

enum { CLI_EXIT_OK = 0, CLI_EXIT_ERROR = 1, CLI_EXIT_USAGE = 2, CLI_EXIT_INTERRUPTED = 130 };

/* Print "vae CMD: <message>" to stderr; returns CLI_EXIT_ERROR. */
int cli_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Report a run_data_load failure: "vae CMD: msg" and the --help hint for rc == -2; returns the exit
 * status. */
int cli_data_error(const char *cmd, int rc, const char *msg);

/* Apply --threads (0 = the library default); prints a note when this build has no thread pool. */
void cli_set_threads(int64_t n);

/* Option-table rows that mean the same in every subcommand that has them, so that their names and
 * help read the same everywhere (cli_opt initializers; see options.h). Not clang-formatted: it
 * would spread each initializer over several lines. */
/* clang-format off */
#define CLI_OPT_RUN(dst)                                                                           \
    {"run", "DIR", CLI_OPT_STR, (dst), 0, 0, NULL, "run directory written by vae train", 0}
#define CLI_OPT_CHECKPOINT(dst)                                                                    \
    {"checkpoint", "FILE", CLI_OPT_STR, (dst), 0, 0, NULL, "a checkpoint file instead of --run", 0}
#define CLI_OPT_SPLIT(dst)                                                                         \
    {"split", "S", CLI_OPT_CHOICE, (dst), 0, 0, "test|valid|train", "test|valid|train (test)", 0}
#define CLI_OPT_LABELS(dst)                                                                        \
    {"labels", "L,...", CLI_OPT_STR, (dst), 0, 0, NULL, "keep only the examples with these labels (the run's --labels)", 0}
#define CLI_OPT_THREADS(dst)                                                                       \
    {"threads", "N", CLI_OPT_INT, (dst), 0, 256, NULL, "worker threads (0 = all cores)", 0}
#define CLI_OPT_QUIET(dst)                                                                         \
    {"quiet", NULL, CLI_OPT_FLAG, (dst), 0, 0, NULL, "no progress on stderr", 0}
#define CLI_OPT_MAX_MEMORY(dst)                                                                    \
    {"max-memory", "SIZE", CLI_OPT_STR, (dst), 0, 0, NULL, "refuse work whose memory is estimated above SIZE (e.g. 2G; default 4G)", 0}
/* Shown in --help only: main() loads every --plugin and removes it from argv before the command parses. */
#define CLI_OPT_PLUGIN                                                                             \
    {"plugin", "FILE", CLI_OPT_STR, NULL, 0, 0, NULL,                                              \
     "load a plugin .so that registers likelihoods/objectives (repeatable; a run remembers it)", 0}
/* clang-format on */

/* --quiet: no notes on stderr either (cli_pick_split's); errors are always printed. */
void cli_set_quiet(int quiet);
/* --max-memory SIZE (NULL: keep the default) for every later data load and cli_check_memory. 0, or the usage
 * status with the message printed. */
int cli_set_max_memory(const char *cmd, const char *size);
/* Bytes held by d's splits (features, labels, factors), and by a network's parameters with `slots` more
 * per-parameter buffers beside values and gradients (2 for Adam). */
double cli_data_bytes(const run_data *d);
double cli_net_bytes(const vae_net *net, int slots);
/* What evaluating n examples with K importance samples and L ELBO samples allocates (cli_evaluate_ex), bytes. */
double cli_eval_work(const vae_net *net, int64_t n, int64_t K, int64_t L);
/* Refuse work whose estimate data + model + work bytes exceeds --max-memory: 0, or CLI_EXIT_ERROR with
 * "vae CMD: WHAT needs an estimated ... MB (data, model, work), more than the memory limit" printed. */
int cli_check_memory(const char *cmd, const char *what, double data, double model, double work);

/* Load the shared object at path (models/plugin.h); 0, or CLI_EXIT_ERROR with "vae CMD: msg" printed. */
int cli_load_plugin(const char *cmd, const char *path);
/* The registered likelihoods with their parameters per dim and help lines, for --help (stdout). */
void cli_print_likelihoods(void);
/* The registered objectives with their options' defaults and estimators (cli_print_likelihoods calls it). */
void cli_print_objectives(void);

/* Open the run named by --run DIR or --checkpoint FILE (exactly one). Returns 0, CLI_EXIT_USAGE
 * (message printed) or CLI_EXIT_ERROR (message printed). */
int cli_open_run(const char *cmd, const char *run_dir, const char *checkpoint, run *r);

/* cli_open_run, then the data: `data` (a SPEC; NULL = the run's own), prepared with the run's
 * stored scaling, filtered by `labels` ("0,1,2"; NULL = the run's stored --labels), and its split
 * `split` as cli_pick_split chooses it into *ds. Returns 0, or an exit status with the message
 * printed and nothing left open (r and d need no freeing); a bad `labels` list is a usage error. */
int cli_open_run_data(const char *cmd, const char *run_dir, const char *checkpoint,
                      const char *data, const char *labels, const char *split, run *r, run_data *d,
                      const vae_dataset **ds);

/* Evaluate x (n, D) in chunks of 100 examples with progress and a progress line: the means of
 * vae_evaluate over all n (loglik NaN when is_samples == 0), kl_per_dim (caller's Z doubles),
 * per-example ELBO and IS log-likelihood (may be NULL). 0, or -1 with msg. */
typedef struct cli_eval_sums {
    double loglik, elbo, rec, kl;
    double loglik_se, elbo_se; /* sd / sqrt(n) across examples (NAN for n < 2 or when skipped) */
} cli_eval_sums;
int cli_evaluate(vae_ctx *ctx, vae_net *net, const float *x, int64_t n, int64_t is_samples,
                 progress *p, cli_eval_sums *out, double *kl_per_dim, double *ex_elbo,
                 double *ex_loglik, char *msg, size_t msglen);
/* cli_evaluate with L samples per example for the ELBO, S weight draws of a full-VB decoder (0 = its mean
 * weights) and each example's IS standard error (may be NULL). A conditional net is evaluated on the labels set
 * on it for x's n rows (family_prepare); -1 with msg when there are none. */
int cli_evaluate_ex(vae_ctx *ctx, vae_net *net, const float *x, int64_t n, int64_t is_samples,
                    int64_t elbo_samples, int64_t weight_samples, progress *p, cli_eval_sums *out,
                    double *kl_per_dim, double *ex_elbo, double *ex_loglik, double *ex_loglik_se,
                    char *msg, size_t msglen);
/* The split to use: `split` when given, else test, falling back to valid then train (with a note on
 * stderr). NULL with a message printed (exit 1). */
const vae_dataset *cli_pick_split(const char *cmd, const run_data *d, const char *split);

int cmd_train(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_encode(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_estimators(int argc, char **argv);
int cmd_bench(int argc, char **argv);

#endif
