/* vae encode - latent means and log-variances of a data set: latents_mu.npy, latents_logvar.npy (+
 * labels.npy, factors.npy when the data has them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "families.h"
#include "json.h"
#include "models/eval.h"
#include "options.h"
#include "tensor/npy.h"

#define CMD "encode"

int cmd_encode(int argc, char **argv) {
    const char *run_dir = NULL, *ckpt = NULL, *out = NULL, *data = NULL, *split = NULL,
               *max_memory = NULL;
    int64_t nmax = 0;
    int quiet = 0;
    cli_opt tab[] = {
        CLI_OPT_PLUGIN,
        CLI_OPT_RUN(&run_dir),
        CLI_OPT_CHECKPOINT(&ckpt),
        {"data", "SPEC", CLI_OPT_STR, &data, 0, 0, NULL,
         "encode other data (same feature count; default: the run's)", 0},
        CLI_OPT_SPLIT(&split),
        {"n", "N", CLI_OPT_INT, &nmax, 0, 1e12, NULL, "only the first N examples (all)", 0},
        {"out", "DIR", CLI_OPT_STR, &out, 0, 0, NULL, "output directory (the run directory)", 0},
        CLI_OPT_QUIET(&quiet),
        CLI_OPT_MAX_MEMORY(&max_memory),
    };
    int rc = cli_parse(
        CMD, argc, argv, tab, (int)(sizeof tab / sizeof *tab), "--run DIR [OPTIONS]",
        "Write the encoder's q(z|x) means and log-variances as .npy (float32, (n, Z)), with "
        "labels.npy\n"
        "and factors.npy (int64) when the data has them. In NumPy: np.load('latents_mu.npy').");
    if (rc == CLI_PARSE_HELP) return CLI_EXIT_OK;
    if (rc) return CLI_EXIT_USAGE;
    if (cli_set_max_memory(CMD, max_memory)) return CLI_EXIT_USAGE;
    cli_set_quiet(quiet);
    run r;
    run_data d;
    const vae_dataset *ds;
    if ((rc = cli_open_run_data(CMD, run_dir, ckpt, data, NULL, split, &r, &d, &ds))) return rc;
    char msg[512], path[RUN_PATH_MAX];
    const char *dir = out ? out : r.dir;
    int64_t Z = vae_net_latent_dim(&r.net), n = ds->n;
    if (nmax > 0 && nmax < n) n = nmax;
    /* the two (n, Z) outputs and a batch of 500 through the encoder (about 4 copies of its input) */
    if (cli_check_memory(CMD, "encoding", cli_data_bytes(&d), cli_net_bytes(&r.net, 0),
                         2.0 * (double)n * (double)Z * sizeof(float) +
                             4.0 * 500 * (double)r.cfg.x_dim * sizeof(double))) {
        run_data_free(&d);
        run_close(&r);
        return CLI_EXIT_ERROR;
    }
    float *mu = malloc(sizeof(float) * (size_t)(n * Z)),
          *lv = malloc(sizeof(float) * (size_t)(n * Z));
    vae_ctx *ctx = vae_ctx_new(0);
    vae_error err = {0};
    int exit_code = CLI_EXIT_ERROR;
    json j;
    json_init(&j);
    if (!mu || !lv || !ctx) {
        cli_error(CMD, "out of memory");
        goto done;
    }
    if (make_dirs(dir, msg, sizeof msg)) {
        cli_error(CMD, "%s", msg);
        goto done;
    }
    if (family_prepare(&r.net, ds, n, 0, msg, sizeof msg)) { /* a conditional VAE: q(z|x,y) */
        cli_error(CMD, "%s", msg);
        goto done;
    }
    if (vae_encode_all(ctx, &r.net, ds->x, n, 500, mu, lv)) {
        cli_error(CMD, "%s", vae_ctx_message(ctx));
        goto done;
    }
    json_begin(&j, NULL);
    json_str(&j, "command", "encode");
    json_str(&j, "checkpoint", r.ckpt);
    json_str(&j, "split", ds == &d.test ? "test" : ds == &d.valid ? "valid" : "train");
    json_int(&j, "n", n);
    json_int(&j, "latent", Z);
    json_begin_array(&j, "files");
    struct {
        const char *name;
        vae_npy_dtype dt;
        int64_t cols;
        const void *data;
    } files[] = {{"latents_mu.npy", VAE_NPY_F4, Z, mu},
                 {"latents_logvar.npy", VAE_NPY_F4, Z, lv},
                 {"labels.npy", VAE_NPY_I8, 0, ds->labels},
                 {"factors.npy", VAE_NPY_I8, ds->nfactors, ds->factors}};
    for (int f = 0; f < 4; f++) {
        if (!files[f].data) continue;
        int64_t shape[2] = {n, files[f].cols};
        if (path_join(path, sizeof path, dir, files[f].name, msg, sizeof msg) ||
            vae_npy_write(path, files[f].dt, files[f].cols ? 2 : 1, shape, files[f].data, &err)) {
            cli_error(CMD, "%s", err.msg[0] ? err.msg : msg);
            goto done;
        }
        json_str(&j, NULL, path);
    }
    json_end_array(&j);
    json_end(&j);
    json_print(&j, stdout);
    exit_code = CLI_EXIT_OK;
done:
    json_free(&j);
    free(mu), free(lv);
    vae_ctx_free(ctx);
    run_data_free(&d);
    run_close(&r);
    return exit_code;
}
