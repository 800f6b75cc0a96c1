/* vae train's extra records: the study at checkpoints and per-step log lines (train_extras.h). */
#include "train_extras.h"

#include "families.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "options.h"
#include "study_grid.h"

static int append_line(const char *path, const json *j, char *msg, size_t n) {
    const char *t = json_text(j);
    FILE *f = t ? fopen(path, "ab") : NULL;
    if (!f) {
        snprintf(msg, n, "cannot append to %s: %s", path, t ? strerror(errno) : "out of memory");
        return -1;
    }
    int bad = fprintf(f, "%s\n", t) < 0;
    bad |= fflush(f) != 0;
    bad |= fclose(f) != 0;
    if (bad) snprintf(msg, n, "cannot append to %s: %s", path, strerror(errno));
    return bad ? -1 : 0;
}

int train_study_check(const train_study_opts *o, char *msg, size_t n) {
    if (o->every <= 0) return 0;
    est_spec es[STUDY_MAX_EST];
    int64_t ks[STUDY_MAX_KS];
    char why[160];
    if (study_parse_estimators(o->estimators, es, STUDY_MAX_EST, why, sizeof why) <= 0) {
        snprintf(msg, n, "--study-estimators: %s", why);
        return -1;
    }
    if (cli_parse_int_list(o->ks, ks, STUDY_MAX_KS, 1, 100000) <= 0) {
        snprintf(msg, n, "--study-ks: \"%s\" is not a list of K in 1..100000", o->ks);
        return -1;
    }
    vae_objective_cfg oc;
    vae_objective_cfg_default(&oc);
    vae_error err = {0};
    if (vae_objective_parse_spec(&oc, o->objective, &err)) {
        snprintf(msg, n, "--study-objective: %s", err.msg);
        return -1;
    }
    return 0;
}

int train_study_record(const train_study_opts *o, const char *dir, int64_t epoch, int64_t step,
                       uint64_t seed, vae_ctx *ctx, vae_net *net, const run_data *d, char *msg,
                       size_t n) {
    est_spec es[STUDY_MAX_EST];
    int64_t ks[STUDY_MAX_KS];
    char why[160];
    int nes = study_parse_estimators(o->estimators, es, STUDY_MAX_EST, why, sizeof why),
        nks = cli_parse_int_list(o->ks, ks, STUDY_MAX_KS, 1, 100000);
    vae_objective_cfg base;
    vae_objective_cfg_default(&base);
    vae_error err = {0};
    if (nes <= 0 || nks <= 0 || vae_objective_parse_spec(&base, o->objective, &err)) {
        snprintf(msg, n, "study: bad options");
        return -1;
    }
    int64_t B = o->batch < d->train.n ? o->batch : d->train.n, D = d->train.d;
    float *x = malloc(vae_dataset_batch_bytes(B, D));
    int64_t *idx = malloc(sizeof(int64_t) * (size_t)B);
    study_grid g;
    int rc = -1;
    if (!x || !idx || study_grid_init(&g, es, nes, ks, nks, o->draws, 0)) {
        free(x), free(idx);
        snprintf(msg, n, "study: out of memory");
        return -1;
    }
    for (int64_t i = 0; i < B; i++) idx[i] = i;
    vae_rng brng;
    vae_rng_seed(&brng, seed ^ 0xba7cULL); /* the same batch at every epoch */
    if (d->dynamic ? vae_dataset_binarize_dynamic(&d->train, x, idx, B, &brng, &err)
                   : vae_dataset_gather(&d->train, idx, B, x, &err)) {
        snprintf(msg, n, "study: %s", err.msg);
        goto done;
    }
    if (family_prepare(net, &d->train, B, 0, msg, n))
        goto done; /* a conditional net: the batch's labels */
    vae_ctx_seed(ctx, seed * 1000003ULL + (uint64_t)epoch);
    if (study_grid_run(&g, ctx, net, x, B, &base, NULL, msg, n)) goto done;
    json j;
    json_init(&j);
    json_begin(&j, NULL);
    json_int(&j, "epoch", epoch);
    json_int(&j, "step", step);
    json_str(&j, "objective", o->objective);
    json_int(&j, "batch", B);
    json_int(&j, "draws", o->draws);
    study_grid_json(&g, &j, 0);
    json_end(&j);
    char path[RUN_PATH_MAX];
    rc = path_join(path, sizeof path, dir, "study.jsonl", msg, n) ? -1
                                                                  : append_line(path, &j, msg, n);
    json_free(&j);
done:
    study_grid_free(&g);
    free(x), free(idx);
    return rc;
}

int train_log_step(const char *path, const train_step_record *r, char *msg, size_t n) {
    json j;
    json_init(&j);
    json_begin(&j, NULL);
    json_str(&j, "kind", "step");
    json_int(&j, "step", r->step);
    json_int(&j, "epoch", r->epoch);
    json_num(&j, "loss", r->loss);
    json_num(&j, "bound", r->bound);
    json_num(&j, "kl", r->kl);
    json_num(&j, "kl_weight", r->kl_weight);
    json_num(&j, "grad_norm", r->grad_norm);
    json_num(&j, "lr", r->lr);
    json_num(&j, "seconds", r->seconds);
    json_end(&j);
    int rc = append_line(path, &j, msg, n);
    json_free(&j);
    return rc;
}
