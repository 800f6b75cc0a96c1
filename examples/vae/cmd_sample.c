/* vae sample - decoder means of draws from the prior: samples.png (or samples.csv) and samples.npy.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "options.h"
#include "pictures.h"

#define CMD "sample"

int cmd_sample(int argc, char **argv) {
    const char *run_dir = NULL, *ckpt = NULL, *out = NULL;
    int64_t n = 64, seed = 1, cls = -1;
    int quiet = 0; /* nothing to silence: sample prints no progress; accepted as by every run-reading command */
    cli_opt tab[] = {
        CLI_OPT_PLUGIN,
        CLI_OPT_RUN(&run_dir),
        CLI_OPT_CHECKPOINT(&ckpt),
        {"n", "N", CLI_OPT_INT, &n, 1, 10000, NULL, "number of samples (64)", 0},
        {"seed", "S", CLI_OPT_INT, &seed, 0, 9.2e18, NULL, "random seed (1)", 0},
        {"class", "C", CLI_OPT_INT, &cls, 0, 1e9, NULL,
         "a conditional VAE: draw class C only (default: one class per row of 8, n = 8 per class)", 0},
        {"out", "DIR", CLI_OPT_STR, &out, 0, 0, NULL, "output directory (the run directory)", 0},
        CLI_OPT_QUIET(&quiet),
    };
    int rc = cli_parse(
        CMD, argc, argv, tab, (int)(sizeof tab / sizeof *tab), "--run DIR [OPTIONS]",
        "Draw z ~ N(0, I) and write the decoder means as a PNG grid (CSV for tabular data, in the\n"
        "original units) and as samples.npy. A conditional VAE draws z ~ p(z|y): one class per "
        "row\n"
        "of 8, or --class C.");
    if (rc == CLI_PARSE_HELP) return CLI_EXIT_OK;
    if (rc) return CLI_EXIT_USAGE;
    cli_set_quiet(quiet);
    run r;
    if ((rc = cli_open_run(CMD, run_dir, ckpt, &r))) return rc;
    if (cls >= 0 && (!vae_net_conditional(&r.net) || cls >= r.net.cfg.n_classes)) {
        if (vae_net_conditional(&r.net))
            cli_usage_error(CMD, "--class %lld: the model's classes are 0..%lld", (long long)cls,
                            (long long)r.net.cfg.n_classes - 1);
        else
            cli_usage_error(CMD, "--class applies to a conditional VAE (vae train --model cvae)");
        run_close(&r);
        return CLI_EXIT_USAGE;
    }
    if (vae_net_conditional(&r.net) && cls < 0 && !cli_seen(tab, (int)(sizeof tab / sizeof *tab), "n"))
        n = 8 * (r.net.cfg.n_classes < 16 ? r.net.cfg.n_classes : 16); /* a row of 8 per class */
    char msg[512];
    const char *dir = out ? out : r.dir;
    vae_ctx *ctx = vae_ctx_new(0);
    vae_rng rng;
    vae_rng_seed(&rng, (uint64_t)seed);
    int exit_code = CLI_EXIT_ERROR;
    if (!ctx)
        cli_error(CMD, "out of memory");
    else if (make_dirs(dir, msg, sizeof msg) ||
             pic_samples(ctx, &r.net, &r.cfg, dir, (int)n, &rng, 1, cls, msg, sizeof msg))
        cli_error(CMD, "%s", msg);
    else {
        json j;
        json_init(&j);
        json_begin(&j, NULL);
        json_str(&j, "command", "sample");
        json_str(&j, "checkpoint", r.ckpt);
        json_int(&j, "n", n);
        if (cls >= 0) json_int(&j, "class", cls);
        json_begin_array(&j, "files");
        char path[RUN_PATH_MAX];
        if (!path_join(path, sizeof path, dir, r.cfg.tabular ? "samples.csv" : "samples.png", msg,
                       sizeof msg))
            json_str(&j, NULL, path);
        if (!path_join(path, sizeof path, dir, "samples.npy", msg, sizeof msg))
            json_str(&j, NULL, path);
        json_end_array(&j);
        json_end(&j);
        json_print(&j, stdout);
        json_free(&j);
        exit_code = CLI_EXIT_OK;
    }
    vae_ctx_free(ctx);
    run_close(&r);
    return exit_code;
}
