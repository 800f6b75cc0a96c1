/* vae score - per-example ELBO and IS log-likelihood as CSV: the least likely examples are the
 * anomalies. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "families.h"
#include "json.h"
#include "options.h"
#include "ranks.h"
#include "tensor/atomic_file.h"

#define CMD     "score"
#define NLOWEST 10

int cmd_score(int argc, char **argv) {
    const char *run_dir = NULL, *ckpt = NULL, *out = NULL, *data = NULL, *split = NULL,
               *labels = NULL, *max_memory = NULL;
    int64_t nmax = 0, K = 1000, seed = 1, threads = 0;
    int quiet = 0;
    cli_opt tab[] = {
        CLI_OPT_PLUGIN,
        CLI_OPT_RUN(&run_dir),
        CLI_OPT_CHECKPOINT(&ckpt),
        {"data", "SPEC", CLI_OPT_STR, &data, 0, 0, NULL,
         "score other data (same feature count; default: the run's)", 0},
        CLI_OPT_SPLIT(&split),
        CLI_OPT_LABELS(&labels),
        {"n", "N", CLI_OPT_INT, &nmax, 0, 1e12, NULL, "only the first N examples (all)", 0},
        {"is-samples", "K", CLI_OPT_INT, &K, 0, 1000000, NULL,
         "importance samples per example (1000; 0 = ELBO only)", 0},
        {"seed", "S", CLI_OPT_INT, &seed, 0, 9.2e18, NULL, "random seed (1)", 0},
        {"out", "FILE", CLI_OPT_STR, &out, 0, 0, NULL, "CSV file (RUN/scores.csv)", 0},
        CLI_OPT_THREADS(&threads),
        CLI_OPT_QUIET(&quiet),
        CLI_OPT_MAX_MEMORY(&max_memory),
    };
    int rc =
        cli_parse(CMD, argc, argv, tab, (int)(sizeof tab / sizeof *tab), "--run DIR [OPTIONS]",
                  "Write one CSV row per example: index,elbo,loglik,loglik_se[,label]. Low "
                  "log-likelihood = anomalous.\n"
                  "loglik_se is the standard error of that example's IS estimate across its K "
                  "particles\n(delta method: sd(w) / (sqrt(K) mean(w)); empty when K < 2). The "
                  "ELBO is a one-sample\nestimate (its spread is not estimated).");
    if (rc == CLI_PARSE_HELP) return CLI_EXIT_OK;
    if (rc) return CLI_EXIT_USAGE;
    if (cli_set_max_memory(CMD, max_memory)) return CLI_EXIT_USAGE;
    cli_set_quiet(quiet);
    cli_set_threads(threads);
    run r;
    run_data d;
    const vae_dataset *ds;
    if ((rc = cli_open_run_data(CMD, run_dir, ckpt, data, labels, split, &r, &d, &ds))) return rc;
    char msg[512], path[RUN_PATH_MAX];
    int64_t Z = vae_net_latent_dim(&r.net), n = ds->n;
    if (nmax > 0 && nmax < n) n = nmax;
    if (cli_check_memory(CMD, "scoring", cli_data_bytes(&d), cli_net_bytes(&r.net, 0),
                         cli_eval_work(&r.net, n, K, 1))) {
        run_data_free(&d);
        run_close(&r);
        return CLI_EXIT_ERROR;
    }
    double *elbo = malloc(sizeof(double) * (size_t)(n + 1)),
           *ll = malloc(sizeof(double) * (size_t)(n + 1)),
           *llse = malloc(sizeof(double) * (size_t)(n + 1));
    double *kl = malloc(sizeof(double) * (size_t)Z);
    vae_ctx *ctx = vae_ctx_new(0);
    int exit_code = CLI_EXIT_ERROR;
    if (!elbo || !ll || !llse || !kl || !ctx) {
        cli_error(CMD, "out of memory");
        goto done;
    }
    if (out)
        snprintf(path, sizeof path, "%s", out);
    else if (path_join(path, sizeof path, r.dir, "scores.csv", msg, sizeof msg)) {
        cli_error(CMD, "%s", msg);
        goto done;
    }
    vae_ctx_seed(ctx, (uint64_t)seed);
    if (family_prepare(&r.net, ds, n, 0, msg, sizeof msg)) { /* a conditional VAE: log p(x|y) */
        cli_error(CMD, "%s", msg);
        goto done;
    }
    progress p;
    progress_init(&p, 0, n, 0, quiet || ranks_rank() > 0);
    cli_eval_sums s;
    if (cli_evaluate_ex(ctx, &r.net, ds->x, n, K, 1, r.net.bayes ? 10 : 0, &p, &s, kl, elbo, ll,
                        llse, msg, sizeof msg)) {
        cli_error(CMD, "%s", msg);
        goto done;
    }
    if (ranks_rank() > 0) { /* rank 0 writes and reports */
        exit_code = CLI_EXIT_OK;
        goto done;
    }
    vae_atomic_file af;
    vae_error err = {0};
    if (vae_atomic_open(&af, path, &err)) {
        cli_error(CMD, "%s", err.msg);
        goto done;
    }
    FILE *f = af.f;
    fprintf(f, "index,elbo,loglik,loglik_se%s\n", ds->labels ? ",label" : "");
    for (int64_t i = 0; i < n; i++) {
        fprintf(f, "%lld,%.6f,", (long long)i, elbo[i]);
        if (K > 0) fprintf(f, "%.6f", ll[i]);
        fputc(',', f);
        if (K > 1) fprintf(f, "%.6f", llse[i]);
        if (ds->labels) fprintf(f, ",%lld", (long long)ds->labels[i]);
        fputc('\n', f);
    }
    if (vae_atomic_commit(&af, &err)) {
        cli_error(CMD, "%s", err.msg);
        goto done;
    }
    /* the NLOWEST least likely examples, by log p(x) (or the ELBO) */
    const double *key = K > 0 ? ll : elbo;
    int64_t low[NLOWEST];
    int nl = 0;
    for (int64_t i = 0; i < n; i++) {
        int pos;
        if (nl < NLOWEST)
            pos = nl++;
        else if (key[i] < key[low[NLOWEST - 1]])
            pos = NLOWEST - 1;
        else
            continue;
        while (pos > 0 && key[i] < key[low[pos - 1]]) low[pos] = low[pos - 1], pos--;
        low[pos] = i;
    }
    json j;
    json_init(&j);
    json_begin(&j, NULL);
    json_str(&j, "command", "score");
    json_str(&j, "checkpoint", r.ckpt);
    json_str(&j, "file", path);
    json_int(&j, "n", n);
    json_int(&j, "is_samples", K);
    json_num(&j, "mean_elbo", s.elbo);
    json_num(&j, "mean_loglik", s.loglik);
    json_num(&j, "mean_loglik_se", s.loglik_se);
    json_num(&j, "mean_elbo_se", s.elbo_se);
    json_begin_array(&j, "lowest");
    for (int k = 0; k < nl; k++) json_int(&j, NULL, low[k]);
    json_end_array(&j);
    json_end(&j);
    json_print(&j, stdout);
    json_free(&j);
    exit_code = CLI_EXIT_OK;
done:
    free(elbo), free(ll), free(llse), free(kl);
    vae_ctx_free(ctx);
    run_data_free(&d);
    run_close(&r);
    return exit_code;
}
