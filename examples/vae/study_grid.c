/* The estimator study over estimators x K for the CLI (study_grid.h). */
#include "study_grid.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "models/discrete.h"
#include "plot.h"

int study_parse_estimators(const char *s, est_spec *out, int max, char *msg, size_t n) {
    int cnt = 0;
    const char *p = s;
    while (*p) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof out->label || cnt >= max) break;
        est_spec e;
        memset(&e, 0, sizeof e);
        memcpy(e.label, p, len);
        char name[32];
        snprintf(name, sizeof name, "%s", e.label);
        char *colon = strchr(name, ':');
        int bl = 0, gumbel = !strncmp(name, "gumbel", 6);
        e.temperature = 1;
        e.straight_through = !strncmp(name, "gumbel-st", 9) && (!name[9] || name[9] == ':');
        if (colon) {
            *colon = '\0';
            char *end;
            if (gumbel) { /* gumbel:T, the temperature */
                e.temperature = strtod(colon + 1, &end);
                if (end == colon + 1 || *end || !(e.temperature > 0 && e.temperature <= 1e3)) break;
            } else
                bl = vae_baseline_parse(colon + 1);
        }
        int es = e.straight_through ? VAE_EST_GUMBEL : vae_estimator_parse(name);
        if (es < 0 || bl < 0) break;
        if (bl != VAE_BASELINE_NONE && es != VAE_EST_SCORE) {
            snprintf(msg, n, "a baseline goes with score only (\"%s\")", e.label);
            return -1;
        }
        e.est = (vae_estimator)es;
        e.bl = (vae_baseline)bl;
        out[cnt++] = e;
        p += len;
        if (*p == ',') p++;
        if (*p == '\0' && p[-1] == ',') break;
    }
    if (*p || cnt == 0) {
        snprintf(msg, n,
                 "\"%s\" is not a list of reparam|score|stl|dreg[:none|ma|vimco|nvil] or "
                 "gumbel|gumbel-st[:T]",
                 s);
        return -1;
    }
    return cnt;
}

int study_grid_init(study_grid *g, const est_spec *es, int nes, const int64_t *ks, int nks,
                    int64_t draws, int64_t ref_draws) {
    memset(g, 0, sizeof *g);
    g->nes = nes < STUDY_MAX_EST ? nes : STUDY_MAX_EST;
    memcpy(g->es, es, sizeof *es * (size_t)g->nes);
    g->nks = ks && nks > 0 ? (nks < STUDY_MAX_KS ? nks : STUDY_MAX_KS) : 1;
    for (int k = 0; k < g->nks; k++) g->ks[k] = ks && nks > 0 ? ks[k] : 1;
    g->draws = draws, g->ref_draws = ref_draws;
    size_t nr = (size_t)g->nes * (size_t)g->nks;
    g->rows = calloc(nr, sizeof *g->rows);
    g->skipped = calloc(nr, 1);
    g->refs = calloc((size_t)g->nks, sizeof *g->refs);
    g->has_ref = calloc((size_t)g->nks, 1);
    if (!g->rows || !g->skipped || !g->refs || !g->has_ref) {
        study_grid_free(g);
        return -1;
    }
    return 0;
}

void study_grid_free(study_grid *g) {
    free(g->rows), free(g->skipped), free(g->refs), free(g->has_ref);
    memset(g, 0, sizeof *g);
}

int study_grid_run(study_grid *g, vae_ctx *ctx, vae_net *net, const float *x, int64_t B,
                   const vae_objective_cfg *base, progress *p, char *msg, size_t n) {
    /* the option --ks sets: k (particles), else l (samples), else none (one row per estimator) */
    g->kkey = !isnan(vae_objective_get(base, "k"))   ? "k"
              : !isnan(vae_objective_get(base, "l")) ? "l"
                                                     : NULL;
    if (!g->kkey) g->nks = 1, g->ks[0] = 1;
    int64_t P = vae_params_flat_len(net->params);
    double *rm = NULL, *rv = NULL;
    if (g->ref_draws >= 2) {
        rm = malloc(sizeof(double) * (size_t)P), rv = malloc(sizeof(double) * (size_t)P);
        if (!rm || !rv) {
            free(rm), free(rv);
            snprintf(msg, n, "out of memory");
            return -1;
        }
    }
    int total = g->nes * g->nks + (rm ? g->nks : 0), done = 0, rc = 0;
    vae_error err = {0};
    for (int k = 0; k < g->nks && rc == 0; k++) {
        vae_objective_cfg oc = *base;
        if (g->kkey && vae_objective_set(&oc, g->kkey, (double)g->ks[k], &err)) {
            for (int e = 0; e < g->nes; e++) g->skipped[e * g->nks + k] = 1;
            vae_error_clear(&err);
            continue;
        }
        /* the reference: the reparameterized gradient of the same bound with R_ref draws; for discrete latents
         * the exact ELBO gradient by summation when the bound is the plain ELBO and the space is small */
        vae_study_ref ref = {rm, rv, g->ref_draws};
        oc.estimator = VAE_EST_REPARAM, oc.baseline = VAE_BASELINE_NONE;
        int exact = vae_net_discrete(net) && vae_discrete_num_configs(net) > 0 &&
                    !strcmp(oc.desc ? oc.desc->name : "vae", "vae");
        if (rm && exact) {
            if (vae_discrete_exact_grad(ctx, net, x, B, rm)) {
                snprintf(msg, n, "exact reference: %s", vae_ctx_message(ctx));
                rc = -1;
                break;
            }
            ref = (vae_study_ref){rm, NULL, 0};
            g->has_ref[k] = 1, g->exact_ref = 1;
        } else if (rm && vae_objective_check(&oc, &err) == VAE_OK &&
                   vae_objective_check_net(&oc, net, &err) == VAE_OK) {
            if (vae_study_run(ctx, net, x, B, &oc, g->ref_draws, NULL, &g->refs[k], rm, rv)) {
                snprintf(msg, n, "reference (K=%" PRId64 "): %s", g->ks[k], vae_ctx_message(ctx));
                rc = -1;
                break;
            }
            g->has_ref[k] = 1;
            if (p) progress_count(p, "estimator rows", ++done, total);
        }
        vae_error_clear(&err);
        for (int e = 0; e < g->nes; e++) {
            int i = e * g->nks + k;
            oc.estimator = g->es[e].est;
            oc.baseline = g->es[e].bl;
            oc.temperature = g->es[e].temperature, oc.temp_anneal = 0;
            oc.temp_min = oc.temperature, oc.straight_through = g->es[e].straight_through;
            /* e.g. VIMCO at K = 1, DReG for the ELBO, reparam on discrete latents */
            if (vae_objective_check(&oc, &err) || vae_objective_check_net(&oc, net, &err)) {
                g->skipped[i] = 1;
                vae_error_clear(&err);
                continue;
            }
            if (vae_study_run(ctx, net, x, B, &oc, g->draws, g->has_ref[k] ? &ref : NULL,
                              &g->rows[i], NULL, NULL)) {
                snprintf(msg, n, "%s (K=%" PRId64 "): %s", g->es[e].label, g->ks[k],
                         vae_ctx_message(ctx));
                rc = -1;
                break;
            }
            if (p) progress_count(p, "estimator rows", ++done, total);
        }
    }
    free(rm), free(rv);
    return rc;
}

static void stat_json(json *j, const char *key, vae_study_stat s) {
    json_begin(j, key);
    json_num(j, "est", s.est);
    json_num(j, "se", s.se);
    json_end(j);
}

static void group_json(json *j, const vae_study_row *row, const vae_study_group *g) {
    json_begin(j, NULL);
    json_str(j, "name", g->name);
    json_int(j, "numel", g->numel);
    stat_json(j, "mean_norm2", g->mean_norm2);
    stat_json(j, "trace_cov", g->trace_cov);
    stat_json(j, "snr", g->snr); /* null when unresolved */
    json_bool(j, "snr_resolved", g->snr_resolved);
    json_num(j, "snr_upper", g->snr_upper);
    json_num(j, "snr_plugin", g->snr_plugin);
    stat_json(j, "mean_snr", g->mean_snr);
    if (row->has_ref) {
        stat_json(j, "bias_norm2", g->bias_norm2);
        stat_json(j, "rel_bias", g->rel_bias);
        stat_json(j, "cosine", g->cosine);
        json_num(j, "ref_norm2", g->ref_norm2);
        json_num_array(j, "prefix_err", g->prefix_err, row->nprefix);
    }
    json_end(j);
}

void study_grid_json(const study_grid *g, json *j, int all_groups) {
    json_begin_array(j, "rows");
    for (int e = 0; e < g->nes; e++)
        for (int k = 0; k < g->nks; k++) {
            int i = e * g->nks + k;
            if (g->skipped[i]) continue;
            const vae_study_row *r = &g->rows[i];
            json_begin(j, NULL);
            json_str(j, "estimator", g->es[e].label);
            json_str(j, "objective", r->objective);
            json_int(j, "k", g->ks[k]);
            json_num(j, "bound", r->bound_mean);
            json_int(j, "draws", r->draws);
            json_int(j, "ref_draws", r->has_ref && !g->exact_ref ? g->ref_draws : 0);
            json_bool(j, "exact_ref", r->has_ref && g->exact_ref);
            if (g->es[e].est == VAE_EST_GUMBEL) json_num(j, "temperature", g->es[e].temperature);
            if (r->has_ref) {
                double pr[VAE_STUDY_MAX_PREFIX];
                for (int q = 0; q < r->nprefix; q++) pr[q] = (double)r->prefix_r[q];
                json_num_array(j, "prefix_r", pr, r->nprefix);
            }
            json_begin_array(j, "groups");
            int ng = all_groups ? r->ngroups : VAE_STUDY_FIRST_TENSOR;
            for (int q = 0; q < ng && q < r->ngroups; q++) group_json(j, r, &r->group[q]);
            json_end_array(j);
            json_end(j);
        }
    json_end_array(j);
}

/* A y range of whole decades around the finite values v +- e (> 0). */
static void decades(const double *v, const double *e, int n, double *lo, double *hi) {
    double mn = INFINITY, mx = -INFINITY;
    for (int i = 0; i < n; i++) {
        if (!(v[i] > 0) || !isfinite(v[i])) continue;
        double a = e && v[i] - e[i] > 0 ? v[i] - e[i] : v[i], b = v[i] + (e ? e[i] : 0);
        if (!(e && v[i] - e[i] > 0) && e && e[i] > 0) a = v[i] / 2; /* a bar reaching 0 */
        mn = fmin(mn, a), mx = fmax(mx, b);
    }
    if (!(mn <= mx)) mn = 0.1, mx = 1;
    *lo = pow(10, floor(log10(mn)));
    *hi = pow(10, ceil(log10(mx)));
    if (*hi <= *lo) *hi = *lo * 10;
}

static int grid_plot(const study_grid *g, const char *dir, const char *file, int what, char *msg,
                     size_t n) {
    static double xs[STUDY_MAX_EST][VAE_STUDY_MAX_PREFIX], ys[STUDY_MAX_EST][VAE_STUDY_MAX_PREFIX],
        es[STUDY_MAX_EST][VAE_STUDY_MAX_PREFIX], ux[STUDY_MAX_EST][VAE_STUDY_MAX_PREFIX],
        uy[STUDY_MAX_EST][VAE_STUDY_MAX_PREFIX], ue[STUDY_MAX_EST][VAE_STUDY_MAX_PREFIX];
    /* the plot's palette, so an estimator's upper bounds take its colour */
    static const uint32_t pal[10] = {0x1f77b4, 0xd62728, 0x2ca02c, 0xff7f0e, 0x9467bd,
                                     0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
    double all_y[2 * STUDY_MAX_EST * VAE_STUDY_MAX_PREFIX],
        all_e[2 * STUDY_MAX_EST * VAE_STUDY_MAX_PREFIX];
    vae_plot_series s[2 * STUDY_MAX_EST];
    int na = 0, ns = g->nes, kb = g->nks - 1; /* the bias plot: the largest K */
    char title[160];
    for (int e = 0; e < g->nes; e++) {
        int cnt = 0;
        if (what < 2) {
            for (int k = 0; k < g->nks; k++) {
                int i = e * g->nks + k;
                const vae_study_group *gr = &g->rows[i].group[VAE_STUDY_ENCODER];
                vae_study_stat st = what == 0 ? gr->snr : gr->trace_cov;
                xs[e][cnt] = (double)g->ks[k];
                ys[e][cnt] = g->skipped[i] ? NAN : st.est;
                es[e][cnt] = g->skipped[i] || isnan(st.se) ? 0 : st.se;
                /* an SNR indistinguishable from 0: its upper bound, with a bar down to the axis */
                int up = what == 0 && !g->skipped[i] && !gr->snr_resolved && gr->snr_upper > 0;
                ux[e][cnt] = (double)g->ks[k];
                uy[e][cnt] = up ? gr->snr_upper : NAN;
                ue[e][cnt] = -1; /* a bar down to the axis */
                cnt++;
            }
            if (what == 0)
                s[ns++] = (vae_plot_series){.name = "",
                                            .x = ux[e],
                                            .y = uy[e],
                                            .yerr = ue[e],
                                            .n = cnt,
                                            .color = pal[e % 10],
                                            .no_line = 1};
        } else {
            const vae_study_row *r = &g->rows[e * g->nks + kb];
            for (int q = 0; !g->skipped[e * g->nks + kb] && r->has_ref && q < r->nprefix; q++) {
                xs[e][cnt] = (double)r->prefix_r[q];
                ys[e][cnt] = r->group[VAE_STUDY_ENCODER].prefix_err[q];
                es[e][cnt] = 0;
                cnt++;
            }
        }
        for (int q = 0; q < cnt; q++) all_y[na] = ys[e][q], all_e[na++] = es[e][q];
        for (int q = 0; what == 0 && q < cnt; q++)
            if (uy[e][q] > 0) all_y[na] = uy[e][q], all_e[na++] = 0;
        s[e] = (vae_plot_series){.name = g->es[e].label,
                                 .x = xs[e],
                                 .y = ys[e],
                                 .yerr = es[e],
                                 .n = cnt,
                                 .color = pal[e % 10]};
    }
    vae_plot pl = {.series = s, .nseries = ns, .log_x = 1, .log_y = 1, .markers = 1};
    decades(all_y, all_e, na, &pl.ymin, &pl.ymax);
    const char *kname = g->kkey && strcmp(g->kkey, "l") == 0 ? "L (samples)" : "K (particles)";
    if (what == 0) {
        snprintf(title, sizeof title,
                 "encoder SNR, R=%" PRId64 ", +-1 SE (bar from axis: SNR below)", g->draws);
        pl.ylabel = "SNR = sqrt(||E g||^2 / tr Cov g)";
    } else if (what == 1) {
        snprintf(title, sizeof title, "encoder variance, R=%" PRId64 ", +-1 SE", g->draws);
        pl.ylabel = "tr Cov g";
    } else {
        if (g->exact_ref)
            snprintf(title, sizeof title, "encoder: R'-draw mean vs the exact gradient (%s=%" PRId64 ")",
                     g->kkey ? g->kkey : "k", g->ks[kb]);
        else
            snprintf(title, sizeof title,
                     "encoder: R'-draw mean vs ref (R_ref=%" PRId64 ", %s=%" PRId64 ")", g->ref_draws,
                     g->kkey ? g->kkey : "k", g->ks[kb]);
        pl.ylabel = "||mean_R' - g_ref|| / ||g_ref||";
    }
    pl.title = title;
    pl.xlabel = what < 2 ? kname : "R' (draws averaged)";
    char path[RUN_PATH_MAX];
    vae_error err = {0};
    if (path_join(path, sizeof path, dir, file, msg, n)) return -1;
    if (vae_plot_write_png(&pl, path, 720, 480, &err)) {
        snprintf(msg, n, "%s", err.msg);
        return -1;
    }
    return 0;
}

int study_grid_pictures(const study_grid *g, const char *dir, char *msg, size_t n) {
    if (grid_plot(g, dir, "estimators_snr.png", 0, msg, n) ||
        grid_plot(g, dir, "estimators_variance.png", 1, msg, n))
        return -1;
    int any = 0;
    for (int k = 0; k < g->nks; k++) any |= g->has_ref[k];
    return any ? grid_plot(g, dir, "estimators_bias.png", 2, msg, n) : 0;
}
