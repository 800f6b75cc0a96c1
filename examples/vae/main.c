/* vae - train, evaluate and study variational autoencoders from the command line. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "applies.h"
#include "cli.h"
#include "models/likelihood.h"
#include "models/objective.h"
#include "models/plugin.h"
#include "options.h"
#include "ranks.h"
#include "tensor/error.h"
#include "tensor/threadpool.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"train", cmd_train,
     "train a VAE, beta-VAE or IWAE; writes a checkpoint, log.jsonl and pictures"},
    {"eval", cmd_eval, "importance-sampled log-likelihood, ELBO, KL per dim, active units, MIG"},
    {"sample", cmd_sample, "draw from the prior: a PNG grid (or CSV) and samples.npy"},
    {"encode", cmd_encode, "latent means and log-variances of a data set as .npy"},
    {"score", cmd_score, "per-example ELBO and log-likelihood as CSV (anomaly detection)"},
    {"export", cmd_export, "the model's parameters as .npy files"},
    {"estimators", cmd_estimators, "gradient-estimator variance study (SNR vs K)"},
    {"compare", cmd_compare, "runs side by side: learning curves overlaid, compare.png and .csv"},
    {"bench", cmd_bench, "kernel benchmark: GEMM GFLOP/s against the machine's FMA peak"},
};
#define NCOMMANDS ((int)(sizeof commands / sizeof *commands))

int cli_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vae %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CLI_EXIT_ERROR;
}

int cli_data_error(const char *cmd, int rc, const char *msg) {
    if (rc == -2) return cli_usage_error(cmd, "%s", msg);
    return cli_error(cmd, "%s", msg);
}

void cli_set_threads(int64_t n) {
    vae_threads_set((int)n);
}

static void usage(FILE *f) {
    fprintf(
        f,
        "Usage: vae COMMAND [OPTIONS]\n"
        "Variational autoencoders in C: training, evaluation, pictures and estimator studies.\n\n"
        "Commands:\n");
    for (int i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fprintf(
        f,
        "\nRun 'vae COMMAND --help' for a command's options. Start with 'vae train' (about a "
        "minute,\n"
        "built-in sprites), then look at runs/sprites-vae/.\n"
        "Each command prints one JSON line with its results on stdout; progress goes to stderr.\n");
}

/* The worked example of a user-defined likelihood (examples/likelihood_student_t.c), linked in and registered
 * like a user's own would be: `--likelihood student-t`. */
vae_status vae_likelihood_student_t_register(void);

int cli_load_plugin(const char *cmd, const char *path) {
    vae_error err = {0};
    if (vae_plugin_load(path, &err)) return cli_error(cmd, "%s", err.msg);
    return 0;
}

void cli_print_likelihoods(void) {
    const vae_likelihood *l[128];
    int n = vae_likelihood_list(l, 128);
    printf("\nLikelihoods (--likelihood NAME; plugins add more; P = decoder outputs per dim):\n");
    for (int i = 0; i < n && i < 128; i++)
        printf("  %-18s P=%-2d %s\n", l[i]->name, l[i]->params_per_dim,
               l[i]->help ? l[i]->help : "");
    cli_print_objectives();
}

void cli_print_objectives(void) {
    const vae_objective_desc *o[128];
    int n = vae_objective_list(o, 128);
    printf("\nObjectives (--objective NAME[:key=value,...]; plugins add more; defaults shown):\n");
    for (int i = 0; i < n && i < 128; i++) {
        char opts[256] = "";
        size_t len = 0;
        for (int k = 0; k < o[i]->nopts && len < sizeof opts; k++)
            len += (size_t)snprintf(opts + len, sizeof opts - len, "%s%s=%g", k ? "," : ":",
                                    o[i]->opts[k].name, o[i]->opts[k].def);
        char spec[320];
        snprintf(spec, sizeof spec, "%s%s", o[i]->name, opts);
        char ests[64] = "";
        len = 0;
        for (int e = 0; e < VAE_EST_COUNT_ && len < sizeof ests; e++)
            if (o[i]->estimators & (1u << e))
                len += (size_t)snprintf(ests + len, sizeof ests - len, "%s%s", len ? "," : "",
                                        vae_estimator_name((vae_estimator)e));
        printf("  %s\n      %s (estimators: %s)\n", spec, o[i]->help ? o[i]->help : "", ests);
    }
}

/* Load every --plugin FILE / --plugin=FILE of a command and remove them from argv, before the
 * command parses its options: their likelihoods then show up in --help and are found by name.
 * Returns 0, or the exit status with the message printed. */
static int load_plugins(const char *cmd, int *argc, char **argv) {
    int k = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i], *path;
        if (strcmp(a, "--plugin") == 0) {
            if (i + 1 >= *argc) return cli_usage_error(cmd, "--plugin needs a value (FILE)");
            path = argv[++i];
        } else if (strncmp(a, "--plugin=", 9) == 0) {
            path = a + 9;
        } else {
            argv[k++] = argv[i];
            continue;
        }
        if (!*path) return cli_usage_error(cmd, "--plugin: empty value");
        if (cli_load_plugin(cmd, path)) return CLI_EXIT_ERROR;
    }
    *argc = k;
    argv[k] = NULL;
    return 0;
}

int main(int argc, char **argv) {
    vae_likelihood_student_t_register();
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("vae %s\n", VAE_CLI_VERSION);
        return CLI_EXIT_OK;
    }
    for (int i = 0; i < NCOMMANDS; i++) {
        if (strcmp(argv[1], commands[i].name) != 0) continue;
        int cargc = argc - 1;
        if (commands[i].run != cmd_bench) {
            int rc = load_plugins(commands[i].name, &cargc, argv + 1);
            if (rc) return rc;
        }
        /* under mpirun every rank runs the command; train, eval and score share the work (ranks.h) */
        if (ranks_init()) {
            fprintf(stderr, "vae: could not join the MPI job\n");
            return CLI_EXIT_ERROR;
        }
        return ranks_finish(commands[i].run(cargc, argv + 1));
    }
    fprintf(stderr, "vae: unknown command \"%s\"\nTry 'vae --help' for the list of commands.\n",
            argv[1]);
    return CLI_EXIT_USAGE;
}

static int cli_quiet;

void cli_set_quiet(int quiet) {
    cli_quiet = quiet;
}

int cli_set_max_memory(const char *cmd, const char *size) {
    if (!size) return 0;
    size_t mm = 0;
    if (run_parse_size(size, &mm))
        return cli_usage_error(cmd, "--max-memory: \"%s\" is not a size (e.g. 2G, 512M)", size);
    run_data_set_max_memory(mm);
    return 0;
}

double cli_data_bytes(const run_data *d) {
    const vae_dataset *s[3] = {&d->train, &d->valid, &d->test};
    double b = 0;
    for (int k = 0; k < 3; k++)
        b += (double)s[k]->n * (double)s[k]->d * sizeof(float) +
             (s[k]->labels ? (double)s[k]->n * sizeof(int64_t) : 0) +
             (s[k]->factors ? (double)s[k]->n * s[k]->nfactors * sizeof(int64_t) : 0);
    return b;
}

double cli_net_bytes(const vae_net *net, int slots) {
    const vae_params *p = net->params;
    return p ? (double)vae_params_flat_len(p) * (vae_params_dtype(p) == VAE_F64 ? 8.0 : 4.0) *
                   (2.0 + slots)
             : 0;
}

double cli_eval_work(const vae_net *net, int64_t n, int64_t K, int64_t L) {
    double m = n < 100 ? (double)n : 100, D = (double)net->cfg.x_dim,
           P = net->lik ? net->lik->params_per_dim : 1, es = net->cfg.dtype == VAE_F64 ? 8 : 4;
    double is = (double)K * m * D * P, elbo = (double)L * m * D * P, cap = (double)(8 << 20);
    if (is > cap) is = cap; /* vae_evaluate's chunks of particles (vae_eval_cfg.max_floats) */
    /* the decoder output of a chunk, its log-probabilities, the broadcast x and activations: about 4 copies; per
     * example: latent means (Z floats), ELBO and log-likelihood with its error (3 doubles) */
    return 4.0 * (is > elbo ? is : elbo) * es + (double)n * ((double)net->cfg.z_dim * 4 + 3 * 8);
}

int cli_check_memory(const char *cmd, const char *what, double data, double model, double work) {
    double limit = (double)run_data_max_memory(), total = data + model + work;
    if (total <= limit) return 0;
    return cli_error(cmd,
                     "%s needs an estimated %.1f MB (data %.1f MB, model %.1f MB, work %.1f MB), more than "
                     "the memory limit of %.1f MB (--max-memory)",
                     what, total / 1e6, data / 1e6, model / 1e6, work / 1e6, limit / 1e6);
}

int cli_open_run(const char *cmd, const char *run_dir, const char *checkpoint, run *r) {
    if (!run_dir == !checkpoint) {
        cli_usage_error(cmd, run_dir ? "give --run or --checkpoint, not both"
                                     : "which model? give --run DIR or --checkpoint FILE");
        return CLI_EXIT_USAGE;
    }
    char msg[512];
    if (run_open(run_dir, checkpoint, r, msg, sizeof msg)) return cli_error(cmd, "%s", msg);
    return CLI_EXIT_OK;
}

int cli_open_run_data(const char *cmd, const char *run_dir, const char *checkpoint,
                      const char *data, const char *labels, const char *split, run *r, run_data *d,
                      const vae_dataset **ds) {
    char msg[512];
    /* a bad --labels list is a usage error, found before the run is opened */
    run_config lab;
    run_config_default(&lab);
    if (labels && run_config_set_labels(&lab, labels, msg, sizeof msg))
        return cli_usage_error(cmd, "--labels: %s", msg);
    int rc = cli_open_run(cmd, run_dir, checkpoint, r);
    if (rc) return rc;
    if (labels) {
        r->cfg.nlabels = lab.nlabels;
        memcpy(r->cfg.labels, lab.labels, sizeof lab.labels);
    }
    rc = run_data_load(&r->cfg, data, 0, d, msg, sizeof msg);
    if (rc) {
        run_close(r);
        return cli_data_error(cmd, rc, msg);
    }
    /* the options table's rows on every command (applies.c): the run's likelihood on these values */
    cli_facts f = {0};
    cli_facts_set(&f, "likelihood", r->cfg.likelihood);
    cli_facts_set(&f, "values", d->values);
    if (cli_applies_check(cmd, NULL, 0, &f)) {
        run_data_free(d);
        run_close(r);
        return CLI_EXIT_USAGE;
    }
    if (!(*ds = cli_pick_split(cmd, d, split))) {
        run_data_free(d);
        run_close(r);
        return CLI_EXIT_ERROR;
    }
    return 0;
}

const vae_dataset *cli_pick_split(const char *cmd, const run_data *d, const char *split) {
    char msg[256];
    if (split) {
        const vae_dataset *ds = run_data_split(d, split, msg, sizeof msg);
        if (!ds) cli_error(cmd, "%s", msg);
        return ds;
    }
    if (d->test.n > 0) return &d->test;
    const vae_dataset *ds = d->valid.n > 0 ? &d->valid : &d->train;
    if (!cli_quiet)
        fprintf(stderr, "vae %s: note: the data has no test split; using the %s split\n", cmd,
            ds == &d->valid ? "valid" : "train");
    return ds;
}
