/* vae estimators - the gradient-estimator variance study (models/study.h): for a fixed model and
 * batch, R gradient draws per estimator and per K, SNR of the encoder and decoder gradients
 * (Rainforth et al. 2018). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "applies.h"
#include "cli.h"
#include "models/discrete.h"
#include "plot.h"
#include "json.h"
#include "models/flow_prior.h"
#include "options.h"
#include "families.h"
#include "study_grid.h"

#define CMD "estimators"
int cmd_estimators(int argc, char **argv) {
    const char *run_dir = NULL, *ckpt = NULL, *data = NULL, *out = NULL,
               *ests = "reparam,score,score:ma,score:vimco,stl,dreg";
    const char *ks_s = "1,5,10,50", *hidden = "256", *likelihood = "auto", *objective = "iwae",
               *max_memory = NULL;
    const char *net = "mlp";
    const char *latent_kind = NULL;
    int64_t draws = 100, ref_draws = 500, batch = 20, latent = 10, seed = 1, threads = 0;
    int quiet = 0;
    cli_opt tab[] = {
        CLI_OPT_PLUGIN,
        {"run", "DIR", CLI_OPT_STR, &run_dir, 0, 0, NULL, "study a trained run", 0},
        CLI_OPT_CHECKPOINT(&ckpt),
        {"data", "SPEC", CLI_OPT_STR, &data, 0, 0, NULL,
         "or study a freshly initialized model on this data", 0},
        {"estimators", "LIST", CLI_OPT_STR, &ests, 0, 0, NULL,
         "comma list of EST[:BASELINE] (reparam,score,score:ma,score:vimco,stl,dreg; also score:nvil, "
         "and gumbel:T / gumbel-st:T at temperature T for discrete latents)",
         0},
        {"objective", "SPEC", CLI_OPT_STR, &objective, 0, 0, NULL,
         "the bound whose gradient is studied, NAME[:key=value,...] (iwae); any registered one", 0},
        {"ks", "LIST", CLI_OPT_STR, &ks_s, 0, 0, NULL,
         "values of the objective's k (or l) option: particles K (1,5,10,50)", 0},
        {"draws", "R", CLI_OPT_INT, &draws, 2, 1000000, NULL,
         "gradient draws per estimator and K (100)", 0},
        {"ref-draws", "R", CLI_OPT_INT, &ref_draws, 0, 10000000, NULL,
         "draws of the reference gradient (reparameterized, same bound) per K for the bias; 0 = "
         "none (500)",
         0},
        {"batch", "B", CLI_OPT_INT, &batch, 1, 100000, NULL, "examples in the fixed batch (20)", 0},
        {"latent", "Z", CLI_OPT_INT, &latent, 1, 4096, NULL, "with --data: latent dimensions (10)",
         0},
        {"hidden", "H1[,H2..]", CLI_OPT_STR, &hidden, 0, 0, NULL, "with --data: hidden sizes (256)",
         0},
        {"net", "KIND", CLI_OPT_CHOICE, &net, 0, 0, "mlp|conv",
         "with --data: encoder/decoder mlp or conv (images only) (mlp)", 0},
        {"latent-kind", "KIND", CLI_OPT_STR, &latent_kind, 0, 0, NULL,
         "with --data: gaussian | categorical:NxC | bernoulli:N (gaussian; discrete latents get NVIL's b(x) "
         "with 100 units and, for the vae objective, the exact gradient as the reference)",
         0},
        {"likelihood", "NAME", CLI_OPT_STR, &likelihood, 0, 0, NULL,
         "with --data: likelihood, one of those listed below (auto)", 0},
        {"seed", "S", CLI_OPT_INT, &seed, 0, 9.2e18, NULL, "random seed (1)", 0},
        {"out", "DIR", CLI_OPT_STR, &out, 0, 0, NULL,
         "output directory (the run's, or runs/estimators)", 0},
        CLI_OPT_THREADS(&threads),
        CLI_OPT_QUIET(&quiet),
        CLI_OPT_MAX_MEMORY(&max_memory),
    };
    int ntab = (int)(sizeof tab / sizeof *tab);
    int rc =
        cli_parse(CMD, argc, argv, tab, ntab, "(--run DIR | --data SPEC) [OPTIONS]",
                  "For one fixed batch, draw R gradient estimates of the bound (--objective, "
                  "IWAE by default)\n"
                  "per estimator and K and report, per parameter group, unbiased ||E g||^2, tr "
                  "Cov g and SNR\n"
                  "with standard errors, and the bias against a reparameterized reference (for "
                  "discrete latents\nand the vae objective: the exact gradient by summation). "
                  "Writes estimators.json,\n"
                  "estimators_snr.png, estimators_variance.png and estimators_bias.png.");
    if (rc == CLI_PARSE_HELP) cli_print_likelihoods();
    if (rc == CLI_PARSE_HELP) return CLI_EXIT_OK;
    if (rc) return CLI_EXIT_USAGE;
    if (cli_set_max_memory(CMD, max_memory)) return CLI_EXIT_USAGE;
    cli_set_quiet(quiet);
    est_spec es[STUDY_MAX_EST];
    int64_t ks[STUDY_MAX_KS];
    char why[160];
    int nes = study_parse_estimators(ests, es, STUDY_MAX_EST, why, sizeof why),
        nks = cli_parse_int_list(ks_s, ks, STUDY_MAX_KS, 1, 100000);
    if (nes <= 0) return cli_usage_error(CMD, "--estimators: %s", why);
    if (nks <= 0) return cli_usage_error(CMD, "--ks: \"%s\" is not a list of K in 1..100000", ks_s);
    if (ref_draws == 1) return cli_usage_error(CMD, "--ref-draws: 0 (none) or at least 2");
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
        snprintf(r.cfg.net, sizeof r.cfg.net, "%s", net);
        if (latent_kind) {
            vae_net_cfg nc;
            vae_net_cfg_default(&nc);
            vae_error kerr = {0};
            if (strlen(latent_kind) >= sizeof r.cfg.latent_kind ||
                vae_latent_kind_parse(&nc, latent_kind, &kerr))
                return cli_usage_error(CMD, "--latent-kind: %s", kerr.msg[0] ? kerr.msg : "too long");
            snprintf(r.cfg.latent_kind, sizeof r.cfg.latent_kind, "%s", latent_kind);
            if (nc.latent_kind != VAE_LATENT_GAUSSIAN) r.cfg.latent = nc.z_dim, r.cfg.baseline_hidden = 100;
        }
        snprintf(r.dir, sizeof r.dir, "runs/estimators");
        int drc = run_data_load(&r.cfg, NULL, 1, &d, msg, sizeof msg);
        /* the options table (applies.c) on the fresh model: its likelihood on this data */
        cli_facts f = {0};
        cli_facts_set(&f, "likelihood", r.cfg.likelihood);
        cli_facts_set(&f, "values", d.values);
        if (!drc && cli_applies_check(CMD, tab, ntab, &f)) {
            run_data_free(&d);
            run_config_free(&r.cfg);
            return CLI_EXIT_USAGE;
        }
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
    {
        /* the study's accumulators (2 * VAE_STUDY_BATCHES + 1 doubles per parameter, models/study.h), the
         * reference's mean and variance (2 more), and the largest K's batch through the net (about 4 copies of
         * the decoder output) */
        double P = (double)vae_params_flat_len(r.net.params), kmax = 1,
               es = r.net.cfg.dtype == VAE_F64 ? 8 : 4;
        for (int i = 0; i < nks; i++) kmax = (double)ks[i] > kmax ? (double)ks[i] : kmax;
        double work = P * (2 * VAE_STUDY_BATCHES + 3) * sizeof(double) +
                      4.0 * kmax * (double)B * (double)D * r.net.lik->params_per_dim * es;
        if (cli_check_memory(CMD, "the study", cli_data_bytes(&d), cli_net_bytes(&r.net, 0), work)) {
            run_data_free(&d);
            run_close(&r);
            return CLI_EXIT_ERROR;
        }
    }
    float *x = malloc(vae_dataset_batch_bytes(B, D));
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)B);
    study_grid g;
    int gfail = study_grid_init(&g, es, nes, ks, nks, draws, ref_draws);
    vae_ctx *ctx = vae_ctx_new(0);
    int exit_code = CLI_EXIT_ERROR;
    json j;
    json_init(&j);
    vae_error err = {0};
    if (!x || !idx || gfail || !ctx) {
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
    for (int i = 0; i < nes; i++) /* a flow posterior serves the reparameterized estimator only */
        if (vae_net_family_check(&r.net.cfg, es[i].est, &perr)) {
            exit_code = cli_usage_error(CMD, "--estimators %s: %s", es[i].label, perr.msg);
            goto done;
        }
    for (int64_t i = 0; i < B; i++) idx[i] = i;
    vae_rng brng;
    vae_rng_seed(&brng, (uint64_t)seed ^ 0xba7cULL);
    if (d.dynamic ? vae_dataset_binarize_dynamic(&d.train, x, idx, B, &brng, &err)
                  : vae_dataset_gather(&d.train, idx, B, x, &err)) {
        cli_error(CMD, "%s", err.msg);
        goto done;
    }
    if (family_prepare(&r.net, &d.train, B, d.train.n, msg, sizeof msg)) {
        cli_error(CMD, "%s", msg);
        goto done;
    }
    vae_ctx_seed(ctx, (uint64_t)seed);
    progress p;
    progress_init(&p, 0, 1, 0, quiet);
    if (study_grid_run(&g, ctx, &r.net, x, B, &base, &p, msg, sizeof msg)) {
        progress_clear(&p);
        cli_error(CMD, "%s", msg);
        goto done;
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
    json_int(&j, "ref_draws", ref_draws);
    json_int(&j, "jackknife_batches", VAE_STUDY_BATCHES);
    study_grid_json(&g, &j, 1);
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
    if (study_grid_pictures(&g, dir, msg, sizeof msg)) {
        cli_error(CMD, "%s", msg);
        goto done;
    }
    json_print(&j, stdout);
    exit_code = CLI_EXIT_OK;
done:
    json_free(&j);
    free(x), free(idx);
    study_grid_free(&g);
    vae_ctx_free(ctx);
    run_data_free(&d);
    run_close(&r);
    return exit_code;
}
