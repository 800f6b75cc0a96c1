/* Golden test: every objective, gradient estimator, likelihood and the IS estimate of log p(x) against values and
 * gradients computed in PyTorch (tests/reference/make_golden.py, written from the papers, not from this code),
 * read from tests/reference/golden.txt. The file gives the net's weights, the data and the noise eps as %.17g;
 * the noise is replayed into the library's own draws (vae_ctx_replay_normals), so the C side runs the real
 * objective files, estimators and vae_evaluate, not a copy of them. No Python runs at test time.
 *
 * Tolerances (f64): every value and gradient within 1e-10 relative, measured against max(|ref|, 1e-3 * the
 * row's largest |ref|) so that an entry that is a sum of cancelling terms is judged at its row's scale. The
 * last-ulp rows (klstd, bernlp, bernkl) are held to a few ulps of their own dtype against 50-digit references.
 * Each case prints its largest relative difference per array; the program fails on any above its tolerance.
 * Regenerate the file: /usr/bin/python3 tests/reference/make_golden.py > tests/reference/golden.txt */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vae.h"

vae_status vae_likelihood_student_t_register(void); /* examples/likelihood_student_t.c */

#define RTOL      1e-10
#define MAXARR    48
#define MAXTOK    12
#define NAMELEN   96
#define GOLD_PATH "tests/reference/golden.txt"

typedef struct garr {
    char name[NAMELEN];
    int64_t n;
    double *v;
} garr;

typedef struct block {
    int ntok;
    char tok[MAXTOK][NAMELEN];
    int na;
    garr a[MAXARR];
} block;

static const garr *find(const block *b, const char *name) {
    for (int i = 0; i < b->na; i++)
        if (!strcmp(b->a[i].name, name)) return &b->a[i];
    fprintf(stderr, "golden: block %s %s has no array %s\n", b->tok[0], b->tok[1], name);
    return NULL;
}

static void block_free(block *b) {
    for (int i = 0; i < b->na; i++) free(b->a[i].v);
    b->na = 0;
}

/* the next block: a keyword line and the array lines after it, up to "end" or the next keyword line (kept in
 * *pending). Returns 0 at the end of the file. */
static int read_block(FILE *f, block *b, char **pending) {
    static char *line;
    static size_t cap;
    memset(b, 0, sizeof *b);
    for (;;) {
        char *l;
        if (*pending)
            l = *pending, *pending = NULL;
        else {
            if (getline(&line, &cap, f) < 0) {
                free(line), line = NULL, cap = 0;
                return b->ntok > 0;
            }
            l = line;
        }
        char *save, *t = strtok_r(l, " \t\n", &save);
        if (!t || t[0] == '#') continue;
        if (!strcmp(t, "end")) return 1;
        int keyword = !strcmp(t, "net") || !strcmp(t, "objective") || !strcmp(t, "likelihood") ||
                      !strcmp(t, "eval") || !strcmp(t, "klstd") || !strcmp(t, "bernlp") ||
                      !strcmp(t, "bernkl");
        if (keyword && b->ntok > 0) {
            t[strlen(t)] = ' '; /* give the line back whole: strtok cut it at t's end */
            *pending = l;
            return 1;
        }
        if (keyword) {
            for (; t && b->ntok < MAXTOK; t = strtok_r(NULL, " \t\n", &save))
                snprintf(b->tok[b->ntok++], NAMELEN, "%s", t);
            continue;
        }
        if (b->na == MAXARR) {
            fprintf(stderr, "golden: too many arrays\n");
            return 0;
        }
        garr *a = &b->a[b->na++];
        snprintf(a->name, NAMELEN, "%s", t);
        a->n = strtoll(strtok_r(NULL, " \t\n", &save), NULL, 10);
        a->v = malloc(sizeof(double) * (size_t)(a->n > 0 ? a->n : 1));
        for (int64_t i = 0; i < a->n; i++) a->v[i] = strtod(strtok_r(NULL, " \t\n", &save), NULL);
    }
}

/* largest |got - want| / max(|want|, floor * max_j |want_j|) over a row */
static double row_err(const double *got, const double *want, int64_t n, double floor) {
    double big = 0, worst = 0;
    for (int64_t i = 0; i < n; i++) big = fmax(big, fabs(want[i]));
    for (int64_t i = 0; i < n; i++) {
        double den = fmax(fabs(want[i]), floor * big);
        double e = den > 0 ? fabs(got[i] - want[i]) / den : fabs(got[i] - want[i]);
        if (!(e <= worst)) worst = isnan(e) ? INFINITY : e;
    }
    return worst;
}

/* largest |got - want| / max(|want|, scale_i) (scale NULL: 0; sc a constant floor added to every scale_i) */
static double scaled_err(const double *got, const double *want, const double *scale, double sc,
                         int64_t n) {
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double den = fmax(fabs(want[i]), (scale ? scale[i] : 0) + sc);
        double e = den > 0 ? fabs(got[i] - want[i]) / den : fabs(got[i] - want[i]);
        if (!(e <= worst)) worst = isnan(e) ? INFINITY : e;
    }
    return worst;
}

/* ---- the net ---- */

typedef struct gnet {
    vae_net net;
    int64_t D, H, Z, B, P;
    double *x;
    int ok;
} gnet;

static void net_load(gnet *g, const block *b) {
    if (g->ok) vae_net_free(&g->net);
    free(g->x);
    memset(g, 0, sizeof *g);
    vae_net_cfg nc;
    vae_net_cfg_default(&nc);
    snprintf(nc.likelihood, sizeof nc.likelihood, "%.31s", b->tok[1]);
    nc.lik_opts[0] = strtod(b->tok[2], NULL);
    g->D = nc.x_dim = strtoll(b->tok[3], NULL, 10);
    g->H = nc.hidden[0] = strtoll(b->tok[4], NULL, 10);
    g->Z = nc.z_dim = strtoll(b->tok[5], NULL, 10);
    g->B = strtoll(b->tok[6], NULL, 10);
    nc.nhidden = 1;
    nc.act = VAE_ACT_TANH;
    nc.dtype = VAE_F64;
    vae_rng rng;
    vae_rng_seed(&rng, 1);
    vae_error err = {0};
    CHECK_MSG(vae_net_init(&g->net, &nc, &rng, &err) == VAE_OK, "net %s: %s", b->tok[1], err.msg);
    if (err.code) return;
    g->P = g->net.lik->params_per_dim;
    int nset = 0;
    for (int i = 0; i < b->na; i++) {
        const garr *a = &b->a[i];
        if (strncmp(a->name, "param.", 6)) continue;
        vae_tensor *t = vae_params_find(g->net.params, a->name + 6);
        CHECK_MSG(t && vae_numel(t) == a->n, "net: parameter %s missing or of another size",
                  a->name);
        if (!t || vae_numel(t) != a->n) return;
        for (int64_t j = 0; j < a->n; j++) vae_set_flat(t, j, a->v[j]);
        nset++;
    }
    CHECK_MSG(nset == vae_params_count(g->net.params), "net: %d of %d parameters given", nset,
              vae_params_count(g->net.params));
    const garr *x = find(b, "x");
    if (!x || x->n != g->B * g->D) return;
    g->x = malloc(sizeof(double) * (size_t)x->n);
    memcpy(g->x, x->v, sizeof(double) * (size_t)x->n);
    g->ok = 1;
}

/* one case's report line: "label  bound 1e-16  loss 0  grad 3e-15 (dec.1.weight)" */
static void report(const char *label, int nparts, const char *const *what, const double *err,
                   double tol) {
    int bad = 0;
    printf("%-28s", label);
    for (int i = 0; i < nparts; i++) {
        printf(" %s %.1e", what[i], err[i]);
        bad |= !(err[i] <= tol);
    }
    printf("%s\n", bad ? "   <-- FAIL" : "");
    CHECK_MSG(!bad, "%s: a difference above %.0e", label, tol);
}

static void run_objective(vae_ctx *ctx, gnet *g, const block *b) {
    const char *label = b->tok[1];
    if (!g->ok) return;
    vae_objective_cfg c;
    vae_objective_cfg_default(&c);
    vae_error err = {0};
    CHECK_MSG(vae_objective_parse_spec(&c, b->tok[2], &err) == VAE_OK, "%s: %s", label, err.msg);
    c.estimator = (vae_estimator)vae_estimator_parse(b->tok[3]);
    c.baseline = (vae_baseline)vae_baseline_parse(b->tok[4]);
    c.data_size = strtod(b->tok[7], NULL);
    vae_objective_state st = {.step = strtoll(b->tok[5], NULL, 10), .baseline = strtod(b->tok[6], NULL), .baseline_ready = 1};
    const garr *noise = find(b, "noise"), *bound = find(b, "bound"), *loss = find(b, "loss");
    if (!noise || !bound || !loss) return;
    vae_ctx_reset(ctx);
    vae_ctx_clear_error(ctx);
    vae_ctx_replay_normals(ctx, noise->v, noise->n);
    vae_params_zero_grad(g->net.params);
    vae_tensor *x = vae_from_data(ctx, VAE_F64, VAE_SHAPE(g->B, g->D), VAE_F64, g->x);
    vae_objective_out o;
    vae_status s = vae_objective(ctx, &g->net, x, &c, &st, &o);
    if (!s) s = vae_backward(ctx, o.loss);
    CHECK_MSG(s == VAE_OK, "%s: %s", label, vae_ctx_message(ctx));
    CHECK_MSG(vae_ctx_replay_left(ctx) == 0, "%s: %lld replayed normals unused", label,
              (long long)vae_ctx_replay_left(ctx));
    vae_ctx_replay_normals(ctx, NULL, 0);
    if (s) return;
    double got[64], e[3] = {0, 0, 0}, lossv = vae_item(o.loss);
    for (int64_t i = 0; i < g->B; i++) got[i] = vae_get_flat(o.bound, i);
    e[0] = row_err(got, bound->v, g->B, 1e-3);
    e[1] = row_err(&lossv, loss->v, 1, 1e-3);
    const char *worst = "-";
    int ngrad = 0;
    for (int i = 0; i < b->na; i++) {
        if (strncmp(b->a[i].name, "grad.", 5)) continue;
        int k = vae_params_index(g->net.params, b->a[i].name + 5);
        if (k < 0) {
            CHECK_MSG(0, "%s: no parameter %s", label, b->a[i].name + 5);
            continue;
        }
        const double *gr =
            (const double *)vae_params_grads(g->net.params) + vae_params_offset(g->net.params, k);
        double r = row_err(gr, b->a[i].v, b->a[i].n, 1e-3);
        if (r >= e[2]) e[2] = r, worst = b->a[i].name + 5;
        ngrad++;
    }
    CHECK_MSG(ngrad == vae_params_count(g->net.params), "%s: %d gradients", label, ngrad);
    char lab[160];
    snprintf(lab, sizeof lab, "%s", label);
    static const char *const what[3] = {"bound", "loss", "grad"};
    report(lab, 3, what, e, RTOL);
    if (e[2] > RTOL) printf("%28s worst gradient: %s\n", "", worst);
}

static void run_likelihood(vae_ctx *ctx, const block *b) {
    const char *label = b->tok[1];
    const vae_likelihood *lik = vae_likelihood_find(b->tok[2]);
    CHECK_MSG(lik != NULL, "likelihood %s not registered", b->tok[2]);
    const garr *o = find(b, "out"), *x = find(b, "x"), *lp = find(b, "logp"),
               *go = find(b, "grad.out");
    if (!lik || !o || !x || !lp || !go) return;
    int64_t B = lp->n, DP = o->n / B, D = x->n / B;
    double opts[VAE_LIK_MAX_OPTS] = {strtod(b->tok[3], NULL)};
    vae_ctx_reset(ctx);
    vae_ctx_clear_error(ctx);
    vae_tensor *out = vae_from_data(ctx, VAE_F64, VAE_SHAPE(B, DP), VAE_F64, o->v);
    vae_tensor *xt = vae_from_data(ctx, VAE_F64, VAE_SHAPE(B, D), VAE_F64, x->v);
    vae_requires_grad(ctx, out, 1);
    vae_tensor *v = vae_dist_log_prob(ctx, vae_likelihood_make(ctx, lik, out, opts), xt);
    vae_status s = v ? vae_backward(ctx, vae_sum_all(ctx, v)) : vae_ctx_status(ctx);
    CHECK_MSG(s == VAE_OK, "%s: %s", label, vae_ctx_message(ctx));
    if (s) return;
    double got[64], e[2];
    for (int64_t i = 0; i < B; i++) got[i] = vae_get_flat(v, i);
    e[0] = row_err(got, lp->v, B, 1e-3);
    e[1] = row_err((const double *)vae_tensor_ptr(out->grad), go->v, go->n, 1e-3);
    static const char *const what[2] = {"log_prob", "grad"};
    report(label, 2, what, e, RTOL);
}

static void run_eval(vae_ctx *ctx, gnet *g, const block *b) {
    const char *label = b->tok[1];
    if (!g->ok) return;
    const garr *noise = find(b, "noise"), *elbo = find(b, "elbo"), *ll = find(b, "loglik"),
               *mean = find(b, "mean"), *kd = find(b, "kl_per_dim"), *exse = find(b, "loglik_se"),
               *se = find(b, "se");
    if (!noise || !elbo || !ll || !mean || !kd || !exse || !se) return;
    vae_eval_cfg ec;
    vae_eval_cfg_default(&ec);
    ec.is_samples = strtoll(b->tok[2], NULL, 10);
    int64_t chunk = strtoll(b->tok[3], NULL, 10);
    if (chunk > 0) ec.max_floats = chunk * g->B * g->D * g->P; /* chunks of `chunk` particles */
    ec.elbo_samples = strtoll(b->tok[4], NULL, 10);
    float xf[256];
    for (int64_t i = 0; i < g->B * g->D; i++) xf[i] = (float)g->x[i];
    double ex_elbo[64], ex_ll[64], ex_se[64];
    vae_eval_result r;
    vae_ctx_reset(ctx);
    vae_ctx_clear_error(ctx);
    vae_ctx_replay_normals(ctx, noise->v, noise->n);
    vae_status s = vae_evaluate_ex(ctx, &g->net, xf, g->B, &ec, &r, ex_elbo, ex_ll, ex_se);
    CHECK_MSG(s == VAE_OK, "%s: %s", label, vae_ctx_message(ctx));
    CHECK_MSG(vae_ctx_replay_left(ctx) == 0, "%s: %lld replayed normals unused", label,
              (long long)vae_ctx_replay_left(ctx));
    vae_ctx_replay_normals(ctx, NULL, 0);
    if (s) return;
    double m[4] = {r.loglik, r.elbo, r.rec, r.kl}, e[6], ses[2] = {r.loglik_se, r.elbo_se};
    e[0] = row_err(ex_ll, ll->v, g->B, 1e-3);
    e[1] = row_err(ex_elbo, elbo->v, g->B, 1e-3);
    e[2] = row_err(m, mean->v, 4, 1e-3);
    e[3] = row_err(r.kl_per_dim, kd->v, g->Z, 1e-3);
    e[4] = row_err(ex_se, exse->v, g->B, 1e-3);
    e[5] = row_err(ses, se->v, 2, 1e-3);
    vae_eval_result_free(&r);
    static const char *const what[6] = {"loglik", "elbo", "means", "kl_per_dim", "ex_se", "se"};
    report(label, 6, what, e, RTOL);
}

/* ---- last-ulp rows: each element is its own (n, 1) row, in the block's dtype ---- */

static vae_tensor *leaf(vae_ctx *ctx, vae_dtype dt, const garr *a, int grad) {
    vae_tensor *t = vae_from_data(ctx, dt, VAE_SHAPE(a->n, 1), VAE_F64, a->v);
    if (grad) vae_requires_grad(ctx, t, 1);
    return t;
}

static void values_of(const vae_tensor *t, double *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = t ? vae_get_flat(t, i) : NAN;
}

/* n units in the last place of the dtype (relative) */
static double ulps(vae_dtype dt, double n) {
    return n * (dt == VAE_F32 ? 0x1p-24 : 0x1p-53);
}

/* value and gradients of y (n, ...) summed, against the references */
static void ulp_row(const char *label, const char *path, vae_ctx *ctx, vae_tensor *y,
                    vae_tensor *const *in, const garr *const *dref, int nin, const garr *ref,
                    const double *vscale, double gscale, double tol, int nonneg) {
    double vtol = tol, gtol = tol;
    int64_t n = ref->n < 64 ? ref->n : 64;
    double got[64] = {0}, e[4] = {0};
    values_of(y, got, n);
    e[0] = scaled_err(got, ref->v, vscale, 0, n);
    int neg = 0;
    for (int64_t i = 0; i < n; i++) neg |= nonneg && got[i] < 0;
    if (y && vae_backward(ctx, vae_sum_all(ctx, y)) == VAE_OK)
        for (int i = 0; i < nin; i++) {
            values_of(in[i]->grad, got, n);
            e[1 + i] = scaled_err(got, dref[i]->v, NULL, gscale, n);
        }
    else
        e[1] = INFINITY;
    CHECK_MSG(!neg, "%s %s: a negative KL", label, path);
    char lab[160];
    snprintf(lab, sizeof lab, "%s %s", label, path);
    printf("%-40s value %.1e (tol %.0e)", lab, e[0], vtol);
    for (int i = 0; i < nin; i++) printf("  d%s %.1e", dref[i]->name + 1, e[1 + i]);
    printf(" (tol %.0e)%s\n", gtol,
           e[0] <= vtol && e[1] <= gtol && e[2] <= gtol ? "" : "  <-- FAIL");
    CHECK_MSG(e[0] <= vtol, "%s %s: value %.3g", lab, path, e[0]);
    for (int i = 0; i < nin; i++)
        CHECK_MSG(e[1 + i] <= gtol, "%s: gradient %d %.3g", lab, i, e[1 + i]);
}

static void run_klstd(vae_ctx *ctx, const block *b, vae_dtype dt) {
    const garr *mu = find(b, "mu"), *lv = find(b, "lv"), *kl = find(b, "kl"), *dmu = find(b, "dmu"),
               *dlv = find(b, "dlv");
    if (!mu || !lv || !kl || !dmu || !dlv) return;
    const garr *dref[2] = {dmu, dlv};
    for (int path = 0; path < 4; path++) {
        static const char *const names[4] = {"fused normal_kl_std", "kl table normal||std",
                                             "kl_normal_std_per_dim", "kl table normal||normal"};
        vae_ctx_reset(ctx);
        vae_ctx_clear_error(ctx);
        vae_tensor *in[2] = {leaf(ctx, dt, mu, 1), leaf(ctx, dt, lv, 1)}, *y = NULL;
        vae_dist *q = vae_normal_logvar(ctx, in[0], in[1]);
        if (path == 0) y = vae_normal_kl_std(ctx, in[0], in[1]);
        if (path == 1)
            y = vae_kl(ctx, q, vae_std_normal(ctx, dt, 2, (int64_t[]){mu->n, 1}), 0, NULL);
        if (path == 2) y = vae_kl_normal_std_per_dim(ctx, q);
        if (path == 3) {
            vae_tensor *zero = vae_zeros(ctx, dt, VAE_SHAPE(mu->n, 1));
            y = vae_kl(ctx, q, vae_normal_logscale(ctx, zero, zero), 0, NULL);
        }
        /* expm1(lv) - lv is within an ulp of lv, not of the KL, when lv is tiny (f32, lv = 3e-6: a KL of
         * 4.5e-12 from a difference of two 3e-6s): each value is held to 8 ulps of max(KL, |lv|) (the fused
         * op in f32 to 8 ulps of the KL: it sums in f64). The composite paths' lv gradient, exp(lv)/2 - 1/2
         * from two tape terms, is held to 8 ulps of 1/2; the fused op's (expm1) to 8 ulps of itself. */
        double vscale[64];
        for (int64_t i = 0; i < lv->n && i < 64; i++)
            vscale[i] = path == 0 && dt == VAE_F32 ? 0 : fabs(lv->v[i]);
        ulp_row(b->tok[1], names[path], ctx, y, in, dref, 2, kl, vscale, path ? 0.5 : 0,
                ulps(dt, 8), 1);
    }
}

static void run_bernlp(vae_ctx *ctx, const block *b, vae_dtype dt) {
    const garr *l = find(b, "l"), *x = find(b, "x"), *lp = find(b, "lp"), *dl = find(b, "dl");
    if (!l || !x || !lp || !dl) return;
    for (int path = 0; path < 2; path++) {
        vae_ctx_reset(ctx);
        vae_ctx_clear_error(ctx);
        vae_tensor *in[1] = {leaf(ctx, dt, l, 1)}, *xt = leaf(ctx, dt, x, 0), *y;
        if (path == 0)
            y = vae_bernoulli_logits_lp(ctx, in[0], xt); /* the fused kernel */
        else {
            vae_dist *d = vae_bernoulli_logits(ctx, in[0]);
            if (d) d->event_ndim = 0; /* the composite (unfused) path, elementwise */
            y = vae_dist_log_prob(ctx, d, xt);
        }
        const garr *dref[1] = {dl};
        ulp_row(b->tok[1], path ? "dist elementwise" : "fused bernoulli_logits_lp", ctx, y, in,
                dref, 1, lp, NULL, 0, ulps(dt, 8), 0);
    }
}

static void run_bernkl(vae_ctx *ctx, const block *b, vae_dtype dt) {
    const garr *a = find(b, "a"), *bb = find(b, "b"), *kl = find(b, "kl"), *da = find(b, "da"),
               *db = find(b, "db");
    if (!a || !bb || !kl || !da || !db) return;
    vae_ctx_reset(ctx);
    vae_ctx_clear_error(ctx);
    vae_tensor *in[2] = {leaf(ctx, dt, a, 1), leaf(ctx, dt, bb, 1)};
    vae_tensor *y =
        vae_kl(ctx, vae_bernoulli_logits(ctx, in[0]), vae_bernoulli_logits(ctx, in[1]), 0, NULL);
    const garr *dref[2] = {da, db};
    ulp_row(b->tok[1], "kl table bernoulli||bernoulli", ctx, y, in, dref, 2, kl, NULL, 0,
            ulps(dt, 16), 1);
}

int main(void) {
    const char *root = getenv("VAE_SOURCE_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root ? root : ".", GOLD_PATH);
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "cannot open %s (set VAE_SOURCE_ROOT)", path);
    if (!f) return test_finish();
    CHECK(vae_likelihood_student_t_register() == VAE_OK);
    vae_ctx *ctx = vae_ctx_new(0);
    gnet g = {0};
    block b;
    char *pending = NULL;
    int nblocks = 0;
    while (read_block(f, &b, &pending)) {
        const char *k = b.tok[0];
        vae_dtype dt = b.ntok > 2 && !strcmp(b.tok[2], "f32") ? VAE_F32 : VAE_F64;
        if (!strcmp(k, "net"))
            net_load(&g, &b);
        else if (!strcmp(k, "objective"))
            run_objective(ctx, &g, &b);
        else if (!strcmp(k, "likelihood"))
            run_likelihood(ctx, &b);
        else if (!strcmp(k, "eval"))
            run_eval(ctx, &g, &b);
        else if (!strcmp(k, "klstd"))
            run_klstd(ctx, &b, dt);
        else if (!strcmp(k, "bernlp"))
            run_bernlp(ctx, &b, dt);
        else if (!strcmp(k, "bernkl"))
            run_bernkl(ctx, &b, dt);
        else
            CHECK_MSG(0, "golden: unknown record %s", k);
        block_free(&b);
        nblocks++;
    }
    fclose(f);
    CHECK_MSG(nblocks > 50, "golden: only %d records read", nblocks);
    if (g.ok) vae_net_free(&g.net);
    free(g.x);
    vae_ctx_free(ctx);
    return test_finish();
}
