/* vae compare - runs side by side: their learning curves (log.jsonl) overlaid against epochs, steps
 * and wall time, labelled by the options in which the runs differ (read from each checkpoint's run
 * configuration); writes compare.png (one panel per curve) and compare.csv (every curve). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "options.h"
#include "plot.h"
#include "tensor/io/png.h"

#define CMD      "compare"
#define MAX_RUNS 10
#define MAX_KEYS 96
#define PANEL_W  560
#define PANEL_H  380

/* a growable column of doubles */
typedef struct col {
    double *v;
    int n, cap;
} col;

static int col_push(col *c, double x) {
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 64;
        double *v = realloc(c->v, sizeof(double) * (size_t)cap);
        if (!v) return -1;
        c->v = v, c->cap = cap;
    }
    c->v[c->n++] = x;
    return 0;
}

/* per-epoch columns, then per-step columns (--log-steps records) */
enum { E_EPOCH, E_STEP, E_SECS, E_TRAIN, E_VALID, E_LL, E_KL, E_AU, E_N };
enum { S_STEP, S_SECS, S_BOUND, S_KL, S_GNORM, S_N };

typedef struct crun {
    const char *dir;
    char legend[256];
    char keys[MAX_KEYS][32], vals[MAX_KEYS][96];
    int nkeys;
    col e[E_N], s[S_N];
} crun;

/* keys of the run configuration that are state or derived from the data, not options */
static int volatile_key(const char *k) {
    static const char *const skip[] = {"vae-run",
                                       "epochs_done",
                                       "batch_in_epoch",
                                       "step",
                                       "rng_ctx",
                                       "rng_data",
                                       "obj_step",
                                       "obj_baseline",
                                       "obj_baseline_ready",
                                       "elapsed",
                                       "x_dim",
                                       "h",
                                       "w",
                                       "c",
                                       "tabular",
                                       "scaled",
                                       "scale_lo",
                                       "scale_hi",
                                       "model",
                                       "col_mean",
                                       "col_std",
                                       "plugins",
                                       NULL};
    for (int i = 0; skip[i]; i++)
        if (strcmp(k, skip[i]) == 0) return 1;
    return strncmp(k, "part_", 5) == 0;
}

static int read_config(crun *r, char *msg, size_t n) {
    run rr;
    if (run_open(r->dir, NULL, &rr, msg, n)) return -1;
    char *text = NULL;
    size_t len = 0;
    int rc = run_config_to_text(&rr.cfg, &text, &len);
    run_close(&rr);
    if (rc) {
        snprintf(msg, n, "out of memory");
        return -1;
    }
    for (char *line = strtok(text, "\n"); line && r->nkeys < MAX_KEYS; line = strtok(NULL, "\n")) {
        char *sp = strchr(line, ' ');
        if (!sp) continue;
        *sp = '\0';
        if (volatile_key(line)) continue;
        snprintf(r->keys[r->nkeys], sizeof r->keys[0], "%s", line);
        snprintf(r->vals[r->nkeys], sizeof r->vals[0], "%s", sp + 1);
        r->nkeys++;
    }
    free(text);
    return 0;
}

static double num(const char *line, const char *key) {
    double v;
    return json_get_num(line, key, &v) ? v : NAN;
}

static int read_log(crun *r, char *msg, size_t n) {
    char path[RUN_PATH_MAX];
    if (path_join(path, sizeof path, r->dir, "log.jsonl", msg, n)) return -1;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(msg, n, "cannot read %.400s", path);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    double secs = 0;
    int bad = 0;
    while (!bad && getline(&line, &cap, f) > 0) {
        if (strstr(line, "\"kind\":\"step\"")) {
            double v[S_N] = {num(line, "step"), num(line, "seconds"), num(line, "bound"),
                             num(line, "kl"), num(line, "grad_norm")};
            for (int i = 0; i < S_N; i++) bad |= col_push(&r->s[i], v[i]);
            continue;
        }
        double ep = num(line, "epoch"), kl = num(line, "valid_kl");
        if (isnan(ep)) continue;
        if (isnan(kl)) kl = num(line, "train_kl");
        double tb = num(line, "train_bound");
        if (isnan(tb)) tb = num(line, "train_elbo"); /* logs from before train_bound */
        secs += isnan(num(line, "seconds")) ? 0 : num(line, "seconds");
        double v[E_N] = {ep, num(line, "step"),        secs,
                         tb, num(line, "valid_elbo"),  num(line, "valid_loglik"),
                         kl, num(line, "active_units")};
        for (int i = 0; i < E_N; i++) bad |= col_push(&r->e[i], v[i]);
    }
    free(line);
    fclose(f);
    if (bad) snprintf(msg, n, "out of memory");
    return bad ? -1 : 0;
}

/* legend: the options whose values differ between the runs ("estimator=score baseline=vimco") */
static void legends(crun *r, int nr) {
    for (int i = 0; i < nr; i++) {
        size_t len = 0;
        r[i].legend[0] = '\0';
        for (int k = 0; k < r[i].nkeys; k++) {
            int differs = 0;
            for (int j = 0; j < nr; j++) {
                int found = 0;
                for (int q = 0; q < r[j].nkeys; q++)
                    if (strcmp(r[j].keys[q], r[i].keys[k]) == 0)
                        found = 1, differs |= strcmp(r[j].vals[q], r[i].vals[k]) != 0;
                differs |= !found;
            }
            /* short names for the keys that differ most often, so the legend fits */
            const char *key = r[i].keys[k];
            key = !strcmp(key, "estimator")   ? "est"
                  : !strcmp(key, "baseline")  ? "bl"
                  : !strcmp(key, "objective") ? "obj"
                                              : key;
            if (differs && len + 2 < sizeof r[i].legend)
                len += (size_t)snprintf(r[i].legend + len, sizeof r[i].legend - len, "%s%s=%s",
                                        len ? " " : "", key, r[i].vals[k]);
            if (len >= sizeof r[i].legend) len = sizeof r[i].legend - 1;
        }
        if (!r[i].legend[0]) { /* identical options: the directory's name */
            const char *b = strrchr(r[i].dir, '/');
            snprintf(r[i].legend, sizeof r[i].legend, "%s", b && b[1] ? b + 1 : r[i].dir);
        }
    }
}

typedef struct panel {
    const char *title, *xlabel;
    int step_level; /* the x and y columns index s[] instead of e[] */
    int x, y;
} panel;

static int any_finite(const crun *r, int nr, const panel *p) {
    for (int i = 0; i < nr; i++) {
        const col *c = p->step_level ? &r[i].s[p->y] : &r[i].e[p->y];
        for (int k = 0; k < c->n; k++)
            if (isfinite(c->v[k])) return 1;
    }
    return 0;
}

static int write_png(const crun *r, int nr, const char *path, int *npanels, char *msg, size_t n) {
    static const panel all[] = {
        {"train bound", "epoch", 0, E_EPOCH, E_TRAIN},
        {"valid ELBO", "epoch", 0, E_EPOCH, E_VALID},
        {"valid IS log-likelihood", "epoch", 0, E_EPOCH, E_LL},
        {"KL (valid, else train)", "epoch", 0, E_EPOCH, E_KL},
        {"active units", "epoch", 0, E_EPOCH, E_AU},
        {"train bound", "wall seconds", 0, E_SECS, E_TRAIN},
        {"valid ELBO", "wall seconds", 0, E_SECS, E_VALID},
        {"bound per step (--log-steps)", "step", 1, S_STEP, S_BOUND},
        {"gradient norm per step", "step", 1, S_STEP, S_GNORM},
    };
    const panel *use[sizeof all / sizeof *all];
    int np = 0;
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (any_finite(r, nr, &all[i])) use[np++] = &all[i];
    if (np == 0) {
        snprintf(msg, n, "no curves in the runs' log.jsonl");
        return -1;
    }
    int cols = np < 3 ? np : 3, rows = (np + cols - 1) / cols, W = cols * PANEL_W,
        H = rows * PANEL_H;
    uint8_t *img = malloc((size_t)W * H * 3), *pan = malloc((size_t)PANEL_W * PANEL_H * 3);
    if (!img || !pan) {
        free(img), free(pan);
        snprintf(msg, n, "out of memory");
        return -1;
    }
    memset(img, 255, (size_t)W * H * 3);
    vae_error err = {0};
    int rc = 0;
    for (int p = 0; p < np && rc == 0; p++) {
        vae_plot_series s[MAX_RUNS];
        for (int i = 0; i < nr; i++) {
            const col *cx = use[p]->step_level ? &r[i].s[use[p]->x] : &r[i].e[use[p]->x];
            const col *cy = use[p]->step_level ? &r[i].s[use[p]->y] : &r[i].e[use[p]->y];
            s[i] = (vae_plot_series){.name = r[i].legend, .x = cx->v, .y = cy->v, .n = cy->n};
        }
        vae_plot pl = {
            .title = use[p]->title, .xlabel = use[p]->xlabel, .series = s, .nseries = nr};
        if (vae_plot_render(&pl, PANEL_W, PANEL_H, pan, &err)) {
            rc = -1;
            break;
        }
        int ox = (p % cols) * PANEL_W, oy = (p / cols) * PANEL_H;
        for (int y = 0; y < PANEL_H; y++)
            memcpy(img + ((size_t)(oy + y) * W + ox) * 3, pan + (size_t)y * PANEL_W * 3,
                   (size_t)PANEL_W * 3);
    }
    if (rc == 0 && vae_png_write(path, img, W, H, 3, &err)) rc = -1;
    if (rc) snprintf(msg, n, "%s", err.msg);
    free(img), free(pan);
    *npanels = np;
    return rc;
}

static void csv_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_num(FILE *f, double v) {
    if (isfinite(v))
        fprintf(f, ",%.9g", v);
    else
        fputs(",", f);
}

static int write_csv(const crun *r, int nr, const char *path, char *msg, size_t n) {
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(msg, n, "cannot write %.400s", path);
        return -1;
    }
    fputs("kind,run,legend,epoch,step,seconds,train_bound,valid_elbo,valid_loglik,kl,active_units,"
          "grad_norm\n",
          f);
    for (int i = 0; i < nr; i++) {
        const crun *c = &r[i];
        for (int k = 0; k < c->e[E_EPOCH].n; k++) {
            fputs("epoch,", f);
            csv_str(f, c->dir);
            fputc(',', f);
            csv_str(f, c->legend);
            for (int q = 0; q < E_N; q++) csv_num(f, c->e[q].v[k]);
            fputs(",\n", f);
        }
        for (int k = 0; k < c->s[S_STEP].n; k++) {
            fputs("step,", f);
            csv_str(f, c->dir);
            fputc(',', f);
            csv_str(f, c->legend);
            double v[E_N] = {NAN,
                             c->s[S_STEP].v[k],
                             c->s[S_SECS].v[k],
                             c->s[S_BOUND].v[k],
                             NAN,
                             NAN,
                             c->s[S_KL].v[k],
                             NAN};
            for (int q = 0; q < E_N; q++) csv_num(f, v[q]);
            csv_num(f, c->s[S_GNORM].v[k]);
            fputc('\n', f);
        }
    }
    if (fclose(f) != 0) {
        snprintf(msg, n, "cannot write %.400s", path);
        return -1;
    }
    return 0;
}

int cmd_compare(int argc, char **argv) {
    const char *out = ".";
    int quiet = 0;
    cli_opt tab[] = {
        {"out", "DIR", CLI_OPT_STR, &out, 0, 0, NULL,
         "where compare.png and compare.csv go (the current directory)", 0},
        CLI_OPT_QUIET(&quiet),
    };
    /* the runs come first, then the options */
    int nr = 0;
    const char *dirs[MAX_RUNS + 1];
    while (1 + nr < argc && strncmp(argv[1 + nr], "-", 1) != 0) {
        if (nr == MAX_RUNS) return cli_usage_error(CMD, "at most %d runs", MAX_RUNS);
        dirs[nr] = argv[1 + nr];
        nr++;
    }
    argv[nr] = argv[0];
    int rc = cli_parse(CMD, argc - nr, argv + nr, tab, (int)(sizeof tab / sizeof *tab),
                       "RUN1 RUN2 ... [OPTIONS]",
                       "Overlay the learning curves of runs (log.jsonl) against epochs, steps and "
                       "wall time, labelled\n"
                       "by the options in which the runs differ. Writes compare.png and "
                       "compare.csv.");
    if (rc == CLI_PARSE_HELP) return CLI_EXIT_OK;
    if (rc) return CLI_EXIT_USAGE;
    if (nr < 1) return cli_usage_error(CMD, "which runs? give one or more run directories");
    (void)quiet;
    crun *r = calloc((size_t)nr, sizeof *r);
    char msg[512], png[RUN_PATH_MAX], csv[RUN_PATH_MAX];
    int exit_code = CLI_EXIT_ERROR, np = 0;
    if (!r) return cli_error(CMD, "out of memory");
    for (int i = 0; i < nr; i++) {
        r[i].dir = dirs[i];
        if (read_config(&r[i], msg, sizeof msg) || read_log(&r[i], msg, sizeof msg)) {
            cli_error(CMD, "%s: %s", dirs[i], msg);
            goto done;
        }
    }
    legends(r, nr);
    if (make_dirs(out, msg, sizeof msg) ||
        path_join(png, sizeof png, out, "compare.png", msg, sizeof msg) ||
        path_join(csv, sizeof csv, out, "compare.csv", msg, sizeof msg) ||
        write_png(r, nr, png, &np, msg, sizeof msg) || write_csv(r, nr, csv, msg, sizeof msg)) {
        cli_error(CMD, "%s", msg);
        goto done;
    }
    json j;
    json_init(&j);
    json_begin(&j, NULL);
    json_str(&j, "command", "compare");
    json_begin_array(&j, "runs");
    for (int i = 0; i < nr; i++) {
        json_begin(&j, NULL);
        json_str(&j, "run", r[i].dir);
        json_str(&j, "legend", r[i].legend);
        int last = r[i].e[E_EPOCH].n - 1;
        json_int(&j, "epochs", last + 1);
        json_int(&j, "step_records", r[i].s[S_STEP].n);
        json_num(&j, "train_bound", last >= 0 ? r[i].e[E_TRAIN].v[last] : NAN);
        json_num(&j, "valid_elbo", last >= 0 ? r[i].e[E_VALID].v[last] : NAN);
        json_num(&j, "seconds", last >= 0 ? r[i].e[E_SECS].v[last] : NAN);
        json_end(&j);
    }
    json_end_array(&j);
    json_int(&j, "panels", np);
    json_str(&j, "png", png);
    json_str(&j, "csv", csv);
    json_end(&j);
    json_print(&j, stdout);
    json_free(&j);
    exit_code = CLI_EXIT_OK;
done:
    for (int i = 0; i < nr; i++) {
        for (int q = 0; q < E_N; q++) free(r[i].e[q].v);
        for (int q = 0; q < S_N; q++) free(r[i].s[q].v);
    }
    free(r);
    return exit_code;
}
