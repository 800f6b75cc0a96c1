/* Gradient estimators, statistically (fixed seeds): every estimator of the same bound agrees in mean with the
 * pathwise one, per parameter within a few standard errors; the score function's variance is larger. */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vae.h"
#include "models/study.h"

#define D     6
#define B     3
#define DRAWS 6000

static const float xdata[B * D] = {1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 0, 1};

typedef struct est_stats {
    vae_study_row row;
    double *mean, *var;
} est_stats;

static void run(vae_ctx *ctx, vae_net *net, const vae_objective_cfg *cfg, est_stats *e) {
    int64_t P = vae_params_flat_len(net->params);
    e->mean = malloc(sizeof(double) * (size_t)P);
    e->var = malloc(sizeof(double) * (size_t)P);
    static uint64_t seed =
        1234; /* independent noise for every estimator: the comparisons are unpaired */
    vae_ctx_seed(ctx, seed++);
    vae_status s = vae_study_run(ctx, net, xdata, B, cfg, DRAWS, NULL, &e->row, e->mean, e->var);
    CHECK_MSG(s == VAE_OK, "%s", vae_ctx_message(ctx));
}

/* Compare two estimators of the same gradient over one parameter group (decoder = 0/1):
 * every |z| = |m1 - m2| / sqrt(v1/R + v2/R) below 4.5 (about 1e-5 two-sided each, ~100 parameters), and the mean
 * of z^2 near 1 (no systematic bias hiding below the per-parameter threshold). */
static void agree(const vae_net *net, const est_stats *a, const est_stats *b, int decoder,
                  const char *what) {
    double maxz = 0, z2 = 0;
    int64_t n = 0;
    int cnt = vae_params_count(net->params);
    for (int i = 0; i < cnt; i++) {
        vae_tensor *t = vae_params_get(net->params, i);
        if ((strncmp(t->name, "dec.", 4) == 0) != (decoder != 0)) continue;
        int64_t off = vae_params_offset(net->params, i);
        for (int64_t j = off; j < off + vae_numel(t); j++) {
            double se = sqrt((a->var[j] + b->var[j]) / DRAWS);
            if (!(se > 1e-12)) continue; /* a gradient constant across draws carries no test */
            double z = fabs(a->mean[j] - b->mean[j]) / se;
            if (z > maxz) maxz = z;
            z2 += z * z;
            n++;
        }
    }
    z2 /= (double)(n ? n : 1);
    CHECK_MSG(n > 0 && maxz < 4.5, "%s: max |z| %.2f over %lld parameters", what, maxz,
              (long long)n);
    CHECK_MSG(z2 < 1.6, "%s: mean z^2 %.2f", what, z2);
    printf("%-40s max|z| %.2f  mean z^2 %.2f  (%lld params)\n", what, maxz, z2, (long long)n);
}

int main(void) {
    vae_ctx *ctx = vae_ctx_new(0);
    vae_net net;
    vae_net_cfg nc;
    vae_net_cfg_default(&nc);
    nc.x_dim = D;
    nc.z_dim = 2;
    nc.hidden[0] = 4;
    nc.act = VAE_ACT_TANH;
    nc.dtype = VAE_F64;
    vae_rng rng;
    vae_rng_seed(&rng, 11);
    vae_error err = {0};
    CHECK(vae_net_init(&net, &nc, &rng, &err) == VAE_OK);

    /* ELBO (Monte-Carlo KL form so STL and the score function target the same integrand), 2 samples */
    vae_objective_cfg c;
    vae_objective_cfg_default(&c);
    CHECK(vae_objective_parse_spec(&c, "vae:mc-kl=1,l=2", &err) == VAE_OK);
    est_stats rp, sf, sfma, sfv, stl;
    run(ctx, &net, &c, &rp);
    c.estimator = VAE_EST_STL;
    run(ctx, &net, &c, &stl);
    c.estimator = VAE_EST_SCORE;
    run(ctx, &net, &c, &sf);
    c.baseline = VAE_BASELINE_MA;
    run(ctx, &net, &c, &sfma);
    c.baseline = VAE_BASELINE_VIMCO;
    run(ctx, &net, &c, &sfv);
    agree(&net, &rp, &sf, 0, "elbo encoder: score vs reparam");
    agree(&net, &rp, &sfma, 0, "elbo encoder: score+ma vs reparam");
    agree(&net, &rp, &sfv, 0, "elbo encoder: score+vimco vs reparam");
    agree(&net, &rp, &stl, 0, "elbo encoder: stl vs reparam");
    agree(&net, &rp, &sf, 1, "elbo decoder: score vs reparam");
    CHECK_MSG(sf.row.group[VAE_STUDY_ENCODER].trace_cov.est > 3 * rp.row.group[VAE_STUDY_ENCODER].trace_cov.est, "score variance %.3g vs reparam %.3g",
              sf.row.group[VAE_STUDY_ENCODER].trace_cov.est, rp.row.group[VAE_STUDY_ENCODER].trace_cov.est);
    CHECK(sfv.row.group[VAE_STUDY_ENCODER].trace_cov.est < sf.row.group[VAE_STUDY_ENCODER].trace_cov.est); /* a baseline reduces the variance */
    printf("encoder mean variance: reparam %.3g  stl %.3g  score %.3g  score+ma %.3g  score+vimco "
           "%.3g\n",
           rp.row.group[VAE_STUDY_ENCODER].trace_cov.est, stl.row.group[VAE_STUDY_ENCODER].trace_cov.est, sf.row.group[VAE_STUDY_ENCODER].trace_cov.est, sfma.row.group[VAE_STUDY_ENCODER].trace_cov.est,
           sfv.row.group[VAE_STUDY_ENCODER].trace_cov.est);

    /* IWAE, K = 5 */
    vae_objective_cfg_default(&c);
    CHECK(vae_objective_parse_spec(&c, "iwae:k=5", &err) == VAE_OK);
    est_stats irp, idreg, isf;
    run(ctx, &net, &c, &irp);
    c.estimator = VAE_EST_DREG;
    run(ctx, &net, &c, &idreg);
    c.estimator = VAE_EST_SCORE;
    c.baseline = VAE_BASELINE_VIMCO;
    run(ctx, &net, &c, &isf);
    agree(&net, &irp, &idreg, 0, "iwae encoder: dreg vs reparam");
    agree(&net, &irp, &idreg, 1, "iwae decoder: dreg vs reparam");
    agree(&net, &irp, &isf, 0, "iwae encoder: score+vimco vs reparam");
    CHECK(idreg.row.group[VAE_STUDY_ENCODER].trace_cov.est < irp.row.group[VAE_STUDY_ENCODER].trace_cov.est); /* DReG's point */
    printf("iwae encoder SNR: reparam %.3f  dreg %.3f  score+vimco %.3f\n", irp.row.group[VAE_STUDY_ENCODER].mean_snr.est,
           idreg.row.group[VAE_STUDY_ENCODER].mean_snr.est, isf.row.group[VAE_STUDY_ENCODER].mean_snr.est);

    /* VR-alpha (alpha = 0.5, K = 5): the score function with VIMCO's signals of (1 - alpha) log w; MIWAE
     * (M = 2, K = 3): DReG within each group */
    vae_objective_cfg_default(&c);
    CHECK(vae_objective_parse_spec(&c, "vr:alpha=0.5,k=5", &err) == VAE_OK);
    est_stats vrp, vsf, mrp, mdreg;
    run(ctx, &net, &c, &vrp);
    c.estimator = VAE_EST_SCORE;
    c.baseline = VAE_BASELINE_VIMCO;
    run(ctx, &net, &c, &vsf);
    vae_objective_cfg_default(&c);
    CHECK(vae_objective_parse_spec(&c, "miwae:m=2,k=3", &err) == VAE_OK);
    run(ctx, &net, &c, &mrp);
    c.estimator = VAE_EST_DREG;
    run(ctx, &net, &c, &mdreg);
    agree(&net, &vrp, &vsf, 0, "vr encoder: score+vimco vs reparam");
    agree(&net, &vrp, &vsf, 1, "vr decoder: score+vimco vs reparam");
    agree(&net, &mrp, &mdreg, 0, "miwae encoder: dreg vs reparam");
    agree(&net, &mrp, &mdreg, 1, "miwae decoder: dreg vs reparam");
    CHECK(mdreg.row.group[VAE_STUDY_ENCODER].trace_cov.est < mrp.row.group[VAE_STUDY_ENCODER].trace_cov.est);
    CHECK(strcmp(vrp.row.objective, "vr") == 0); /* the study row names its bound (defaults) */

    est_stats *all[] = {&rp, &sf, &sfma, &sfv, &stl, &irp, &idreg, &isf, &vrp, &vsf, &mrp, &mdreg};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]->mean), free(all[i]->var);
    vae_net_free(&net);
    vae_ctx_free(ctx);
    return test_finish();
}
