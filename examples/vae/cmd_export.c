/* vae export - the model's parameters as .npy files (one per tensor), with manifest.json and
 * run.txt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "nn/export.h"
#include "nn/params.h"
#include "options.h"
#include "tensor/npy.h"

#define CMD "export"

int cmd_export(int argc, char **argv) {
    const char *run_dir = NULL, *ckpt = NULL, *to = NULL;
    int quiet = 0; /* nothing to silence: export prints no progress; accepted as by every run-reading command */
    cli_opt tab[] = {
        CLI_OPT_PLUGIN,
        CLI_OPT_RUN(&run_dir),
        CLI_OPT_CHECKPOINT(&ckpt),
        {"to", "DIR", CLI_OPT_STR, &to, 0, 0, NULL, "output directory (required)", 0},
        CLI_OPT_QUIET(&quiet),
    };
    int rc = cli_parse(
        CMD, argc, argv, tab, (int)(sizeof tab / sizeof *tab), "--run DIR --to DIR",
        "Write every parameter as NAME.npy (e.g. enc.0.weight.npy, shape (in, out): y = x W + b),\n"
        "manifest.json (names, shapes, files) and run.txt (the training configuration).");
    if (rc == CLI_PARSE_HELP) return CLI_EXIT_OK;
    if (rc) return CLI_EXIT_USAGE;
    if (!to) return cli_usage_error(CMD, "where to? give --to DIR"), CLI_EXIT_USAGE;
    cli_set_quiet(quiet);
    run r;
    if ((rc = cli_open_run(CMD, run_dir, ckpt, &r))) return rc;
    char msg[512] = "", path[RUN_PATH_MAX];
    int exit_code = CLI_EXIT_ERROR;
    json man, j;
    json_init(&man);
    json_init(&j);
    char *text = NULL;
    size_t len = 0;
    if (make_dirs(to, msg, sizeof msg)) {
        cli_error(CMD, "%s", msg);
        goto done;
    }
    vae_params *p = r.net.params;
    vae_error err = {0};
    if (vae_params_export_npy(p, to, &err)) {
        cli_error(CMD, "%s", err.msg);
        goto done;
    }
    json_begin(&man, NULL);
    json_str(&man, "dtype", vae_params_dtype(p) == VAE_F64 ? "float64" : "float32");
    json_begin_array(&man, "parameters");
    int count = vae_params_count(p);
    for (int i = 0; i < count; i++) {
        vae_tensor *t = vae_params_get(p, i);
        char file[300];
        vae_export_safe_name(t->name, file, sizeof file - 4);
        strcat(file, ".npy");
        json_begin(&man, NULL);
        json_str(&man, "name", t->name);
        json_begin_array(&man, "shape");
        for (int k = 0; k < t->ndim; k++) json_int(&man, NULL, t->shape[k]);
        json_end_array(&man);
        json_str(&man, "file", file);
        json_end(&man);
    }
    json_end_array(&man);
    json_end(&man);
    const char *mt = json_text(&man);
    if (run_config_to_text(&r.cfg, &text, &len) || !mt ||
        path_join(path, sizeof path, to, "manifest.json", msg, sizeof msg) ||
        write_file(path, mt, strlen(mt), msg, sizeof msg) ||
        path_join(path, sizeof path, to, "run.txt", msg, sizeof msg) ||
        write_file(path, text, len, msg, sizeof msg)) {
        cli_error(CMD, "%s", msg[0] ? msg : "out of memory");
        goto done;
    }
    json_begin(&j, NULL);
    json_str(&j, "command", "export");
    json_str(&j, "checkpoint", r.ckpt);
    json_str(&j, "to", to);
    json_int(&j, "tensors", count);
    json_int(&j, "parameters", vae_params_numel(p));
    json_end(&j);
    json_print(&j, stdout);
    exit_code = CLI_EXIT_OK;
done:
    free(text);
    json_free(&man);
    json_free(&j);
    run_close(&r);
    return exit_code;
}
