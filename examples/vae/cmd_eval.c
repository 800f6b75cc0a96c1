/* vae eval - IS log-likelihood, ELBO and parts, KL per dim, active units, and MIG on sprites. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "models/discrete.h"
#include "families.h"
#include "json.h"
#include "models/mig.h"
#include "models/eval.h"
#include "options.h"
#include "ranks.h"

#define CMD        "eval"
#define EVAL_CHUNK 100

int cli_evaluate(vae_ctx *ctx, vae_net *net, const float *x, int64_t n, int64_t is_samples,
                 progress *p, cli_eval_sums *out, double *kl_per_dim, double *ex_elbo,
                 double *ex_loglik, char *msg, size_t msglen) {
    return cli_evaluate_ex(ctx, net, x, n, is_samples, 1, 0, p, out, kl_per_dim, ex_elbo, ex_loglik,
                           NULL, msg, msglen);
}

/* sd / sqrt(n) of v[0..n) (sd with n - 1); NAN for n < 2 */
static double std_error(const double *v, int64_t n) {
    if (n < 2) return NAN;
    double m = 0, s = 0;
    for (int64_t i = 0; i < n; i++) m += v[i];
    m /= (double)n;
    for (int64_t i = 0; i < n; i++) s += (v[i] - m) * (v[i] - m);
    return sqrt(s / (double)(n - 1) / (double)n);
}

int cli_evaluate_ex(vae_ctx *ctx, vae_net *net, const float *x, int64_t n, int64_t is_samples,
                    int64_t elbo_samples, int64_t weight_samples, progress *p, cli_eval_sums *out,
                    double *kl_per_dim, double *ex_elbo, double *ex_loglik, double *ex_loglik_se,
                    char *msg, size_t msglen) {
    int64_t Z = vae_net_latent_dim(net), D = net->cfg.x_dim;
    vae_eval_cfg ec;
    vae_eval_cfg_default(&ec);
    ec.is_samples = is_samples;
    ec.elbo_samples = elbo_samples;
    ec.weight_samples = weight_samples;
    memset(out, 0, sizeof *out);
    /* a conditional net: the labels set for x's n rows (family_prepare), handed on chunk by chunk */
    const int64_t *y = net->labels;
    int64_t ny = net->nlabels;
    if (vae_net_conditional(net) && (!y || ny < n)) {
        snprintf(msg, msglen, "a conditional VAE: no labels for the %lld examples", (long long)n);
        return -1;
    }
    /* the standard errors across examples need every example's value: the caller's arrays or ours */
    double *own = NULL;
    if (!ex_elbo || !ex_loglik) {
        own = malloc(sizeof(double) * (size_t)(2 * n));
        if (!own) {
            snprintf(msg, msglen, "out of memory");
            return -1;
        }
        if (!ex_elbo) ex_elbo = own;
        if (!ex_loglik) ex_loglik = own + n;
    }
    for (int64_t j = 0; j < Z; j++) kl_per_dim[j] = 0;
    /* Sharded over ranks (ranks.h) by chunks: chunk c draws from its own stream (seeded from ctx's RNG and c), and
     * the chunks' results are summed in chunk order, so any rank count gives the one-process bits. */
    int64_t nc = (n + EVAL_CHUNK - 1) / EVAL_CHUNK, W = 4 + Z, c0, c1;
    ranks_range(nc, ranks_rank(), ranks_size(), &c0, &c1);
    uint64_t base = vae_rng_u64(vae_ctx_rng(ctx));
    double *row = calloc((size_t)(nc * W + 1), sizeof *row);
    int64_t *cnt = malloc(sizeof(int64_t) * (size_t)ranks_size());
    if (!row || !cnt) {
        free(row), free(cnt), free(own);
        snprintf(msg, msglen, "out of memory");
        return -1;
    }
    for (int64_t c = c0; c < c1; c++) {
        int64_t i0 = c * EVAL_CHUNK, m = n - i0 < EVAL_CHUNK ? n - i0 : EVAL_CHUNK;
        vae_eval_result r;
        vae_ctx_seed(ctx, base + (uint64_t)c * 0x9e3779b97f4a7c15ULL);
        if (y) vae_net_set_labels(net, y + i0, m, NULL);
        if (vae_evaluate_ex(ctx, net, x + i0 * D, m, &ec, &r, ex_elbo + i0, ex_loglik + i0,
                            ex_loglik_se ? ex_loglik_se + i0 : NULL)) {
            snprintf(msg, msglen, "%s", vae_ctx_message(ctx));
            vae_ctx_clear_error(ctx);
            free(row), free(cnt), free(own);
            return -1;
        }
        double *w = row + c * W;
        w[0] = r.loglik * (double)m, w[1] = r.elbo * (double)m, w[2] = r.rec * (double)m,
        w[3] = r.kl * (double)m;
        for (int64_t j = 0; j < Z; j++) w[4 + j] = r.kl_per_dim[j] * (double)m;
        vae_eval_result_free(&r);
        if (p) progress_count(p, "evaluating", i0 + m, n);
    }
    if (y) vae_net_set_labels(net, y, ny, NULL);
    int rc = 0;
    for (int k = 0; k < ranks_size(); k++) {
        int64_t a, b;
        ranks_range(nc, k, ranks_size(), &a, &b);
        cnt[k] = (b - a) * W;
    }
    rc |= ranks_gather(row + c0 * W, row, cnt, sizeof(double), 0);
    for (int k = 0; k < ranks_size(); k++) {
        int64_t a, b;
        ranks_range(nc, k, ranks_size(), &a, &b);
        cnt[k] = (b * EVAL_CHUNK < n ? b * EVAL_CHUNK : n) - a * EVAL_CHUNK;
    }
    int64_t e0 = c0 * EVAL_CHUNK;
    rc |= ranks_gather(ex_elbo + e0, ex_elbo, cnt, sizeof(double), 0);
    rc |= ranks_gather(ex_loglik + e0, ex_loglik, cnt, sizeof(double), 0);
    if (ex_loglik_se) rc |= ranks_gather(ex_loglik_se + e0, ex_loglik_se, cnt, sizeof(double), 0);
    for (int64_t c = 0; c < nc; c++) {
        const double *w = row + c * W;
        out->loglik += w[0], out->elbo += w[1], out->rec += w[2], out->kl += w[3];
        for (int64_t j = 0; j < Z; j++) kl_per_dim[j] += w[4 + j];
    }
    free(row), free(cnt);
    if (rc) {
        free(own);
        snprintf(msg, msglen, "gathering the ranks' results failed");
        return -1;
    }
    out->loglik /= (double)n, out->elbo /= (double)n, out->rec /= (double)n, out->kl /= (double)n;
    for (int64_t j = 0; j < Z; j++) kl_per_dim[j] /= (double)n;
    out->elbo_se = std_error(ex_elbo, n);
    out->loglik_se = is_samples > 0 ? std_error(ex_loglik, n) : NAN;
    if (is_samples <= 0) out->loglik = NAN;
    free(own);
    if (p) progress_clear(p);
    return 0;
}

int cmd_eval(int argc, char **argv) {
    const char *run_dir = NULL, *ckpt = NULL, *data = NULL, *split = NULL, *labels = NULL,
               *max_memory = NULL;
    int64_t K = 5000, nmax = 0, seed = 1, threads = 0, L = 1, S = -1, exact_max = VAE_DISCRETE_MAX_ENUM;
    int quiet = 0;
    cli_opt tab[] = {
        CLI_OPT_PLUGIN,
        CLI_OPT_RUN(&run_dir),
        CLI_OPT_CHECKPOINT(&ckpt),
        {"data", "SPEC", CLI_OPT_STR, &data, 0, 0, NULL,
         "evaluate on other data (same feature count; default: the run's)", 0},
        CLI_OPT_SPLIT(&split),
        CLI_OPT_LABELS(&labels),
        {"is-samples", "K", CLI_OPT_INT, &K, 0, 1000000, NULL,
         "importance samples for log p(x) (5000; 0 = skip)", 0},
        {"elbo-samples", "L", CLI_OPT_INT, &L, 1, 100000, NULL,
         "samples z ~ q(z|x) per example for the ELBO (1)", 0},
        {"weight-samples", "S", CLI_OPT_INT, &S, 1, 100000, NULL,
         "a full-VB decoder (--bayes-decoder): log p(x) = log mean over S draws of theta (10)", 0},
        {"n", "N", CLI_OPT_INT, &nmax, 0, 1e12, NULL,
         "evaluate only the first N examples (all; the summary then says \"subset\": true)", 0},
        {"exact-max", "M", CLI_OPT_INT, &exact_max, 0, VAE_DISCRETE_MAX_ENUM, NULL,
         "discrete latents with at most M configurations (C^N or 2^N): also the exact log p(x) by "
         "summation (65536; 0 = off)",
         0},
        {"seed", "S", CLI_OPT_INT, &seed, 0, 9.2e18, NULL, "random seed of the estimates (1)", 0},
        CLI_OPT_THREADS(&threads),
        CLI_OPT_QUIET(&quiet),
        CLI_OPT_MAX_MEMORY(&max_memory),
    };
    int ntab = (int)(sizeof tab / sizeof *tab);
    int rc = cli_parse(
        CMD, argc, argv, tab, ntab, "--run DIR [OPTIONS]",
        "Importance-sampled log-likelihood (Burda et al.), ELBO and its parts, KL per latent dim,\n"
        "active units, and on sprites the mutual information gap (Chen et al. 2018). loglik_se "
        "and\n"
        "elbo_se are the standard errors of the two means across examples (sd / sqrt(n)).");
    if (rc == CLI_PARSE_HELP) return CLI_EXIT_OK;
    if (rc) return CLI_EXIT_USAGE;
    if (cli_set_max_memory(CMD, max_memory)) return CLI_EXIT_USAGE;
    cli_set_quiet(quiet);
    double t0 = clock_now();
    cli_set_threads(threads);
    run r;
    run_data d;
    const vae_dataset *ds;
    if ((rc = cli_open_run_data(CMD, run_dir, ckpt, data, labels, split, &r, &d, &ds))) return rc;
    char msg[512];
    if (S > 0 && !r.net.bayes) {
        run_data_free(&d);
        run_close(&r);
        return cli_usage_error(
            CMD, "--weight-samples applies to a full-VB decoder (vae train --bayes-decoder)");
    }
    if (S < 0) S = r.net.bayes ? 10 : 0;
    vae_ctx *ctx = vae_ctx_new(0);
    int64_t Z = vae_net_latent_dim(&r.net), n = ds->n, dims[VAE_NET_MAX_STOCH];
    int nlayers = vae_net_stoch_layers(&r.net, dims), layer_active[VAE_NET_MAX_STOCH] = {0};
    if (nmax > 0 && nmax < n) n = nmax;
    if (cli_check_memory(CMD, "the evaluation", cli_data_bytes(&d), cli_net_bytes(&r.net, 0),
                         cli_eval_work(&r.net, n, K, L))) {
        vae_ctx_free(ctx);
        run_data_free(&d);
        run_close(&r);
        return CLI_EXIT_ERROR;
    }
    if (n < ds->n && !quiet)
        fprintf(stderr, "vae eval: a subset: the first %lld of %lld examples (--n)\n", (long long)n,
                (long long)ds->n);
    int64_t M = vae_discrete_num_configs(&r.net); /* -1: Gaussian, or too many to enumerate */
    int exact = M > 0 && M <= exact_max && ranks_size() == 1;
    double *ex_ll = exact ? malloc(sizeof(double) * (size_t)n * 2) : NULL, *ex_is = ex_ll ? ex_ll + n : NULL;
    double ll_exact = NAN, ll_exact_se = NAN, gap = NAN, gap_se = NAN;
    double *kl = malloc(sizeof(double) * (size_t)Z), *per_factor = NULL;
    float *mu = malloc(sizeof(float) * (size_t)(n * Z));
    int exit_code = CLI_EXIT_ERROR;
    if (!ctx || !kl || !mu || (exact && !ex_ll)) {
        cli_error(CMD, "out of memory");
        goto done;
    }
    vae_ctx_seed(ctx, (uint64_t)seed);
    if (family_prepare(&r.net, ds, n, 0, msg, sizeof msg)) { /* a conditional VAE: log p(x|y) */
        cli_error(CMD, "%s", msg);
        goto done;
    }
    progress p;
    progress_init(&p, 0, n, 0, quiet || ranks_rank() > 0);
    cli_eval_sums s;
    if (cli_evaluate_ex(ctx, &r.net, ds->x, n, K, L, S, &p, &s, kl, NULL, ex_is, NULL, msg,
                        sizeof msg)) {
        cli_error(CMD, "%s", msg);
        goto done;
    }
    /* discrete latents, small space: log p(x) = logsumexp_z log p(x, z) exactly, and the IS estimate's error */
    if (exact && vae_discrete_exact_loglik(ctx, &r.net, ds->x, n, 0, ex_ll)) {
        cli_error(CMD, "exact log p(x): %s", vae_ctx_message(ctx));
        goto done;
    }
    if (exact) {
        double a1 = 0, a2 = 0, d1 = 0, d2 = 0;
        for (int64_t i = 0; i < n; i++) {
            double dd = ex_is[i] - ex_ll[i];
            a1 += ex_ll[i], a2 += ex_ll[i] * ex_ll[i], d1 += dd, d2 += dd * dd;
        }
        ll_exact = a1 / (double)n, gap = d1 / (double)n;
        if (n > 1) {
            ll_exact_se = sqrt(fmax(0, (a2 - a1 * ll_exact) / (double)(n - 1)) / (double)n);
            gap_se = sqrt(fmax(0, (d2 - d1 * gap) / (double)(n - 1)) / (double)n);
        }
    }
    if (ranks_rank() > 0) { /* rank 0 reports */
        exit_code = CLI_EXIT_OK;
        goto done;
    }
    if (vae_encode_all(ctx, &r.net, ds->x, n, 500, mu, NULL)) {
        cli_error(CMD, "%s", vae_ctx_message(ctx));
        goto done;
    }
    /* active units (Burda et al.): Var_x E_q[z_j | x] > 0.01; per stochastic layer (z = concat(z1, z2)), with
     * E_q[z2|x] = E_q(z1|x)[mu2(z1)] from vae_encode_all */
    int active = 0;
    for (int64_t j = 0; j < Z; j++) {
        double s1 = 0, s2 = 0;
        for (int64_t i = 0; i < n; i++)
            s1 += mu[i * Z + j], s2 += (double)mu[i * Z + j] * mu[i * Z + j];
        double var = s2 / (double)n - (s1 / (double)n) * (s1 / (double)n);
        active += var > 0.01;
        layer_active[j < dims[0] ? 0 : 1] += var > 0.01;
    }
    double mig = NAN;
    if (ds->nfactors > 0 && ds->factors && Z >= 2) {
        per_factor = malloc(sizeof(double) * (size_t)ds->nfactors);
        vae_error merr = {0};
        if (!per_factor) vae_error_set(&merr, VAE_ERR_OOM, "mig: out of memory");
        if (!per_factor || vae_mig(mu, n, Z, ds->factors, ds->nfactors, ds->factor_sizes,
                                   VAE_MIG_BINS, per_factor, &mig, &merr)) {
            cli_error(CMD, "MIG: %s", merr.msg);
            goto done;
        }
    }
    json j;
    json_init(&j);
    json_begin(&j, NULL);
    json_str(&j, "command", "eval");
    json_str(&j, "checkpoint", r.ckpt);
    json_str(&j, "data", data ? data : r.cfg.data);
    json_str(&j, "split", ds == &d.test ? "test" : ds == &d.valid ? "valid" : "train");
    json_int(&j, "n", n);
    json_int(&j, "n_total", ds->n);
    json_bool(&j, "subset", n < ds->n);
    json_int(&j, "is_samples", K);
    json_int(&j, "elbo_samples", L);
    if (r.net
            .bayes) { /* and KL(q(theta) || p(theta)) in nats: the data set's bound is sum_i ELBO_i - weight_kl */
        json_int(&j, "weight_samples", S);
        vae_ctx_reset(ctx);
        json_num(&j, "weight_kl", vae_item(vae_net_weight_kl(ctx, &r.net)));
    }
    if (vae_net_conditional(&r.net)) json_bool(&j, "conditional", 1); /* loglik is log p(x|y) */
    json_num(&j, "loglik", s.loglik);
    json_num(&j, "loglik_se", s.loglik_se);
    if (exact) {
        json_int(&j, "latent_configs", M);
        json_num(&j, "loglik_exact", ll_exact);
        json_num(&j, "loglik_exact_se", ll_exact_se);
        if (K > 0) { /* mean over examples of (IS - exact), and its standard error */
            json_num(&j, "is_minus_exact", gap);
            json_num(&j, "is_minus_exact_se", gap_se);
        }
    }
    json_num(&j, "elbo", s.elbo);
    json_num(&j, "elbo_se", s.elbo_se);
    json_num(&j, "rec", s.rec);
    json_num(&j, "kl", s.kl);
    json_num_array(&j, "kl_per_dim", kl, Z);
    json_int(&j, "active_units", active);
    json_int(&j, "latent", Z);
    if (nlayers > 1) { /* z1's and z2's */
        json_begin_array(&j, "latent_per_layer");
        for (int l = 0; l < nlayers; l++) json_int(&j, NULL, dims[l]);
        json_end_array(&j);
        json_begin_array(&j, "active_units_per_layer");
        for (int l = 0; l < nlayers; l++) json_int(&j, NULL, layer_active[l]);
        json_end_array(&j);
    }
    if (per_factor) {
        json_num(&j, "mig", mig);
        json_begin(&j, "mig_per_factor");
        for (int k = 0; k < ds->nfactors; k++) json_num(&j, ds->factor_names[k], per_factor[k]);
        json_end(&j);
    }
    json_num(&j, "seconds", clock_now() - t0);
    json_end(&j);
    json_print(&j, stdout);
    json_free(&j);
    exit_code = CLI_EXIT_OK;
done:
    free(kl), free(mu), free(per_factor), free(ex_ll);
    vae_ctx_free(ctx);
    run_data_free(&d);
    run_close(&r);
    return exit_code;
}
