/* vae estimators - the gradient-estimator variance study (models/study.h): for a fixed model and
 * batch, R gradient draws per estimator and per K, SNR of the encoder and decoder gradients
 * (Rainforth et al. 2018). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plot.h"
#include "json.h"
#include "models/study.h"
#include "options.h"

#define CMD     "estimators"
#define MAX_EST 16
#define MAX_KS  16

typedef struct est_spec {
    char label[32];
    vae_estimator est;
    vae_baseline bl;
} est_spec;

/* "reparam,score,score:ma,score:vimco,stl,dreg" */
static int parse_estimators(const char *s, est_spec *out, int max) {
    int n = 0;
    const char *p = s;
    while (*p) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof out->label || n >= max) return -1;
        est_spec e;
        memset(&e, 0, sizeof e);
        memcpy(e.label, p, len);
        char name[32];
        snprintf(name, sizeof name, "%s", e.label);
        char *colon = strchr(name, ':');
        int bl = 0;
        if (colon) {
            *colon = '\0';
            bl = vae_baseline_parse(colon + 1);
        }
        int es = vae_estimator_parse(name);
        if (es < 0 || bl < 0) return -1;
        e.est = (vae_estimator)es;
        e.bl = (vae_baseline)bl;
        out[n++] = e;
        p += len;
        if (*p == ',') p++;
        if (*p == '\0' && p[-1] == ',') return -1;
    }
    return n;
}

static void group_json(json *j, const char *key, const vae_study_group *g) {
    json_begin(j, key);
    json_int(j, "numel", g->numel);
    json_num(j, "mean_abs_mean", g->mean_abs_mean);
    json_num(j, "mean_var", g->mean_var);
    json_num(j, "mean_snr", g->mean_snr);
    json_num(j, "group_snr", g->group_snr);
    json_end(j);
}

int cmd_estimators(int argc, char **argv) {
    const char *run_dir = NULL, *ckpt = NULL, *data = NULL, *out = NULL,
               *ests = "reparam,score,score:ma,score:vimco,stl,dreg";
    const char *ks_s = "1,5,10,50", *hidden = "256", *likelihood = "auto", *objective = "iwae";
    int64_t draws = 100, batch = 20, latent = 10, seed = 1, threads = 0;
    int quiet = 0;
    cli_opt tab[] = {
        CLI_OPT_PLUGIN,
        {"run", "DIR", CLI_OPT_STR, &run_dir, 0, 0, NULL, "study a trained run", 0},
        CLI_OPT_CHECKPOINT(&ckpt),
        {"data", "SPEC", CLI_OPT_STR, &data, 0, 0, NULL,
         "or study a freshly initialized model on this data", 0},
        {"estimators", "LIST", CLI_OPT_STR, &ests, 0, 0, NULL,
         "comma list of EST[:BASELINE] (reparam,score,score:ma,score:vimco,stl,dreg)", 0},
        {"objective", "SPEC", CLI_OPT_STR, &objective, 0, 0, NULL,
         "the bound whose gradient is studied, NAME[:key=value,...] (iwae); any registered one", 0},
        {"ks", "LIST", CLI_OPT_STR, &ks_s, 0, 0, NULL,
         "values of the objective's k (or l) option: particles K (1,5,10,50)", 0},
        {"draws", "R", CLI_OPT_INT, &draws, 2, 1000000, NULL,
         "gradient draws per estimator and K (100)", 0},
        {"batch", "B", CLI_OPT_INT, &batch, 1, 100000, NULL, "examples in the fixed batch (20)", 0},
        {"latent", "Z", CLI_OPT_INT, &latent, 1, 4096, NULL, "with --data: latent dimensions (10)",
         0},
        {"hidden", "H1[,H2..]", CLI_OPT_STR, &hidden, 0, 0, NULL, "with --data: hidden sizes (256)",
         0},
        {"likelihood", "NAME", CLI_OPT_STR, &likelihood, 0, 0, NULL,
         "with --data: likelihood, one of those listed below (auto)", 0},
        {"seed", "S", CLI_OPT_INT, &seed, 0, 9.2e18, NULL, "random seed (1)", 0},
        {"out", "DIR", CLI_OPT_STR, &out, 0, 0, NULL,
         "output directory (the run's, or runs/estimators)", 0},
        CLI_OPT_THREADS(&threads),
        CLI_OPT_QUIET(&quiet),
    };
    int ntab = (int)(sizeof tab / sizeof *tab);
    int rc = cli_parse(CMD, argc, argv, tab, ntab, "(--run DIR | --data SPEC) [OPTIONS]",
                       "For one fixed batch, draw R gradient estimates of the bound (--objective, "
                       "IWAE by default)\n"
                       "per estimator and K and\n"
                       "report the encoder and decoder gradient SNR. Writes estimators.json and "
                       "estimators_snr.png.");
    if (rc == CLI_PARSE_HELP) cli_print_likelihoods();
    if (rc == CLI_PARSE_HELP) return CLI_EXIT_OK;
    if (rc) return CLI_EXIT_USAGE;
    est_spec es[MAX_EST];
    int64_t ks[MAX_KS];
    int nes = parse_estimators(ests, es, MAX_EST),
        nks = cli_parse_int_list(ks_s, ks, MAX_KS, 1, 100000);
    if (nes <= 0)
        return cli_usage_error(
            CMD, "--estimators: \"%s\" is not a list of reparam|score|stl|dreg[:none|ma|vimco]",
            ests);
    if (nks <= 0) return cli_usage_error(CMD, "--ks: \"%s\" is not a list of K in 1..100000", ks_s);
    for (int i = 0; i < nes; i++)
        if (es[i].bl != VAE_BASELINE_NONE && es[i].est != VAE_EST_SCORE)
            return cli_usage_error(CMD, "--estimators: a baseline goes with score only (\"%s\")",
                                   es[i].label);
    if ((run_dir || ckpt) && data)
        return cli_usage_error(CMD, "give --run/--checkpoint or --data, not both");
    if (!run_dir && !ckpt && !data)
        return cli_usage_error(CMD, "which model? give --run DIR or --data SPEC");
    cli_set_threads(threads);
    double t0 = clock_now();
    char msg[512], path[RUN_PATH_MAX];
    run r;
    memset(&r, 0, sizeof r);
    run_data d;
    memset(&d, 0, sizeof d);
    if (data) {
        run_config_default(&r.cfg);
        snprintf(r.cfg.data, sizeof r.cfg.data, "%s", data);
        snprintf(r.cfg.likelihood, sizeof r.cfg.likelihood, "%s", likelihood);
        snprintf(r.cfg.binarize, sizeof r.cfg.binarize, "auto");
        r.cfg.seed = seed;
        r.cfg.latent = latent;
        int nh = strcmp(hidden, "0") == 0
                     ? 0
                     : cli_parse_int_list(hidden, r.cfg.hidden, RUN_MAX_HIDDEN, 1, 65536);
        if (nh < 0)
            return cli_usage_error(CMD, "--hidden: \"%s\" is not a list of layer sizes", hidden);
        if (strcmp(likelihood, "auto") != 0 && !vae_likelihood_find(likelihood))
            return cli_usage_error(CMD, "--likelihood: unknown \"%s\"", likelihood);
        r.cfg.nhidden = nh;
        snprintf(r.dir, sizeof r.dir, "runs/estimators");
        int drc = run_data_load(&r.cfg, NULL, 1, &d, msg, sizeof msg);
        if (drc || run_build_net(&r.cfg, &r.net, msg, sizeof msg)) {
            run_data_free(&d);
            run_config_free(&r.cfg);
            return cli_data_error(CMD, drc ? drc : -1, msg);
        }
    } else {
        if ((rc = cli_open_run(CMD, run_dir, ckpt, &r))) return rc;
        int drc = run_data_load(&r.cfg, NULL, 0, &d, msg, sizeof msg);
        if (drc) {
            run_close(&r);
            return cli_data_error(CMD, drc, msg);
        }
    }
    const char *dir = out ? out : r.dir;
    int64_t D = r.cfg.x_dim, B = batch < d.train.n ? batch : d.train.n;
    float *x = malloc(vae_dataset_batch_bytes(B, D));
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)B);
    int nrows = nes * nks;
    vae_study_row *rows = calloc((size_t)nrows, sizeof *rows);
    char *skipped = calloc((size_t)nrows, 1);
    vae_ctx *ctx = vae_ctx_new(0);
    int exit_code = CLI_EXIT_ERROR;
    json j;
    json_init(&j);
    vae_error err = {0};
    if (!x || !idx || !rows || !skipped || !ctx) {
        cli_error(CMD, "out of memory");
        goto done;
    }
    if (make_dirs(dir, msg, sizeof msg)) {
        cli_error(CMD, "%s", msg);
        goto done;
    }
    /* the objective is parsed once the run is open: the run's plugins may register it */
    vae_objective_cfg base;
    vae_objective_cfg_default(&base);
    vae_error perr = {0};
    if (vae_objective_parse_spec(&base, objective, &perr)) {
        exit_code = cli_usage_error(CMD, "--objective: %s", perr.msg);
        goto done;
    }
    /* the option --ks sets: k (particles), else l (samples), else none (one row per estimator) */
    const char *kkey = !isnan(vae_objective_get(&base, "k"))   ? "k"
                       : !isnan(vae_objective_get(&base, "l")) ? "l"
                                                               : NULL;
    if (!kkey) {
        nks = 1;
        ks[0] = 1;
        nrows = nes; /* rows was sized for the larger count */
    }
    for (int64_t i = 0; i < B; i++) idx[i] = i;
    vae_rng brng;
    vae_rng_seed(&brng, (uint64_t)seed ^ 0xba7cULL);
    if (d.dynamic ? vae_dataset_binarize_dynamic(&d.train, x, idx, B, &brng, &err)
                  : vae_dataset_gather(&d.train, idx, B, x, &err)) {
        cli_error(CMD, "%s", err.msg);
        goto done;
    }
    vae_ctx_seed(ctx, (uint64_t)seed);
    progress p;
    progress_init(&p, 0, nrows, 0, quiet);
    for (int e = 0; e < nes; e++)
        for (int k = 0; k < nks; k++) {
            int i = e * nks + k;
            vae_objective_cfg oc = base;
            oc.estimator = es[e].est;
            oc.baseline = es[e].bl;
            if ((kkey && vae_objective_set(&oc, kkey, (double)ks[k], &err)) ||
                vae_objective_check(&oc, &err)) { /* e.g. VIMCO at K = 1, DReG for the ELBO */
                skipped[i] = 1;
                vae_error_clear(&err);
                continue;
            }
            if (vae_study_run(ctx, &r.net, x, B, &oc, draws, &rows[i], NULL, NULL)) {
                cli_error(CMD, "%s (K=%" PRId64 "): %s", es[e].label, ks[k], vae_ctx_message(ctx));
                goto done;
            }
            progress_count(&p, "estimator rows", i + 1, nrows);
        }
    progress_clear(&p);
    /* estimators.json: everything; stdout: the same object */
    json_begin(&j, NULL);
    json_str(&j, "command", "estimators");
    json_str(&j, "model", data ? "initialized" : r.ckpt);
    json_str(&j, "data", r.cfg.data);
    json_str(&j, "objective", objective);
    json_int(&j, "batch", B);
    json_int(&j, "draws", draws);
    json_begin_array(&j, "rows");
    for (int e = 0; e < nes; e++)
        for (int k = 0; k < nks; k++) {
            int i = e * nks + k;
            if (skipped[i]) continue;
            json_begin(&j, NULL);
            json_str(&j, "estimator", es[e].label);
            json_str(&j, "objective", rows[i].objective);
            json_int(&j, "k", ks[k]);
            json_num(&j, "bound", rows[i].bound_mean);
            group_json(&j, "encoder", &rows[i].enc);
            group_json(&j, "decoder", &rows[i].dec);
            json_end(&j);
        }
    json_end_array(&j);
    json_num(&j, "seconds", clock_now() - t0);
    json_end(&j);
    FILE *f = NULL;
    if (path_join(path, sizeof path, dir, "estimators.json", msg, sizeof msg) ||
        !(f = fopen(path, "w"))) {
        cli_error(CMD, "cannot write estimators.json in %s", dir);
        goto done;
    }
    int bad = json_print(&j, f);
    if (fclose(f) != 0 || bad) {
        cli_error(CMD, "cannot write %s", path);
        goto done;
    }
    /* estimators_snr.png: encoder SNR vs K, log-log, one series per estimator */
    {
        double xs[MAX_EST][MAX_KS], ys[MAX_EST][MAX_KS];
        vae_plot_series s[MAX_EST];
        for (int e = 0; e < nes; e++) {
            for (int k = 0; k < nks; k++) {
                int i = e * nks + k;
                xs[e][k] = (double)ks[k];
                ys[e][k] = skipped[i] ? NAN : rows[i].enc.mean_snr;
            }
            s[e] = (vae_plot_series){.name = es[e].label, .x = xs[e], .y = ys[e], .n = nks};
        }
        vae_plot pl = {.title = "encoder gradient SNR",
                       .xlabel = "K (IWAE particles)",
                       .ylabel = "mean SNR |E g| / std g",
                       .series = s,
                       .nseries = nes,
                       .log_x = 1,
                       .log_y = 1,
                       .markers = 1};
        if (path_join(path, sizeof path, dir, "estimators_snr.png", msg, sizeof msg) ||
            vae_plot_write_png(&pl, path, 640, 440, &err)) {
            cli_error(CMD, "%s", err.msg[0] ? err.msg : msg);
            goto done;
        }
    }
    json_print(&j, stdout);
    exit_code = CLI_EXIT_OK;
done:
    json_free(&j);
    free(x), free(idx), free(rows), free(skipped);
    vae_ctx_free(ctx);
    run_data_free(&d);
    run_close(&r);
    return exit_code;
}
