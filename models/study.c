/* The estimator study: R gradient draws, unbiased group statistics with jackknife standard errors (study.h). */
#include "study.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/discrete.h"
#include "models/study_internal.h"

#define NB VAE_STUDY_BATCHES

/* ---- the groups of a net ---- */

static int add_group(vae__study_layout *lay, const char *name) {
    if (lay->ngroups >= VAE_STUDY_MAX_GROUPS) return -1;
    snprintf(lay->name[lay->ngroups], sizeof lay->name[0], "%s", name);
    return lay->ngroups++;
}

static void add_atom(vae__study_layout *lay, int64_t off, int64_t rows, int64_t ld, int64_t c0,
                     int64_t c1, uint64_t groups) {
    if (lay->natoms >= VAE__STUDY_MAX_ATOMS) return;
    lay->atom[lay->natoms++] = (vae__study_atom){off, rows, ld, c0, c1, groups};
}

void vae__study_layout_net(const vae_net *net, vae__study_layout *lay) {
    memset(lay, 0, sizeof *lay);
    static const char *const fixed[VAE_STUDY_FIRST_TENSOR] = {"total", "encoder", "decoder",
                                                              "encoder.mu", "encoder.logvar"};
    for (int g = 0; g < VAE_STUDY_FIRST_TENSOR; g++) add_group(lay, fixed[g]);
    /* the encoder's last layer outputs (mu | logvar): weight (in, 2Z), bias (2Z) */
    const vae_linear *head = net->enc.nlayers > 0 ? &net->enc.layer[net->enc.nlayers - 1] : NULL;
    int64_t Z = net->cfg.z_dim;
    int cnt = vae_params_count(net->params);
    for (int i = 0; i < cnt; i++) {
        vae_tensor *t = vae_params_get(net->params, i);
        int64_t off = vae_params_offset(net->params, i), n = vae_numel(t);
        /* NVIL's baseline b(x) ("bl.*") is trained on its own regression, not the bound: not in "total" */
        uint64_t g = strncmp(t->name, "bl.", 3) == 0 ? 0 : 1ull << VAE_STUDY_TOTAL;
        int enc = strncmp(t->name, "enc.", 4) == 0, dec = strncmp(t->name, "dec.", 4) == 0;
        if (enc) g |= 1ull << VAE_STUDY_ENCODER;
        if (dec) g |= 1ull << VAE_STUDY_DECODER;
        int own = add_group(lay, t->name);
        if (own >= 0) g |= 1ull << own;
        if (head && (t == head->w || t == head->b) && t->shape[t->ndim - 1] == 2 * Z) {
            int64_t rows = n / (2 * Z); /* the weight's rows (in), or 1 for the bias */
            add_atom(lay, off, rows, 2 * Z, 0, Z, g | 1ull << VAE_STUDY_ENC_MU);
            add_atom(lay, off, rows, 2 * Z, Z, 2 * Z, g | 1ull << VAE_STUDY_ENC_LOGVAR);
        } else
            add_atom(lay, off, 1, n, 0, n, g);
    }
}

/* ---- the accumulator ---- */

vae_status vae__study_acc_init(vae__study_acc *acc, int64_t P, int64_t draws,
                               const vae__study_layout *lay, const vae_study_ref *ref,
                               vae_error *err) {
    memset(acc, 0, sizeof *acc);
    size_t need = (size_t)P * (2 * NB + 1);
    if (P <= 0 || (uint64_t)P > SIZE_MAX / sizeof(double) / (2 * NB + 1))
        return vae_error_set(err, VAE_ERR_OOM, "study: %lld parameters is too many", (long long)P);
    acc->c = calloc(need, sizeof(double));
    if (!acc->c)
        return vae_error_set(err, VAE_ERR_OOM, "study: out of memory for %lld parameters x %d",
                             (long long)P, 2 * NB + 1);
    acc->S = acc->c + P;
    acc->Q = acc->S + (size_t)P * NB;
    acc->P = P;
    acc->lay = lay;
    acc->ref = ref && ref->mean ? ref : NULL;
    /* R' = 1, 2, 5, 10, 20, 50, ... <= draws: the error of the mean of the first R' draws (needs a reference) */
    static const int64_t step[3] = {1, 2, 5};
    for (int64_t dec = 1; acc->ref && acc->nprefix < VAE_STUDY_MAX_PREFIX; dec *= 10) {
        for (int s = 0; s < 3 && acc->nprefix < VAE_STUDY_MAX_PREFIX; s++)
            if (dec * step[s] <= draws) acc->prefix_r[acc->nprefix++] = dec * step[s];
        if (dec > draws / 10) break;
    }
    return VAE_OK;
}

void vae__study_acc_free(vae__study_acc *acc) {
    if (acc) free(acc->c);
    if (acc) memset(acc, 0, sizeof *acc);
}

/* Sum of f over an atom's elements. */
#define ATOM_FOR(a, i)                                                                             \
    for (int64_t r_ = 0; r_ < (a)->rows; r_++)                                                     \
        for (int64_t i = (a)->off + r_ * (a)->ld + (a)->c0; i < (a)->off + r_ * (a)->ld + (a)->c1; \
             i++)

/* ||gbar_R' - g_ref||^2 / ||g_ref||^2 per group, for the current n draws */
static void prefix_point(vae__study_acc *acc, int k) {
    const vae__study_layout *lay = acc->lay;
    double num[VAE_STUDY_MAX_GROUPS] = {0}, den[VAE_STUDY_MAX_GROUPS] = {0};
    for (int a = 0; a < lay->natoms; a++) {
        const vae__study_atom *at = &lay->atom[a];
        double e2 = 0, r2 = 0;
        ATOM_FOR(at, i) {
            double s = 0;
            for (int b = 0; b < NB; b++) s += acc->S[(size_t)b * acc->P + i];
            double d = acc->c[i] + s / (double)acc->n - acc->ref->mean[i];
            e2 += d * d;
            r2 += acc->ref->mean[i] * acc->ref->mean[i];
        }
        for (int g = 0; g < lay->ngroups; g++)
            if (at->groups >> g & 1) num[g] += e2, den[g] += r2;
    }
    for (int g = 0; g < lay->ngroups; g++)
        acc->prefix_err[k][g] = den[g] > 0 ? sqrt(num[g] / den[g]) : NAN;
}

void vae__study_acc_add(vae__study_acc *acc, const void *g, vae_dtype dt, double sign) {
    const float *gf = g;
    const double *gd = g;
    int64_t P = acc->P;
    if (acc->n == 0)
        for (int64_t i = 0; i < P; i++) acc->c[i] = sign * (dt == VAE_F64 ? gd[i] : (double)gf[i]);
    int b = (int)(acc->n % NB);
    double *S = acc->S + (size_t)b * P, *Q = acc->Q + (size_t)b * P;
    for (int64_t i = 0; i < P; i++) {
        double d = sign * (dt == VAE_F64 ? gd[i] : (double)gf[i]) - acc->c[i];
        S[i] += d;
        Q[i] += d * d;
    }
    acc->nb[b]++;
    acc->n++;
    for (int k = 0; k < acc->nprefix; k++)
        if (acc->prefix_r[k] == acc->n) prefix_point(acc, k);
}

/* Per-atom sums for one variant of the draws (v = 0: all; v = 1..NB: all but batch v - 1). */
typedef struct sums {
    double n; /* draws */
    double m2, tr, snr, dot,
        diff2; /* sum of gbar^2, s^2, per-element SNR, gbar g_ref, (gbar - g_ref)^2 */
} sums;

static void atom_sums(const vae__study_acc *acc, const vae__study_atom *at, int v, sums *o,
                      double *mean, double *var) {
    int64_t P = acc->P;
    double n = (double)acc->n - (v ? (double)acc->nb[v - 1] : 0);
    const double *rm = acc->ref ? acc->ref->mean : NULL;
    o->n = n;
    ATOM_FOR(at, i) {
        double s = 0, q = 0;
        for (int b = 0; b < NB; b++)
            if (b != v - 1) s += acc->S[(size_t)b * P + i], q += acc->Q[(size_t)b * P + i];
        double m = acc->c[i] + s / n, s2 = n > 1 ? (q - s * s / n) / (n - 1) : NAN;
        if (s2 < 0) s2 = 0; /* rounding */
        o->m2 += m * m;
        o->tr += s2;
        if (s2 > 0) o->snr += sqrt(fmax(0, m * m - s2 / n) / s2);
        if (rm) o->dot += m * rm[i], o->diff2 += (m - rm[i]) * (m - rm[i]);
        if (mean) mean[i] = m;
        if (var) var[i] = s2;
    }
}

/* The statistics of one group from its sums (variant v): fills the .est fields of out. */
typedef struct gstat {
    double u, tr, snr, msnr, b2, relb, cos;
} gstat;

static gstat group_stat(const sums *s, int64_t numel, double ref_u, double ref_tr) {
    gstat g;
    g.u = s->m2 - s->tr / s->n;
    g.tr = s->tr;
    g.snr = s->tr > 0 ? sqrt(fmax(0, g.u) / s->tr) : NAN;
    g.msnr = numel ? s->snr / (double)numel : NAN;
    g.b2 = s->diff2 - s->tr / s->n - ref_tr;
    g.relb = ref_u > 0 ? sqrt(fmax(0, g.b2) / ref_u) : NAN;
    g.cos = g.u > 0 && ref_u > 0 ? s->dot / sqrt(g.u * ref_u) : NAN;
    return g;
}

/* Delete-one-batch jackknife: se = sqrt((m - 1) / m sum_b (t_b - mean t)^2) over the m usable leave-outs. */
static double jackknife(const double *t, int m) {
    if (m < 2) return NAN;
    double mu = 0, ss = 0;
    for (int b = 0; b < m; b++) mu += t[b];
    mu /= m;
    for (int b = 0; b < m; b++) ss += (t[b] - mu) * (t[b] - mu);
    return sqrt((double)(m - 1) / m * ss);
}

void vae__study_acc_finish(const vae__study_acc *acc, vae_study_row *row, double *mean,
                           double *var) {
    const vae__study_layout *lay = acc->lay;
    int G = lay->ngroups;
    static const sums zero;
    sums gs[NB + 1][VAE_STUDY_MAX_GROUPS];
    double ref_m2[VAE_STUDY_MAX_GROUPS] = {0}, ref_tr[VAE_STUDY_MAX_GROUPS] = {0};
    int64_t numel[VAE_STUDY_MAX_GROUPS] = {0};
    for (int v = 0; v <= NB; v++)
        for (int g = 0; g < G; g++) gs[v][g] = zero;
    /* the leave-outs that exist: a batch with draws, leaving at least 2 */
    int use[NB + 1], m = 0;
    for (int v = 1; v <= NB; v++) {
        use[v] = acc->nb[v - 1] > 0 && acc->n - acc->nb[v - 1] >= 2;
        m += use[v];
    }
    use[0] = 1;
    if (mean) memset(mean, 0, sizeof(double) * (size_t)acc->P); /* the padding between tensors */
    if (var) memset(var, 0, sizeof(double) * (size_t)acc->P);
    for (int a = 0; a < lay->natoms; a++) {
        const vae__study_atom *at = &lay->atom[a];
        double rm2 = 0, rtr = 0;
        if (acc->ref) ATOM_FOR(at, i) {
                rm2 += acc->ref->mean[i] * acc->ref->mean[i];
                if (acc->ref->var) rtr += acc->ref->var[i];
            }
        for (int v = 0; v <= NB; v++) {
            if (!use[v]) continue;
            sums s = zero;
            atom_sums(acc, at, v, &s, v ? NULL : mean, v ? NULL : var);
            for (int g = 0; g < G; g++) {
                if (!(at->groups >> g & 1)) continue;
                sums *o = &gs[v][g];
                o->n = s.n;
                o->m2 += s.m2, o->tr += s.tr, o->snr += s.snr, o->dot += s.dot, o->diff2 += s.diff2;
            }
        }
        for (int g = 0; g < G; g++)
            if (at->groups >> g & 1) {
                ref_m2[g] += rm2, ref_tr[g] += rtr;
                numel[g] += at->rows * (at->c1 - at->c0);
            }
    }
    row->draws = acc->n;
    row->has_ref = acc->ref != NULL;
    row->ngroups = G;
    row->nprefix = acc->nprefix;
    memcpy(row->prefix_r, acc->prefix_r, sizeof row->prefix_r);
    double rd = acc->ref && acc->ref->draws > 0 ? (double)acc->ref->draws : INFINITY;
    for (int g = 0; g < G; g++) {
        vae_study_group *o = &row->group[g];
        memset(o, 0, sizeof *o);
        snprintf(o->name, sizeof o->name, "%s", lay->name[g]);
        o->numel = numel[g];
        double ru = ref_m2[g] - ref_tr[g] / rd, rt = ref_tr[g] / rd;
        gstat full = group_stat(&gs[0][g], numel[g], ru, rt), jk;
        double t[7][NB];
        int k = 0;
        for (int v = 1; v <= NB; v++) {
            if (!use[v]) continue;
            jk = group_stat(&gs[v][g], numel[g], ru, rt);
            double vals[7] = {jk.u, jk.tr, jk.snr, jk.msnr, jk.b2, jk.relb, jk.cos};
            for (int j = 0; j < 7; j++) t[j][k] = vals[j];
            k++;
        }
        o->mean_norm2 = (vae_study_stat){full.u, jackknife(t[0], k)};
        o->trace_cov = (vae_study_stat){full.tr, jackknife(t[1], k)};
        o->mean_snr = (vae_study_stat){full.msnr, jackknife(t[3], k)};
        o->snr_resolved = o->mean_norm2.se >= 0 && full.u > 2 * o->mean_norm2.se && full.tr > 0;
        o->snr = (vae_study_stat){o->snr_resolved ? full.snr : NAN,
                                  o->snr_resolved ? jackknife(t[2], k) : NAN};
        double up = full.u + 2 * (isnan(o->mean_norm2.se) ? 0 : o->mean_norm2.se);
        o->snr_upper = full.tr > 0 ? sqrt(fmax(0, up) / full.tr) : NAN;
        o->snr_plugin = full.tr > 0 ? sqrt(gs[0][g].m2 / full.tr) : NAN;
        if (acc->ref) {
            o->bias_norm2 = (vae_study_stat){full.b2, jackknife(t[4], k)};
            o->rel_bias = (vae_study_stat){full.relb, jackknife(t[5], k)};
            o->cosine = (vae_study_stat){full.cos, jackknife(t[6], k)};
            o->ref_norm2 = ru;
        } else {
            o->bias_norm2 = o->rel_bias = o->cosine = (vae_study_stat){NAN, NAN};
            o->ref_norm2 = NAN;
        }
        for (int p = 0; p < VAE_STUDY_MAX_PREFIX; p++)
            o->prefix_err[p] = p < acc->nprefix ? acc->prefix_err[p][g] : NAN;
    }
}

/* ---- the study ---- */

const vae_study_group *vae_study_find(const vae_study_row *row, const char *name) {
    if (!row || !name) return NULL;
    for (int g = 0; g < row->ngroups && g < VAE_STUDY_MAX_GROUPS; g++)
        if (strcmp(row->group[g].name, name) == 0) return &row->group[g];
    return NULL;
}

vae_status vae_study_run(vae_ctx *ctx, vae_net *net, const float *x, int64_t B,
                         const vae_objective_cfg *cfg, int64_t draws, const vae_study_ref *ref,
                         vae_study_row *row, double *mean, double *var) {
    vae_error *err = vae_ctx_error(ctx); /* one channel: the context */
    if (draws < 2)
        return vae_error_set(err, VAE_ERR_ARG, "study: need at least 2 draws (got %lld)",
                             (long long)draws);
    if (!net || !x || !row || !cfg) return vae_error_set(err, VAE_ERR_NULL, "study: NULL argument");
    if (vae_objective_check(cfg, err)) return err->code;
    int64_t P = vae_params_flat_len(net->params), D = net->cfg.x_dim; /* padded flat layout */
    vae__study_layout *lay = malloc(sizeof *lay);
    if (!lay) return vae_error_set(err, VAE_ERR_OOM, "study: out of memory");
    vae__study_layout_net(net, lay);
    vae__study_acc acc;
    if (vae__study_acc_init(&acc, P, draws, lay, ref, err)) {
        free(lay);
        return err->code;
    }
    vae_objective_state st = {0};
    double bound_sum = 0;
    vae_status s = VAE_OK;
    /* a moving-average baseline needs a few steps to settle before its estimates are representative */
    int64_t warm = cfg->baseline == VAE_BASELINE_MA ? 20 : 0;
    if (cfg->baseline == VAE_BASELINE_NVIL && cfg->estimator == VAE_EST_SCORE)
        s = vae_nvil_fit(ctx, net, x, B, cfg, &st, VAE_STUDY_NVIL_STEPS, VAE_STUDY_NVIL_LR, NULL);
    for (int64_t r = 0; s == VAE_OK && r < warm + draws; r++) {
        vae_ctx_reset(ctx);
        vae_params_zero_grad(net->params);
        vae_tensor *xb =
            vae_cast(ctx, vae_wrap(ctx, VAE_F32, VAE_SHAPE(B, D), (void *)x), net->cfg.dtype);
        vae_objective_out o;
        s = vae_objective(ctx, net, xb, cfg, &st, &o);
        if (s == VAE_OK) s = vae_backward(ctx, o.loss);
        if (s != VAE_OK) break; /* the message is in ctx */
        if (r < warm) continue;
        bound_sum += o.bound_mean;
        /* bound = -loss */
        vae__study_acc_add(&acc, vae_params_grads(net->params), vae_params_dtype(net->params), -1);
    }
    vae_ctx_reset(ctx);
    if (s == VAE_OK) {
        memset(row, 0, sizeof *row);
        vae_objective_spec(cfg, row->objective, sizeof row->objective);
        row->estimator = cfg->estimator;
        row->baseline = cfg->baseline;
        row->bound_mean = bound_sum / (double)draws;
        vae__study_acc_finish(&acc, row, mean, var);
    }
    vae_params_zero_grad(net->params);
    vae__study_acc_free(&acc);
    free(lay);
    return s;
}
