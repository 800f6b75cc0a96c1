#include "train_log.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "run.h"

#define LOG_MAX_LINE (1 << 22)

void train_log_free(train_log *l) {
    free(l->train_bound);
    free(l->valid_bound);
    free(l->valid_elbo);
    free(l->valid_bound_se);
    free(l->valid_elbo_se);
    memset(l, 0, sizeof *l);
}

static int push(train_log *l, double tr, double vb, double va, double vbse, double vase) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        double **arr[5] = {&l->train_bound, &l->valid_bound, &l->valid_elbo, &l->valid_bound_se,
                           &l->valid_elbo_se};
        for (int i = 0; i < 5; i++) {
            double *a = realloc(*arr[i], sizeof(double) * (size_t)cap);
            if (!a) return -1;
            *arr[i] = a;
        }
        l->cap = cap;
    }
    l->train_bound[l->n] = tr;
    l->valid_bound[l->n] = vb;
    l->valid_elbo[l->n] = va;
    l->valid_bound_se[l->n] = vbse;
    l->valid_elbo_se[l->n] = vase;
    l->n++;
    return 0;
}

int train_log_reset(train_log *l, const char *path, char *msg, size_t n) {
    train_log_free(l);
    return write_file(path, "", 0, msg, n);
}

int train_log_trim(train_log *l, const char *path, int64_t epochs_done, int64_t steps_done,
                   char *msg, size_t n) {
    train_log_free(l);
    FILE *f = fopen(path, "rb");
    if (!f) return write_file(path, "", 0, msg, n);
    char *line = malloc(LOG_MAX_LINE);
    size_t cap = 1 << 16, len = 0;
    char *keep = malloc(cap);
    int rc = 0;
    if (!line || !keep) {
        snprintf(msg, n, "out of memory");
        rc = -1;
    }
    int64_t expect = 1;
    while (rc == 0 && fgets(line, LOG_MAX_LINE, f)) {
        double ep, tr, vb = NAN, va = NAN, vbse = NAN, vase = NAN, st;
        size_t ll = strlen(line);
        if (ll == 0 || line[ll - 1] != '\n') break; /* a torn last line */
        /* --log-steps records: kept up to the checkpoint's step */
        int is_step = strstr(line, "\"kind\":\"step\"") != NULL;
        if (is_step && (!json_get_num(line, "step", &st) || st > (double)steps_done)) break;
        if (!is_step &&
            (expect > epochs_done || !json_get_num(line, "epoch", &ep) || ep != (double)expect))
            break;
        /* logs from before train_bound held the training bound as train_elbo */
        if (!json_get_num(line, "train_bound", &tr) && !json_get_num(line, "train_elbo", &tr))
            tr = NAN;
        if (!json_get_num(line, "valid_bound", &vb)) vb = NAN;
        if (!json_get_num(line, "valid_elbo", &va)) va = NAN;
        if (!json_get_num(line, "valid_bound_se", &vbse)) vbse = NAN; /* absent in older logs */
        if (!json_get_num(line, "valid_elbo_se", &vase)) vase = NAN;
        if (len + ll + 1 > cap) {
            while (len + ll + 1 > cap) cap *= 2;
            char *k = realloc(keep, cap);
            if (!k) {
                snprintf(msg, n, "out of memory");
                rc = -1;
                break;
            }
            keep = k;
        }
        memcpy(keep + len, line, ll);
        len += ll;
        if (is_step) continue;
        if (push(l, tr, vb, va, vbse, vase)) {
            snprintf(msg, n, "out of memory");
            rc = -1;
        }
        expect++;
    }
    fclose(f);
    if (rc == 0) rc = write_file(path, keep, len, msg, n);
    free(line);
    free(keep);
    return rc;
}

int train_log_append(train_log *l, const char *path, const train_epoch_row *r, char *msg,
                     size_t n) {
    const vae_eval_result *ev = r->ev;
    json j;
    json_init(&j);
    json_begin(&j, NULL);
    json_int(&j, "epoch", r->epoch);
    json_int(&j, "step", r->step);
    json_str(&j, "bound_name", r->bound_name ? r->bound_name : "");
    json_num(&j, "train_bound", r->train_bound);
    json_num(&j, "train_elbo", r->train_elbo);
    json_num(&j, "train_rec", r->train_rec);
    json_num(&j, "train_kl", r->train_kl);
    json_num(&j, "valid_bound", r->has_valid ? r->valid_bound : NAN);
    json_num(&j, "valid_bound_se", r->has_valid ? r->valid_bound_se : NAN);
    json_num(&j, "valid_elbo", r->has_valid ? ev->elbo : NAN);
    json_num(&j, "valid_elbo_se", r->has_valid ? ev->elbo_se : NAN);
    json_num(&j, "valid_rec", r->has_valid ? ev->rec : NAN);
    json_num(&j, "valid_kl", r->has_valid ? ev->kl : NAN);
    json_num(&j, "kl_weight", r->kl_weight);
    json_num(&j, "beta", r->beta);
    json_num(&j, "capacity", r->capacity);
    json_num_array(&j, "kl_per_dim", ev->kl_per_dim, ev->z_dim);
    json_int(&j, "active_units", ev->active_units);
    if (ev->nlayers > 1) { /* two stochastic layers: z1's, z2's */
        json_begin_array(&j, "active_units_per_layer");
        for (int l = 0; l < ev->nlayers; l++) json_int(&j, NULL, ev->layer_active[l]);
        json_end_array(&j);
    }
    json_num(&j, "lr", r->lr);
    json_num(&j, "seconds", r->seconds);
    json_num(&j, "samples_per_s", r->samples_per_s);
    json_end(&j);
    const char *t = json_text(&j);
    int rc = 0;
    FILE *f = t ? fopen(path, "ab") : NULL;
    if (!f) {
        snprintf(msg, n, "cannot append to %s: %s", path, t ? strerror(errno) : "out of memory");
        rc = -1;
    } else {
        int bad = fprintf(f, "%s\n", t) < 0;
        bad |= fflush(f) != 0 || fsync(fileno(f)) != 0;
        bad |= fclose(f) != 0;
        if (bad) {
            snprintf(msg, n, "cannot append to %s: %s", path, strerror(errno));
            rc = -1;
        }
    }
    json_free(&j);
    if (rc == 0 && push(l, r->train_bound, r->has_valid ? r->valid_bound : NAN,
                        r->has_valid ? ev->elbo : NAN, r->has_valid ? r->valid_bound_se : NAN,
                        r->has_valid ? ev->elbo_se : NAN)) {
        snprintf(msg, n, "out of memory");
        rc = -1;
    }
    return rc;
}
