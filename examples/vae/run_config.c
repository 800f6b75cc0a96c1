#include "tensor/strbuf.h"
#include "run_config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/discrete.h"
#include "models/flow_prior.h"
#include "models/likelihood.h"

static int act_parse(const char *s) {
    return vae_model_act_parse(s);
}

static int one_of(const char *s, const char *const *list, int n) {
    for (int i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0) return i;
    return -1;
}

static const char *const binarize_names[] = {"dynamic", "threshold", "none"};
static const char *const dtype_names[] = {"f32", "f64"};
static const char *const optim_names[] = {"adam", "adamw", "sgd", "adagrad"};
static const char *const sched_names[] = {"constant", "step", "cosine", "burda"};

void run_config_default(run_config *c) {
    memset(c, 0, sizeof *c);
    snprintf(c->data, sizeof c->data, "sprites");
    c->valid_fraction = 0.1;
    snprintf(c->binarize, sizeof c->binarize, "none");
    c->seed = 1;
    snprintf(c->model, sizeof c->model, "vae");
    snprintf(c->likelihood, sizeof c->likelihood, "bernoulli");
    c->latent = 10;
    c->nhidden = 1;
    c->hidden[0] = 256;
    snprintf(c->activation, sizeof c->activation, "relu");
    snprintf(c->dtype, sizeof c->dtype, "f32");
    snprintf(c->cond_prior, sizeof c->cond_prior, "learned");
    c->prior_scale = 1.0;
    c->samples = 1;
    c->beta = 1.0;
    snprintf(c->estimator, sizeof c->estimator, "reparam");
    snprintf(c->baseline, sizeof c->baseline, "none");
    snprintf(c->latent_kind, sizeof c->latent_kind, "gaussian");
    c->temperature = 1.0, c->temp_min = 0.5;
    snprintf(c->optimizer, sizeof c->optimizer, "adam");
    c->lr = 1e-3;
    snprintf(c->schedule, sizeof c->schedule, "constant");
    c->lr_gamma = 0.1;
    c->batch = 100;
    c->epochs = 60;
    snprintf(c->net, sizeof c->net, "mlp");
}

void run_config_free(run_config *c) {
    free(c->col_mean);
    free(c->col_std);
    c->col_mean = c->col_std = NULL;
    c->nstd = 0;
}

int run_config_copy(run_config *dst, const run_config *src) {
    *dst = *src;
    dst->col_mean = dst->col_std = NULL;
    if (src->nstd > 0) {
        dst->col_mean = malloc(sizeof(double) * (size_t)src->nstd);
        dst->col_std = malloc(sizeof(double) * (size_t)src->nstd);
        if (!dst->col_mean || !dst->col_std) {
            run_config_free(dst);
            return -1;
        }
        memcpy(dst->col_mean, src->col_mean, sizeof(double) * (size_t)src->nstd);
        memcpy(dst->col_std, src->col_std, sizeof(double) * (size_t)src->nstd);
    }
    return 0;
}

static int fail(char *msg, size_t n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static int fail(char *msg, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (msg && n) vsnprintf(msg, n, fmt, ap);
    va_end(ap);
    return -1;
}

#define RANGE_I(field, lo, hi)                                                                     \
    if (c->field < (lo) || c->field > (hi))                                                        \
        return fail(msg, n, #field ": %" PRId64 " is out of range %" PRId64 "..%" PRId64,          \
                    (int64_t)c->field, (int64_t)(lo), (int64_t)(hi));
#define RANGE_D(field, lo, hi)                                                                     \
    if (!(c->field >= (lo) && c->field <= (hi)))                                                   \
        return fail(msg, n, #field ": %g is out of range %g..%g", c->field, (double)(lo),          \
                    (double)(hi));

int run_config_check(const run_config *c, char *msg, size_t n) {
    if (!c->data[0]) return fail(msg, n, "data: empty spec");
    RANGE_I(n_train, 0, INT64_C(1) << 40)
    RANGE_D(valid_fraction, 0, 0.5)
    RANGE_I(label_column, 0, RUN_MAX_COLUMNS)
    if (one_of(c->binarize, binarize_names, 3) < 0)
        return fail(msg, n, "binarize: unknown \"%s\"", c->binarize);
    RANGE_I(seed, 0, INT64_MAX)
    if (!vae_likelihood_find(c->likelihood))
        return fail(msg, n, "likelihood: unknown \"%s\" (see 'vae train --help')", c->likelihood);
    RANGE_D(lik_param, 0, 1e6)
    RANGE_I(latent, 1, 4096)
    RANGE_I(nhidden, 0, RUN_MAX_HIDDEN)
    for (int i = 0; i < c->nhidden; i++)
        if (c->hidden[i] < 1 || c->hidden[i] > 65536)
            return fail(msg, n, "hidden: layer size %" PRId64 " is out of range 1..65536",
                        c->hidden[i]);
    RANGE_I(latent2, 0, 4096)
    RANGE_I(nhidden2, 0, RUN_MAX_HIDDEN)
    for (int i = 0; i < c->nhidden2; i++)
        if (c->hidden2[i] < 1 || c->hidden2[i] > 65536)
            return fail(msg, n, "hidden2: layer size %" PRId64 " is out of range 1..65536",
                        c->hidden2[i]);
    if (act_parse(c->activation) < 0)
        return fail(msg, n, "activation: unknown \"%s\"", c->activation);
    if (strcmp(c->net, "mlp") && strcmp(c->net, "conv"))
        return fail(msg, n, "net: unknown \"%s\" (mlp or conv)", c->net);
    if (!strcmp(c->net, "conv") && c->tabular)
        return fail(msg, n, "net: conv needs image data (h x w x c); this data is tabular");
    int discrete = c->latent_kind[0] && strcmp(c->latent_kind, "gaussian");
    if (!strcmp(c->net, "conv") && (c->latent2 || c->flow[0] || c->prior[0] || discrete))
        return fail(msg, n, "net: conv has one Gaussian latent with N(0, I): not with %s (use --net mlp)",
                    c->latent2    ? "--layers 2"
                    : c->flow[0]  ? "--flow"
                    : c->prior[0] ? "--prior"
                                  : "discrete latents (--latent-kind)");
    if ((c->classes || c->bayes_decoder) && (!strcmp(c->net, "conv") || c->latent2 || c->flow[0] || c->prior[0] || discrete))
        return fail(msg, n, "%s takes the MLP net with one Gaussian latent: not with %s",
                    c->classes ? "the conditional VAE" : "--bayes-decoder",
                    !strcmp(c->net, "conv") ? "--net conv"
                    : c->latent2            ? "--layers 2"
                    : c->flow[0]            ? "--flow"
                    : c->prior[0]           ? "--prior"
                                            : "discrete latents (--latent-kind)");
    RANGE_I(conv_ch[0], 0, 4096)
    RANGE_I(conv_ch[1], 0, 4096)
    RANGE_I(nconv_hidden, 0, RUN_MAX_HIDDEN)
    for (int i = 0; i < c->nconv_hidden; i++)
        if (c->conv_hidden[i] < 1 || c->conv_hidden[i] > 65536)
            return fail(msg, n, "conv_hidden: layer size %" PRId64 " is out of range 1..65536",
                        c->conv_hidden[i]);
    if (c->nconv_hidden && strcmp(c->net, "conv"))
        return fail(msg, n, "conv_hidden: only with net conv");
    if (one_of(c->dtype, dtype_names, 2) < 0)
        return fail(msg, n, "dtype: unknown \"%s\"", c->dtype);
    RANGE_I(classes, 0, 100000)
    if (strcmp(c->cond_prior, "learned") && strcmp(c->cond_prior, "normal"))
        return fail(msg, n, "cond_prior: unknown \"%s\"", c->cond_prior);
    RANGE_I(bayes_decoder, 0, 1)
    RANGE_I(local_reparam, 0, 1)
    RANGE_D(prior_scale, 0, 1e6)
    RANGE_I(samples, 1, 100000)
    RANGE_D(beta, 0, 1e6)
    RANGE_I(kl_warmup, 0, INT64_C(1) << 40)
    RANGE_D(free_bits, 0, 1e6)
    RANGE_D(cap_gamma, 0, 1e6)
    RANGE_D(cap_max, 0, 1e6)
    RANGE_I(cap_steps, 0, INT64_C(1) << 40)
    if (vae_estimator_parse(c->estimator) < 0)
        return fail(msg, n, "estimator: unknown \"%s\"", c->estimator);
    if (vae_baseline_parse(c->baseline) < 0)
        return fail(msg, n, "baseline: unknown \"%s\"", c->baseline);
    if (one_of(c->optimizer, optim_names, 4) < 0)
        return fail(msg, n, "optimizer: unknown \"%s\"", c->optimizer);
    if (!(c->lr > 0 && c->lr <= 10)) return fail(msg, n, "lr: %g is out of range (0, 10]", c->lr);
    if (one_of(c->schedule, sched_names, 4) < 0)
        return fail(msg, n, "schedule: unknown \"%s\"", c->schedule);
    RANGE_I(warmup, 0, INT64_C(1) << 40)
    RANGE_I(lr_decay_every, 0, INT64_C(1) << 40)
    RANGE_D(lr_gamma, 1e-6, 1)
    RANGE_D(weight_decay, 0, 1e3)
    RANGE_D(adam_beta1, 0, 0.999999)
    RANGE_D(adam_beta2, 0, 0.999999)
    RANGE_D(opt_eps, 0, 1)
    RANGE_D(clip_norm, 0, 1e12)
    RANGE_I(batch, 1, 1000000)
    RANGE_I(epochs, 1, 10000000)
    RANGE_I(x_dim, 0, INT64_C(1) << 30)
    if (c->h < 0 || c->w < 0 || c->c < 0 || c->h > 65536 || c->w > 65536 || c->c > 4)
        return fail(msg, n, "geometry: %dx%dx%d is out of range", c->h, c->w, c->c);
    if (c->x_dim > 0 && c->h > 0 && (int64_t)c->h * c->w * c->c != c->x_dim)
        return fail(msg, n, "geometry: %dx%dx%d does not make %" PRId64 " features", c->h, c->w,
                    c->c, c->x_dim);
    if (c->scaled && !(isfinite(c->scale_lo) && isfinite(c->scale_hi) && c->scale_hi > c->scale_lo))
        return fail(msg, n, "scale: bad range [%g, %g]", c->scale_lo, c->scale_hi);
    if (c->nstd && c->nstd != c->x_dim)
        return fail(msg, n, "col_mean: %" PRId64 " columns for %" PRId64 " features", c->nstd,
                    c->x_dim);
    for (int64_t j = 0; j < c->nstd; j++)
        if (!isfinite(c->col_mean[j]) || !(c->col_std[j] > 0) || !isfinite(c->col_std[j]))
            return fail(msg, n, "col_std: column %" PRId64 " has a bad standardization", j);
    RANGE_I(epochs_done, 0, c->epochs)
    RANGE_I(batch_in_epoch, 0, INT64_C(1) << 40)
    RANGE_I(step, 0, INT64_C(1) << 50)
    RANGE_I(obj_step, 0, INT64_C(1) << 50)
    if (!isfinite(c->obj_baseline) || !isfinite(c->part_bound) || !isfinite(c->part_rec) ||
        !isfinite(c->part_kl) || !isfinite(c->part_elbo) || !(c->elapsed >= 0 && c->elapsed < 1e12))
        return fail(msg, n, "state: a saved running value is not finite");
    vae_net_cfg nc;
    vae_net_cfg_default(&nc);
    vae_error err = {0};
    if (vae_latent_kind_parse(&nc, c->latent_kind, &err)) return fail(msg, n, "%s", err.msg);
    if (nc.latent_kind != VAE_LATENT_GAUSSIAN && nc.z_dim != c->latent)
        return fail(msg, n, "latent: %" PRId64 " does not match latent kind %s (%" PRId64 " units)", c->latent,
                    c->latent_kind, nc.z_dim);
    RANGE_I(baseline_hidden, 0, 65536)
    vae_objective_cfg oc;
    if (run_config_objective(c, 0, &oc, msg, n)) return -1;
    if (vae_objective_check(&oc, &err)) return fail(msg, n, "%s", err.msg);
    /* a flow or prior, and whether the estimator can train it; the estimator against the latents (the net's
     * configuration alone, no weights yet) */
    vae_net stub;
    memset(&stub, 0, sizeof stub);
    run_config_net_cfg(c, &stub.cfg);
    if (vae_net_family_check(&stub.cfg, oc.estimator, &err)) return fail(msg, n, "%s", err.msg);
    stub.bl.nlayers = c->baseline_hidden > 0 ? 2 : 0;
    if (vae_objective_check_net(&oc, &stub, &err)) return fail(msg, n, "%s", err.msg);
    return 0;
}

/* ---- text form ---- */

typedef enum { K_STR, K_I64, K_INT, K_F64, K_RNG } key_type;
typedef struct key_def {
    const char *key;
    key_type type;
    size_t off, size;
    int legacy; /* read from older files, not written (the objective spec replaced it) */
} key_def;

#define KS(name)                                                                                   \
    { #name, K_STR, offsetof(run_config, name), sizeof(((run_config *)0)->name), 0 }
#define KI(name)                                                                                   \
    { #name, K_I64, offsetof(run_config, name), 0, 0 }
#define KN(name)                                                                                   \
    { #name, K_INT, offsetof(run_config, name), 0, 0 }
#define KD(name)                                                                                   \
    { #name, K_F64, offsetof(run_config, name), 0, 0 }
/* legacy keys: read, not written */
#define LI(name)                                                                                   \
    { #name, K_I64, offsetof(run_config, name), 0, 1 }
#define LN(name)                                                                                   \
    { #name, K_INT, offsetof(run_config, name), 0, 1 }
#define LD(name)                                                                                   \
    { #name, K_F64, offsetof(run_config, name), 0, 1 }
#define KR(name)                                                                                   \
    { #name, K_RNG, offsetof(run_config, name), 0, 0 }

/* The training keys; the model's keys are written and read by models/model.c. */
static const key_def keys[] = {
    KS(data),
    KI(n_train),
    KI(label_column),
    KD(valid_fraction),
    KI(seed),
    LI(samples),
    LD(beta),
    LI(kl_warmup),
    LD(free_bits),
    LD(cap_gamma),
    LD(cap_max),
    LI(cap_steps),
    LN(mc_kl),
    KN(n_over_m),
    KS(optimizer),
    KD(lr),
    KS(schedule),
    KI(warmup),
    KI(lr_decay_every),
    KD(lr_gamma),
    KD(weight_decay),
    KD(clip_norm),
    KD(adam_beta1),
    KD(adam_beta2),
    KD(opt_eps),
    KD(temperature),
    KD(temp_anneal),
    KD(temp_min),
    KN(straight_through),
    KI(batch),
    KI(epochs),
    KI(epochs_done),
    KI(batch_in_epoch),
    KI(step),
    KR(rng_ctx),
    KR(rng_data),
    KI(obj_step),
    KD(obj_baseline),
    KN(obj_baseline_ready),
    KD(part_bound),
    KD(part_rec),
    KD(part_kl),
    KD(part_elbo),
    KD(elapsed),
};
#define NKEYS ((int)(sizeof keys / sizeof *keys))

void run_config_model_desc(const run_config *c, vae_model_desc *d) {
    vae_model_desc_default(d);
    run_config_net_cfg(c, &d->net);
    snprintf(d->model, sizeof d->model, "%s", c->model);
    snprintf(d->objective, sizeof d->objective, "%s", c->objective);
    snprintf(d->estimator, sizeof d->estimator, "%s", c->estimator);
    snprintf(d->baseline, sizeof d->baseline, "%s", c->baseline);
    vae_model_data *x = &d->data;
    x->h = c->h, x->w = c->w, x->c = c->c, x->tabular = c->tabular;
    snprintf(x->binarize, sizeof x->binarize, "%s", c->binarize);
    x->scaled = c->scaled, x->scale_lo = c->scale_lo, x->scale_hi = c->scale_hi;
    x->nstd = c->nstd, x->col_mean = c->col_mean, x->col_std = c->col_std;
    d->nplugins = c->nplugins;
    memcpy(d->plugins, c->plugins, sizeof d->plugins);
}

/* Copy d's fields back into c, taking over its standardization arrays; -1 with msg when a string
 * does not fit. */
static int from_model_desc(run_config *c, vae_model_desc *d, char *msg, size_t n) {
    const vae_net_cfg *nc = &d->net;
    if (strlen(d->model) >= sizeof c->model || strlen(d->objective) >= sizeof c->objective ||
        strlen(d->estimator) >= sizeof c->estimator || strlen(d->baseline) >= sizeof c->baseline ||
        strlen(nc->likelihood) >= sizeof c->likelihood)
        return fail(msg, n, "model/estimator/baseline/likelihood: value too long");
    c->x_dim = nc->x_dim;
    c->latent = nc->z_dim;
    c->nhidden = nc->nhidden;
    for (int i = 0; i < nc->nhidden; i++) c->hidden[i] = nc->hidden[i];
    c->latent2 = nc->z2_dim;
    c->nhidden2 = nc->nhidden2;
    for (int i = 0; i < nc->nhidden2; i++) c->hidden2[i] = nc->hidden2[i];
    snprintf(c->activation, sizeof c->activation, "%s", vae_model_act_name(nc->act));
    snprintf(c->dtype, sizeof c->dtype, "%s", nc->dtype == VAE_F64 ? "f64" : "f32");
    snprintf(c->likelihood, sizeof c->likelihood, "%s", nc->likelihood);
    c->lik_param = nc->lik_opts[0];
    snprintf(c->flow, sizeof c->flow, "%s", nc->flow);
    snprintf(c->prior, sizeof c->prior, "%s", nc->prior);
    vae_latent_kind_spec(nc, c->latent_kind, sizeof c->latent_kind);
    c->baseline_hidden = nc->baseline_hidden;
    c->classes = nc->n_classes;
    snprintf(c->cond_prior, sizeof c->cond_prior, "%s",
             nc->cond_prior == VAE_COND_PRIOR_NORMAL ? "normal" : "learned");
    c->bayes_decoder = nc->bayes_decoder, c->local_reparam = nc->local_reparam;
    c->prior_scale = nc->bayes_decoder ? nc->prior_scale : 1.0;
    snprintf(c->model, sizeof c->model, "%s", d->model);
    snprintf(c->objective, sizeof c->objective, "%s", d->objective);
    snprintf(c->estimator, sizeof c->estimator, "%s", d->estimator);
    snprintf(c->baseline, sizeof c->baseline, "%s", d->baseline);
    const vae_model_data *x = &d->data;
    c->h = x->h, c->w = x->w, c->c = x->c, c->tabular = x->tabular;
    snprintf(c->binarize, sizeof c->binarize, "%s", x->binarize);
    c->scaled = x->scaled, c->scale_lo = x->scale_lo, c->scale_hi = x->scale_hi;
    run_config_free(c);
    c->nstd = x->nstd, c->col_mean = x->col_mean, c->col_std = x->col_std;
    d->data.col_mean = d->data.col_std = NULL;
    d->data.nstd = 0;
    c->nplugins = d->nplugins;
    memcpy(c->plugins, d->plugins, sizeof c->plugins);
    snprintf(c->net, sizeof c->net, "%s", nc->net[0] ? nc->net : "mlp");
    c->conv_ch[0] = nc->conv_ch[0], c->conv_ch[1] = nc->conv_ch[1];
    c->nconv_hidden = nc->nconv_hidden;
    for (int i = 0; i < nc->nconv_hidden; i++) c->conv_hidden[i] = nc->conv_hidden[i];
    return 0;
}

int run_config_to_text(const run_config *c, char **text, size_t *len) {
    vae_model_desc d;
    run_config_model_desc(c, &d);
    vae_strbuf s = {0};
    vae_error err = {0};
    if (vae_model_desc_write(&d, &s.buf, &s.len, &err)) return -1;
    s.cap = s.len + 1;
    for (int i = 0; i < NKEYS; i++) {
        const char *p = (const char *)c + keys[i].off;
        if (keys[i].legacy) continue;
        switch (keys[i].type) {
        case K_STR:
            vae_strbuf_printf(&s, "%s %s\n", keys[i].key, p);
            break;
        case K_I64:
            vae_strbuf_printf(&s, "%s %" PRId64 "\n", keys[i].key,
                              *(const int64_t *)(const void *)p);
            break;
        case K_INT:
            vae_strbuf_printf(&s, "%s %d\n", keys[i].key, *(const int *)(const void *)p);
            break;
        case K_F64:
            vae_strbuf_printf(&s, "%s %.17g\n", keys[i].key, *(const double *)(const void *)p);
            break;
        case K_RNG: {
            const vae_rng *r = (const vae_rng *)(const void *)p;
            vae_strbuf_printf(&s, "%s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %.17g %d\n",
                              keys[i].key, r->s[0], r->s[1], r->s[2], r->s[3], r->spare,
                              r->has_spare);
            break;
        }
        }
    }
    if (c->nlabels > 0) {
        vae_strbuf_printf(&s, "labels ");
        for (int i = 0; i < c->nlabels; i++)
            vae_strbuf_printf(&s, "%s%" PRId64, i ? "," : "", c->labels[i]);
        vae_strbuf_printf(&s, "\n");
    }
    if (s.oom) {
        free(s.buf);
        return -1;
    }
    *text = s.buf;
    *len = s.len;
    return 0;
}

static int parse_i64(const char *s, int64_t *v) {
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (end == s || *end || errno) return 0;
    *v = (int64_t)x;
    return 1;
}

static int parse_f64(const char *s, double *v) {
    char *end;
    double x = strtod(s, &end);
    if (end == s || *end) return 0;
    *v = x;
    return 1;
}

int run_config_set_labels(run_config *c, const char *text, char *msg, size_t n) {
    int64_t v[RUN_MAX_LABELS];
    int k = 0;
    const char *p = text;
    for (;;) {
        char *end = (char *)p;
        errno = 0;
        long long x = *p >= '0' && *p <= '9' ? strtoll(p, &end, 10) : -1;
        if (x < 0 || errno || x > INT32_MAX || (*end && *end != ','))
            return fail(msg, n,
                        "\"%.60s\" is not a comma-separated list of labels (integers >= 0, e.g. "
                        "0,1,2)",
                        text);
        if (k == RUN_MAX_LABELS) return fail(msg, n, "more than %d labels", RUN_MAX_LABELS);
        v[k++] = x;
        if (!*end) break;
        p = end + 1;
    }
    memcpy(c->labels, v, sizeof(int64_t) * (size_t)k);
    c->nlabels = k;
    return 0;
}

static int parse_line(run_config *c, const char *key, const char *val, char *msg, size_t n) {
    if (strcmp(key, "labels") == 0) {
        char why[160];
        if (run_config_set_labels(c, val, why, sizeof why)) return fail(msg, n, "labels: %s", why);
        return 0;
    }
    for (int i = 0; i < NKEYS; i++) {
        if (strcmp(key, keys[i].key) != 0) continue;
        char *p = (char *)c + keys[i].off;
        int64_t iv;
        double dv;
        switch (keys[i].type) {
        case K_STR:
            if (strlen(val) >= keys[i].size) return fail(msg, n, "%s: value too long", key);
            memcpy(p, val, strlen(val) + 1);
            return 0;
        case K_I64:
            if (!parse_i64(val, &iv))
                return fail(msg, n, "%s: \"%.40s\" is not an integer", key, val);
            *(int64_t *)(void *)p = iv;
            return 0;
        case K_INT:
            if (!parse_i64(val, &iv) || iv < -1000000 || iv > 1000000)
                return fail(msg, n, "%s: \"%.40s\" is not a small integer", key, val);
            *(int *)(void *)p = (int)iv;
            return 0;
        case K_F64:
            if (!parse_f64(val, &dv))
                return fail(msg, n, "%s: \"%.40s\" is not a number", key, val);
            *(double *)(void *)p = dv;
            return 0;
        case K_RNG: {
            vae_rng r;
            unsigned long long s[4];
            int hs, used = 0;
            if (sscanf(val, "%llu %llu %llu %llu %lg %d%n", &s[0], &s[1], &s[2], &s[3], &r.spare,
                       &hs, &used) != 6 ||
                val[used] != '\0' || (hs != 0 && hs != 1) || !isfinite(r.spare) ||
                !(s[0] | s[1] | s[2] | s[3]))
                return fail(msg, n, "%s: bad generator state", key);
            for (int k = 0; k < 4; k++) r.s[k] = s[k];
            r.has_spare = hs;
            *(vae_rng *)(void *)p = r;
            return 0;
        }
        }
    }
    return 0; /* the model's keys (models/model.c) or a newer writer's: ignore */
}

int run_config_from_text(const char *text, size_t len, run_config *c, char *msg, size_t n) {
    run_config_default(c);
    if (len == 0 || memchr(text, '\0', len))
        return fail(msg, n, "run configuration: empty or not text");
    /* the model's keys first, through the library, over the defaults */
    vae_model_desc d;
    run_config_model_desc(c, &d);
    vae_error err = {0};
    if (vae_model_desc_parse(text, len, &d, &err)) return fail(msg, n, "%s", err.msg);
    int rc = from_model_desc(c, &d, msg, n);
    vae_model_desc_free(&d);
    char *buf = rc ? NULL : malloc(len + 1);
    if (!rc && !buf) rc = fail(msg, n, "out of memory");
    if (buf) {
        memcpy(buf, text, len);
        buf[len] = '\0';
    }
    int line = 0;
    char *save = NULL;
    for (char *l = buf ? strtok_r(buf, "\n", &save) : NULL; l && rc == 0;
         l = strtok_r(NULL, "\n", &save)) {
        if (++line == 1) continue; /* the header, checked by vae_model_desc_parse */
        size_t ll = strlen(l);
        if (ll && l[ll - 1] == '\r') l[--ll] = '\0';
        if (!*l || *l == '#') continue;
        char *sp = strchr(l, ' ');
        if (!sp) {
            rc = fail(msg, n, "run configuration: line %d has no value", line);
            break;
        }
        *sp = '\0';
        rc = parse_line(c, l, sp + 1, msg, n);
    }
    free(buf);
    if (rc == 0) rc = run_config_check(c, msg, n);
    if (rc == 0 && !c->objective[0]) { /* a file from before the spec: keep its objective as one */
        vae_objective_cfg o;
        rc = run_config_objective(c, 0, &o, msg, n);
        if (rc == 0) vae_objective_spec(&o, c->objective, sizeof c->objective);
    }
    if (rc != 0) {
        run_config_free(c);
        run_config_default(c);
    }
    return rc;
}

int run_config_set_plugins(run_config *c, char *msg, size_t n) {
    const char *p[VAE_MODEL_MAX_PLUGINS];
    int k = vae_plugin_list(p, VAE_MODEL_MAX_PLUGINS);
    if (k > VAE_MODEL_MAX_PLUGINS)
        return fail(msg, n, "a run can remember at most %d plugins (%d loaded)",
                    VAE_MODEL_MAX_PLUGINS, k);
    for (int i = 0; i < k; i++) snprintf(c->plugins[i], sizeof c->plugins[i], "%s", p[i]);
    c->nplugins = k;
    return 0;
}

int run_config_load_plugins(const char *text, size_t len, char *msg, size_t n) {
    vae_model_desc d;
    vae_model_desc_default(&d);
    vae_error err = {0};
    if (vae_model_desc_parse(text, len, &d, &err)) return 0; /* run_config_from_text reports it */
    vae_model_desc_free(&d);
    for (int i = 0; i < d.nplugins; i++) {
        vae_error e = {0};
        if (vae_plugin_load(d.plugins[i], &e))
            return fail(msg, n, "the run needs a plugin that cannot be loaded: %s", e.msg);
    }
    return 0;
}

void run_config_net_cfg(const run_config *c, vae_net_cfg *net) {
    vae_net_cfg_default(net);
    net->x_dim = c->x_dim;
    net->z_dim = c->latent;
    net->nhidden = c->nhidden;
    for (int i = 0; i < c->nhidden && i < RUN_MAX_HIDDEN; i++) net->hidden[i] = c->hidden[i];
    net->z2_dim = c->latent2;
    net->nhidden2 = c->nhidden2;
    for (int i = 0; i < c->nhidden2 && i < RUN_MAX_HIDDEN; i++) net->hidden2[i] = c->hidden2[i];
    int a = act_parse(c->activation);
    net->act = a >= 0 ? (vae_act)a : VAE_ACT_RELU;
    snprintf(net->likelihood, sizeof net->likelihood, "%s", c->likelihood);
    net->lik_opts[0] = c->lik_param;
    net->dtype = strcmp(c->dtype, "f64") == 0 ? VAE_F64 : VAE_F32;
    snprintf(net->flow, sizeof net->flow, "%s", c->flow);
    snprintf(net->prior, sizeof net->prior, "%s", c->prior);
    snprintf(net->net, sizeof net->net, "%s", c->net);
    net->img_h = c->h, net->img_w = c->w, net->img_c = c->c;
    net->conv_ch[0] = c->conv_ch[0], net->conv_ch[1] = c->conv_ch[1];
    net->nconv_hidden = c->nconv_hidden;
    for (int i = 0; i < c->nconv_hidden && i < RUN_MAX_HIDDEN; i++)
        net->conv_hidden[i] = c->conv_hidden[i];
    vae_error err = {0};
    if (vae_latent_kind_parse(net, c->latent_kind, &err) == VAE_OK && net->latent_kind != VAE_LATENT_GAUSSIAN)
        net->z_dim = c->latent; /* run_config_check holds them equal; a mismatch fails in vae_net_init */
    net->baseline_hidden = c->baseline_hidden;
    net->n_classes = c->classes;
    net->cond_prior =
        strcmp(c->cond_prior, "normal") == 0 ? VAE_COND_PRIOR_NORMAL : VAE_COND_PRIOR_LEARNED;
    net->bayes_decoder = c->bayes_decoder, net->local_reparam = c->local_reparam;
    net->prior_scale = c->prior_scale;
}

void run_config_legacy_spec(const run_config *c, char *buf, size_t n) {
    int weighted = c->beta != 1.0 || c->kl_warmup > 0 || c->free_bits > 0 || c->cap_gamma > 0;
    if (strcmp(c->model, "iwae") == 0)
        snprintf(buf, n, "iwae:k=%" PRId64, c->samples);
    else if (strcmp(c->model, "beta-vae") == 0 || weighted) /* the old vae kind honoured beta too */
        snprintf(buf, n,
                 "beta-vae:l=%" PRId64 ",mc-kl=%d,beta=%.17g,warmup=%" PRId64
                 ",free-bits=%.17g,gamma=%.17g,cmax=%.17g,csteps=%" PRId64,
                 c->samples, c->mc_kl != 0, c->beta, c->kl_warmup, c->free_bits, c->cap_gamma,
                 c->cap_max, c->cap_steps);
    else
        snprintf(buf, n, "vae:l=%" PRId64 ",mc-kl=%d", c->samples, c->mc_kl != 0);
}

int run_config_objective(const run_config *c, int64_t data_size, vae_objective_cfg *o, char *msg,
                         size_t msglen) {
    vae_objective_cfg_default(o);
    char spec[512];
    if (c->objective[0])
        snprintf(spec, sizeof spec, "%s", c->objective);
    else
        run_config_legacy_spec(c, spec, sizeof spec);
    vae_error err = {0};
    if (vae_objective_parse_spec(o, spec, &err)) return fail(msg, msglen, "objective: %s", err.msg);
    int e = vae_estimator_parse(c->estimator), b = vae_baseline_parse(c->baseline);
    o->estimator = e >= 0 ? (vae_estimator)e : VAE_EST_REPARAM;
    o->baseline = b >= 0 ? (vae_baseline)b : VAE_BASELINE_NONE;
    o->data_size = c->n_over_m ? (double)data_size : 0.0;
    o->temperature = c->temperature, o->temp_anneal = c->temp_anneal, o->temp_min = c->temp_min;
    o->straight_through = c->straight_through;
    return 0;
}
