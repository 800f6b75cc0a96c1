/* A model's description as text in its checkpoint, and save/load of the whole model (model.h). */
#include "models/model.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "models/flow_prior.h"
#include "models/discrete_internal.h"
#include "nn/checkpoint.h"
#include "tensor/strbuf.h"

#define MAX_COLUMNS (1 << 20) /* most standardized columns the text may carry */

static const char *const act_names[] = {"relu", "tanh", "softplus", "sigmoid", "elu", "leaky-relu"};
static const vae_act act_kinds[] = {VAE_ACT_RELU,    VAE_ACT_TANH, VAE_ACT_SOFTPLUS,
                                    VAE_ACT_SIGMOID, VAE_ACT_ELU,  VAE_ACT_LEAKY_RELU};
#define NACT ((int)(sizeof act_names / sizeof *act_names))

const char *vae_model_act_name(vae_act act) {
    for (int i = 0; i < NACT; i++)
        if (act_kinds[i] == act) return act_names[i];
    return "?";
}

int vae_model_act_parse(const char *name) {
    for (int i = 0; name && i < NACT; i++)
        if (strcmp(name, act_names[i]) == 0) return (int)act_kinds[i];
    return -1;
}

void vae_model_desc_default(vae_model_desc *d) {
    memset(d, 0, sizeof *d);
    vae_net_cfg_default(&d->net);
    d->net.x_dim = 0;
    snprintf(d->model, sizeof d->model, "vae");
    snprintf(d->estimator, sizeof d->estimator, "reparam");
    snprintf(d->baseline, sizeof d->baseline, "none");
    snprintf(d->data.binarize, sizeof d->data.binarize, "none");
}

void vae_model_desc_free(vae_model_desc *d) {
    if (!d) return;
    free(d->data.col_mean);
    free(d->data.col_std);
    d->data.col_mean = d->data.col_std = NULL;
    d->data.nstd = 0;
}

vae_status vae_model_desc_copy(vae_model_desc *dst, const vae_model_desc *src, vae_error *err) {
    vae_model_desc t = *src;
    t.data.col_mean = t.data.col_std = NULL;
    if (src->data.nstd > 0) {
        size_t bytes = sizeof(double) * (size_t)src->data.nstd;
        t.data.col_mean = malloc(bytes);
        t.data.col_std = malloc(bytes);
        if (!t.data.col_mean || !t.data.col_std) {
            vae_model_desc_free(&t);
            return vae_error_set(err, VAE_ERR_OOM, "model: out of memory");
        }
        memcpy(t.data.col_mean, src->data.col_mean, bytes);
        memcpy(t.data.col_std, src->data.col_std, bytes);
    }
    *dst = t;
    return VAE_OK;
}

static int one_of3(const char *s, const char *a, const char *b, const char *c) {
    return !strcmp(s, a) || !strcmp(s, b) || !strcmp(s, c);
}

/* A value the text can carry: non-empty, one line, no leading/trailing space. */
static int text_ok(const char *s, size_t cap) {
    size_t n = strnlen(s, cap);
    if (n == 0 || n == cap) return 0;
    return !strchr(s, '\n') && !strchr(s, '\r') && s[0] != ' ' && s[n - 1] != ' ';
}

/* A list of layer sizes (key "hidden" or "hidden2"): 0..VAE_NET_MAX_HIDDEN layers of 1..65536 units. */
static vae_status check_layers(const char *key, int count, const int64_t *sizes, vae_error *err) {
    if (count < 0 || count > VAE_NET_MAX_HIDDEN)
        return vae_error_set(err, VAE_ERR_ARG, "%s: %d layers; at most %d", key, count,
                             VAE_NET_MAX_HIDDEN);
    for (int i = 0; i < count; i++)
        if (sizes[i] < 1 || sizes[i] > 65536)
            return vae_error_set(err, VAE_ERR_ARG,
                                 "%s: layer size %" PRId64 " is out of range 1..65536", key,
                                 sizes[i]);
    return VAE_OK;
}

vae_status vae_model_desc_check(const vae_model_desc *d, vae_error *err) {
    const vae_net_cfg *n = &d->net;
    if (n->x_dim < 0 || n->x_dim > (INT64_C(1) << 30))
        return vae_error_set(err, VAE_ERR_ARG, "x_dim: %" PRId64 " is out of range 0..%" PRId64,
                             n->x_dim, INT64_C(1) << 30);
    if (n->z_dim < 1 || n->z_dim > 4096)
        return vae_error_set(err, VAE_ERR_ARG, "latent: %" PRId64 " is out of range 1..4096",
                             n->z_dim);
    if (check_layers("hidden", n->nhidden, n->hidden, err)) return VAE_ERR_ARG;
    if (n->z2_dim < 0 || n->z2_dim > 4096) /* two stochastic layers */
        return vae_error_set(err, VAE_ERR_ARG, "latent2: %" PRId64 " is out of range 0..4096",
                             n->z2_dim);
    if (check_layers("hidden2", n->nhidden2, n->hidden2, err)) return VAE_ERR_ARG;
    if (check_layers("conv_hidden", n->nconv_hidden, n->conv_hidden, err)) return VAE_ERR_ARG;
    if (n->nconv_hidden && strcmp(n->net, "conv"))
        return vae_error_set(err, VAE_ERR_ARG, "conv_hidden: only with net conv");
    if (vae__discrete_cfg_check(n, err)) return err ? err->code : VAE_ERR_ARG;
    if (n->n_classes < 0 || n->n_classes > 100000)
        return vae_error_set(err, VAE_ERR_ARG, "classes: %" PRId64 " is out of range 0..100000",
                             n->n_classes);
    if (n->cond_prior != VAE_COND_PRIOR_LEARNED && n->cond_prior != VAE_COND_PRIOR_NORMAL)
        return vae_error_set(err, VAE_ERR_ARG, "cond_prior: unknown kind %d", (int)n->cond_prior);
    if ((n->bayes_decoder != 0 && n->bayes_decoder != 1) ||
        (n->local_reparam != 0 && n->local_reparam != 1))
        return vae_error_set(err, VAE_ERR_ARG, "bayes_decoder/local_reparam: not 0 or 1");
    if (!(n->prior_scale >= 0 && n->prior_scale <= 1e6))
        return vae_error_set(err, VAE_ERR_ARG, "prior_scale: %g is out of range 0..1e6",
                             n->prior_scale);
    if (vae_model_act_parse(vae_model_act_name(n->act)) < 0)
        return vae_error_set(err, VAE_ERR_ARG, "activation: unknown kind %d", (int)n->act);
    if (n->dtype != VAE_F32 && n->dtype != VAE_F64)
        return vae_error_set(err, VAE_ERR_ARG, "dtype: unknown %d", (int)n->dtype);
    if (!text_ok(n->likelihood, sizeof n->likelihood) || strchr(n->likelihood, ' '))
        return vae_error_set(err, VAE_ERR_ARG, "likelihood: empty or bad name");
    for (int i = 0; i < VAE_LIK_MAX_OPTS; i++)
        if (!(n->lik_opts[i] >= 0 && n->lik_opts[i] <= 1e6))
            return vae_error_set(err, VAE_ERR_ARG,
                                 "lik_opts: option %d = %g is out of range 0..1e6", i,
                                 n->lik_opts[i]);
    vae_status fs = vae_net_family_check(n, VAE_EST_REPARAM, err); /* flow and prior specs */
    if (fs) return fs;
    if (!text_ok(d->model, sizeof d->model) ||
        (d->objective[0] && !text_ok(d->objective, sizeof d->objective)) ||
        !text_ok(d->estimator, sizeof d->estimator) || !text_ok(d->baseline, sizeof d->baseline))
        return vae_error_set(err, VAE_ERR_ARG, "model/estimator/baseline: empty or bad text");
    const vae_model_data *x = &d->data;
    if (!one_of3(x->binarize, "dynamic", "threshold", "none"))
        return vae_error_set(err, VAE_ERR_ARG, "binarize: unknown \"%.16s\"", x->binarize);
    if (x->h < 0 || x->w < 0 || x->c < 0 || x->h > 65536 || x->w > 65536 || x->c > 4)
        return vae_error_set(err, VAE_ERR_ARG, "geometry: %dx%dx%d is out of range", x->h, x->w,
                             x->c);
    if (n->x_dim > 0 && x->h > 0 && (int64_t)x->h * x->w * x->c != n->x_dim)
        return vae_error_set(err, VAE_ERR_ARG,
                             "geometry: %dx%dx%d does not make %" PRId64 " features", x->h, x->w,
                             x->c, n->x_dim);
    if ((x->tabular != 0 && x->tabular != 1) || (x->scaled != 0 && x->scaled != 1))
        return vae_error_set(err, VAE_ERR_ARG, "tabular/scaled: not 0 or 1");
    if (x->scaled && !(isfinite(x->scale_lo) && isfinite(x->scale_hi) && x->scale_hi > x->scale_lo))
        return vae_error_set(err, VAE_ERR_ARG, "scale: bad range [%g, %g]", x->scale_lo,
                             x->scale_hi);
    if (x->nstd && (x->nstd != n->x_dim || !x->col_mean || !x->col_std))
        return vae_error_set(err, VAE_ERR_ARG,
                             "col_mean: %" PRId64 " columns for %" PRId64 " features", x->nstd,
                             n->x_dim);
    for (int64_t j = 0; j < x->nstd; j++)
        if (!isfinite(x->col_mean[j]) || !(x->col_std[j] > 0) || !isfinite(x->col_std[j]))
            return vae_error_set(err, VAE_ERR_ARG,
                                 "col_std: column %" PRId64 " has a bad standardization", j);
    /* ---- network family (models/vae_net_conv.c): its images are the data's ---- */
    if (n->net[0] && strcmp(n->net, "mlp") && strcmp(n->net, "conv"))
        return vae_error_set(err, VAE_ERR_ARG, "net: unknown \"%.16s\" (mlp or conv)", n->net);
    if (!strcmp(n->net, "conv")) {
        if (x->tabular || (n->x_dim > 0 && x->h == 0))
            return vae_error_set(err, VAE_ERR_ARG,
                                 "net: conv needs image data (h, w, c); this data is tabular (use "
                                 "net mlp)");
        if (n->img_h != x->h || n->img_w != x->w || n->img_c != x->c)
            return vae_error_set(err, VAE_ERR_ARG,
                                 "net: the conv net's images %dx%dx%d are not the data's %dx%dx%d",
                                 n->img_h, n->img_w, n->img_c, x->h, x->w, x->c);
        for (int i = 0; i < 2; i++)
            if (n->conv_ch[i] < 0 || n->conv_ch[i] > 4096)
                return vae_error_set(err, VAE_ERR_ARG,
                                     "conv_channels: %" PRId64 " is out of range 0..4096",
                                     n->conv_ch[i]);
    }
    if (d->nplugins < 0 || d->nplugins > VAE_MODEL_MAX_PLUGINS)
        return vae_error_set(err, VAE_ERR_ARG, "plugin: %d plugins; at most %d", d->nplugins,
                             VAE_MODEL_MAX_PLUGINS);
    for (int i = 0; i < d->nplugins; i++)
        if (!text_ok(d->plugins[i], sizeof d->plugins[i]) || d->plugins[i][0] != '/')
            return vae_error_set(err, VAE_ERR_ARG, "plugin: \"%.60s\" is not an absolute path",
                                 d->plugins[i]);
    return VAE_OK;
}

/* ---- writing ---- */

static void sb_list(vae_strbuf *s, const char *key, const double *v, int64_t n) {
    vae_strbuf_printf(s, "%s ", key);
    for (int64_t j = 0; j < n; j++) vae_strbuf_printf(s, "%s%.17g", j ? "," : "", v[j]);
    vae_strbuf_printf(s, "\n");
}

vae_status vae_model_desc_write(const vae_model_desc *d, char **text, size_t *len, vae_error *err) {
    const vae_net_cfg *n = &d->net;
    const vae_model_data *x = &d->data;
    vae_strbuf s = {0};
    vae_strbuf_printf(&s, "vae-run %d\n", VAE_MODEL_TEXT_VERSION);
    vae_strbuf_printf(&s, "x_dim %" PRId64 "\nlatent %" PRId64 "\nhidden ", n->x_dim, n->z_dim);
    for (int i = 0; i < n->nhidden; i++)
        vae_strbuf_printf(&s, "%s%" PRId64, i ? "," : "", n->hidden[i]);
    vae_strbuf_printf(&s, "%s\n", n->nhidden ? "" : "0");
    if (n->z2_dim > 0) { /* two stochastic layers; absent = one, so one-layer files read as before */
        vae_strbuf_printf(&s, "latent2 %" PRId64 "\nhidden2 ", n->z2_dim);
        for (int i = 0; i < n->nhidden2; i++)
            vae_strbuf_printf(&s, "%s%" PRId64, i ? "," : "", n->hidden2[i]);
        vae_strbuf_printf(&s, "%s\n", n->nhidden2 ? "" : "0");
    }
    vae_strbuf_printf(&s, "activation %s\ndtype %s\nlikelihood %s\nlik_param %.17g\n",
                      vae_model_act_name(n->act), n->dtype == VAE_F64 ? "f64" : "f32",
                      n->likelihood, n->lik_opts[0]);
    if (n->latent_kind != VAE_LATENT_GAUSSIAN) { /* discrete latents (discrete.h) */
        char kind[64];
        vae_latent_kind_spec(n, kind, sizeof kind);
        vae_strbuf_printf(&s, "latent_kind %s\n", kind);
    }
    if (n->baseline_hidden > 0) vae_strbuf_printf(&s, "baseline_net %" PRId64 "\n", n->baseline_hidden);
    int more = 0;
    for (int i = 1; i < VAE_LIK_MAX_OPTS; i++) more |= n->lik_opts[i] != 0;
    if (more) sb_list(&s, "lik_opts", n->lik_opts, VAE_LIK_MAX_OPTS);
    if (n->flow[0]) vae_strbuf_printf(&s, "flow %s\n", n->flow); /* absent: none (older files) */
    if (n->prior[0]) vae_strbuf_printf(&s, "prior %s\n", n->prior);
    /* model families: written only when on, so files without them read as the plain VAE */
    if (n->n_classes > 0)
        vae_strbuf_printf(&s, "classes %" PRId64 "\ncond_prior %s\n", n->n_classes,
                          n->cond_prior == VAE_COND_PRIOR_NORMAL ? "normal" : "learned");
    if (n->bayes_decoder)
        vae_strbuf_printf(&s, "bayes_decoder 1\nprior_scale %.17g\nlocal_reparam %d\n",
                          n->prior_scale, n->local_reparam);
    vae_strbuf_printf(&s, "model %s\nestimator %s\nbaseline %s\n", d->model, d->estimator,
                      d->baseline);
    if (d->objective[0]) vae_strbuf_printf(&s, "objective %s\n", d->objective);
    vae_strbuf_printf(&s, "h %d\nw %d\nc %d\ntabular %d\nbinarize %s\n", x->h, x->w, x->c,
                      x->tabular, x->binarize);
    vae_strbuf_printf(&s, "scaled %d\nscale_lo %.17g\nscale_hi %.17g\n", x->scaled, x->scale_lo,
                      x->scale_hi);
    if (x->nstd > 0) {
        sb_list(&s, "col_mean", x->col_mean, x->nstd);
        sb_list(&s, "col_std", x->col_std, x->nstd);
    }
    for (int i = 0; i < d->nplugins; i++) vae_strbuf_printf(&s, "plugin %s\n", d->plugins[i]);
    /* network family: written only for a non-MLP net, so an MLP's text is as before (absent = mlp) */
    if (!strcmp(n->net, "conv")) {
        vae_strbuf_printf(&s, "net conv\nconv_channels %" PRId64 ",%" PRId64 "\n", n->conv_ch[0],
                          n->conv_ch[1]);
        if (n->nconv_hidden) { /* absent = one linear layer (older files) */
            vae_strbuf_printf(&s, "conv_hidden ");
            for (int i = 0; i < n->nconv_hidden; i++)
                vae_strbuf_printf(&s, "%s%" PRId64, i ? "," : "", n->conv_hidden[i]);
            vae_strbuf_printf(&s, "\n");
        }
    }
    if (s.oom) {
        free(s.buf);
        return vae_error_set(err, VAE_ERR_OOM, "model: out of memory writing its description");
    }
    *text = s.buf;
    *len = s.len;
    return VAE_OK;
}

/* ---- parsing ---- */

static vae_status bad(vae_error *err, const char *key, const char *what, const char *val) {
    return vae_error_set(err, VAE_ERR_FORMAT, "model description: %s: \"%.40s\" %s", key, val,
                         what);
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

static int parse_int(const char *s, int *v) {
    int64_t x;
    if (!parse_i64(s, &x) || x < -1000000 || x > 1000000) return 0;
    *v = (int)x;
    return 1;
}

/* Comma-separated doubles into v[0..want); 1 when there are exactly `want`. */
static int parse_doubles(const char *s, double *v, int64_t want) {
    const char *p = s;
    for (int64_t j = 0; j < want; j++) {
        char *end;
        v[j] = strtod(p, &end);
        if (end == p || (j + 1 < want ? *end != ',' : *end != '\0')) return 0;
        p = end + 1;
    }
    return 1;
}

static int set_str(char *dst, size_t cap, const char *val) {
    size_t n = strlen(val);
    if (n >= cap) return 0;
    memcpy(dst, val, n + 1);
    return 1;
}

/* "0" (no layers) or comma-separated sizes into h[0..VAE_NET_MAX_HIDDEN) and *n; 0 when malformed (h and *n
 * may then hold a part: the caller's copy is discarded on error). */
static int parse_sizes(const char *val, int64_t *h, int *n) {
    if (!strcmp(val, "0")) {
        *n = 0;
        return 1;
    }
    int k = 0;
    const char *p = val;
    while (*p) {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno || k >= VAE_NET_MAX_HIDDEN || (*end && *end != ',')) return 0;
        h[k++] = v;
        if (!*end) {
            *n = k;
            return 1;
        }
        p = end + 1;
    }
    return 0;
}

/* One "key value" line into d; col_mean/col_std text is kept for the end (x_dim may come later). */
static vae_status parse_line(vae_model_desc *d, const char *key, const char *val,
                             const char **mean_txt, const char **std_txt, vae_error *err) {
    vae_net_cfg *n = &d->net;
    vae_model_data *x = &d->data;
    if (!strcmp(key, "x_dim"))
        return parse_i64(val, &n->x_dim) ? VAE_OK : bad(err, key, "is not an integer", val);
    if (!strcmp(key, "latent"))
        return parse_i64(val, &n->z_dim) ? VAE_OK : bad(err, key, "is not an integer", val);
    if (!strcmp(key, "hidden"))
        return parse_sizes(val, n->hidden, &n->nhidden) ? VAE_OK
                                                        : bad(err, key, "is not a list of layer sizes", val);
    if (!strcmp(key, "latent_kind")) {
        vae_net_cfg t = *n;
        vae_error e = {0};
        if (vae_latent_kind_parse(&t, val, &e)) return bad(err, key, "is not a latent kind", val);
        *n = t;
        return VAE_OK;
    }
    if (!strcmp(key, "baseline_net"))
        return parse_i64(val, &n->baseline_hidden) ? VAE_OK : bad(err, key, "is not an integer", val);
    if (!strcmp(key, "conv_hidden"))
        return parse_sizes(val, n->conv_hidden, &n->nconv_hidden)
                   ? VAE_OK
                   : bad(err, key, "is not a list of layer sizes", val);
    if (!strcmp(key, "latent2"))
        return parse_i64(val, &n->z2_dim) ? VAE_OK : bad(err, key, "is not an integer", val);
    if (!strcmp(key, "hidden2"))
        return parse_sizes(val, n->hidden2, &n->nhidden2)
                   ? VAE_OK
                   : bad(err, key, "is not a list of layer sizes", val);
    if (!strcmp(key, "latent_kind")) {
        vae_net_cfg t = *n;
        vae_error e = {0};
        if (vae_latent_kind_parse(&t, val, &e)) return bad(err, key, "is not a latent kind", val);
        *n = t;
        return VAE_OK;
    }
    if (!strcmp(key, "baseline_net"))
        return parse_i64(val, &n->baseline_hidden) ? VAE_OK : bad(err, key, "is not an integer", val);
    if (!strcmp(key, "activation")) {
        int a = vae_model_act_parse(val);
        if (a < 0) return bad(err, key, "is not a known activation", val);
        n->act = (vae_act)a;
        return VAE_OK;
    }
    if (!strcmp(key, "dtype")) {
        if (strcmp(val, "f32") && strcmp(val, "f64"))
            return bad(err, key, "is not f32 or f64", val);
        n->dtype = val[1] == '6' ? VAE_F64 : VAE_F32;
        return VAE_OK;
    }
    if (!strcmp(key, "likelihood"))
        return set_str(n->likelihood, sizeof n->likelihood, val)
                   ? VAE_OK
                   : bad(err, key, "is too long", val);
    if (!strcmp(key, "lik_param"))
        return parse_f64(val, &n->lik_opts[0]) ? VAE_OK : bad(err, key, "is not a number", val);
    if (!strcmp(key, "lik_opts"))
        return parse_doubles(val, n->lik_opts, VAE_LIK_MAX_OPTS)
                   ? VAE_OK
                   : bad(err, key, "is not 8 numbers", val);
    if (!strcmp(key, "flow") || !strcmp(key, "prior")) {
        char *dst = key[0] == 'f' ? n->flow : n->prior;
        return set_str(dst, sizeof n->flow, val) ? VAE_OK : bad(err, key, "is too long", val);
    }
    if (!strcmp(key, "classes"))
        return parse_i64(val, &n->n_classes) ? VAE_OK : bad(err, key, "is not an integer", val);
    if (!strcmp(key, "cond_prior")) {
        if (strcmp(val, "learned") && strcmp(val, "normal"))
            return bad(err, key, "is not learned or normal", val);
        n->cond_prior = val[0] == 'n' ? VAE_COND_PRIOR_NORMAL : VAE_COND_PRIOR_LEARNED;
        return VAE_OK;
    }
    if (!strcmp(key, "bayes_decoder"))
        return parse_int(val, &n->bayes_decoder) ? VAE_OK : bad(err, key, "is not 0 or 1", val);
    if (!strcmp(key, "local_reparam"))
        return parse_int(val, &n->local_reparam) ? VAE_OK : bad(err, key, "is not 0 or 1", val);
    if (!strcmp(key, "prior_scale"))
        return parse_f64(val, &n->prior_scale) ? VAE_OK : bad(err, key, "is not a number", val);
    if (!strcmp(key, "model"))
        return set_str(d->model, sizeof d->model, val) ? VAE_OK : bad(err, key, "is too long", val);
    if (!strcmp(key, "objective"))
        return set_str(d->objective, sizeof d->objective, val) ? VAE_OK
                                                               : bad(err, key, "is too long", val);
    if (!strcmp(key, "estimator"))
        return set_str(d->estimator, sizeof d->estimator, val) ? VAE_OK
                                                               : bad(err, key, "is too long", val);
    if (!strcmp(key, "baseline"))
        return set_str(d->baseline, sizeof d->baseline, val) ? VAE_OK
                                                             : bad(err, key, "is too long", val);
    if (!strcmp(key, "binarize"))
        return set_str(x->binarize, sizeof x->binarize, val) ? VAE_OK
                                                             : bad(err, key, "is too long", val);
    int *iv = !strcmp(key, "h")         ? &x->h
              : !strcmp(key, "w")       ? &x->w
              : !strcmp(key, "c")       ? &x->c
              : !strcmp(key, "tabular") ? &x->tabular
              : !strcmp(key, "scaled")  ? &x->scaled
                                        : NULL;
    if (iv) return parse_int(val, iv) ? VAE_OK : bad(err, key, "is not a small integer", val);
    double *dv = !strcmp(key, "scale_lo")   ? &x->scale_lo
                 : !strcmp(key, "scale_hi") ? &x->scale_hi
                                            : NULL;
    if (dv) return parse_f64(val, dv) ? VAE_OK : bad(err, key, "is not a number", val);
    /* ---- network family (models/vae_net_conv.c) ---- */
    if (!strcmp(key, "net"))
        return (!strcmp(val, "mlp") || !strcmp(val, "conv")) && set_str(n->net, sizeof n->net, val)
                   ? VAE_OK
                   : bad(err, key, "is not mlp or conv", val);
    if (!strcmp(key, "conv_channels")) {
        long long a, b;
        int used = 0;
        if (sscanf(val, "%lld,%lld%n", &a, &b, &used) != 2 || val[used] || a < 0 || b < 0)
            return bad(err, key, "is not two channel counts", val);
        n->conv_ch[0] = a, n->conv_ch[1] = b;
        return VAE_OK;
    }
    if (!strcmp(key, "col_mean")) *mean_txt = val;
    if (!strcmp(key, "col_std")) *std_txt = val;
    if (!strcmp(key, "plugin")) {
        if (d->nplugins == VAE_MODEL_MAX_PLUGINS)
            return vae_error_set(err, VAE_ERR_FORMAT, "model description: more than %d plugins",
                                 VAE_MODEL_MAX_PLUGINS);
        if (!set_str(d->plugins[d->nplugins], VAE_PLUGIN_PATH_MAX, val))
            return bad(err, key, "is too long", val);
        d->nplugins++;
    }
    return VAE_OK; /* unknown keys belong to someone else (the CLI's training state) or a newer writer */
}

vae_status vae_model_desc_parse(const char *text, size_t len, vae_model_desc *out, vae_error *err) {
    if (!text || !out) return vae_error_set(err, VAE_ERR_NULL, "model description: NULL argument");
    if (len == 0 || memchr(text, '\0', len))
        return vae_error_set(err, VAE_ERR_FORMAT, "model description: empty or not text");
    char *buf = malloc(len + 1);
    if (!buf) return vae_error_set(err, VAE_ERR_OOM, "model description: out of memory");
    memcpy(buf, text, len);
    buf[len] = '\0';
    vae_model_desc d = *out;
    d.data.col_mean = d.data.col_std = NULL; /* set below only from the text */
    d.data.nstd = 0;
    d.nplugins = 0; /* plugins come from the text only */
    const char *mean_txt = NULL, *std_txt = NULL;
    vae_status s = VAE_OK;
    int line = 0;
    char *save = NULL;
    for (char *l = strtok_r(buf, "\n", &save); l && !s; l = strtok_r(NULL, "\n", &save)) {
        line++;
        size_t ll = strlen(l);
        if (ll && l[ll - 1] == '\r') l[--ll] = '\0';
        if (line == 1) {
            int v = 0, used = 0;
            if (sscanf(l, "vae-run %d%n", &v, &used) != 1 || l[used] != '\0')
                s = vae_error_set(err, VAE_ERR_FORMAT,
                                  "model description: missing \"vae-run\" header");
            else if (v != VAE_MODEL_TEXT_VERSION)
                s = vae_error_set(err, VAE_ERR_VERSION,
                                  "model description: version %d is not supported (this reads %d)",
                                  v, VAE_MODEL_TEXT_VERSION);
            continue;
        }
        if (!*l || *l == '#') continue;
        char *sp = strchr(l, ' ');
        if (!sp) {
            s = vae_error_set(err, VAE_ERR_FORMAT, "model description: line %d has no value", line);
            break;
        }
        *sp = '\0';
        s = parse_line(&d, l, sp + 1, &mean_txt, &std_txt, err);
    }
    if (!s && line == 0) s = vae_error_set(err, VAE_ERR_FORMAT, "model description: empty");
    if (!s && (mean_txt || std_txt)) {
        if (!mean_txt || !std_txt)
            s = vae_error_set(err, VAE_ERR_FORMAT, "col_mean/col_std: only one of them is present");
        else if (d.net.x_dim < 1 || d.net.x_dim > MAX_COLUMNS)
            s = vae_error_set(err, VAE_ERR_FORMAT,
                              "col_mean/col_std: x_dim %" PRId64 " is out of range", d.net.x_dim);
        else {
            d.data.col_mean = malloc(sizeof(double) * (size_t)d.net.x_dim);
            d.data.col_std = malloc(sizeof(double) * (size_t)d.net.x_dim);
            d.data.nstd = d.net.x_dim;
            if (!d.data.col_mean || !d.data.col_std)
                s = vae_error_set(err, VAE_ERR_OOM, "model description: out of memory");
            else if (!parse_doubles(mean_txt, d.data.col_mean, d.net.x_dim) ||
                     !parse_doubles(std_txt, d.data.col_std, d.net.x_dim))
                s = vae_error_set(err, VAE_ERR_FORMAT, "col_mean/col_std: not %" PRId64 " numbers",
                                  d.net.x_dim);
        }
    }
    free(buf);
    if (!strcmp(d.net.net, "conv")) /* the conv net's images are the data's (keys h, w, c) */
        d.net.img_h = d.data.h, d.net.img_w = d.data.w, d.net.img_c = d.data.c;
    if (!s) s = vae_model_desc_check(&d, err);
    if (s) {
        vae_model_desc_free(&d);
        return s;
    }
    vae_model_desc_free(out);
    *out = d;
    return VAE_OK;
}

/* ---- the model ---- */

vae_status vae_model_init(vae_model *m, const vae_model_desc *d, vae_rng *rng, vae_error *err) {
    memset(m, 0, sizeof *m);
    vae_status s = vae_model_desc_check(d, err);
    if (s) return s;
    if (!vae_likelihood_find(d->net.likelihood))
        return vae_error_set(err, VAE_ERR_ARG, "model: likelihood \"%s\" is not registered%s%s",
                             d->net.likelihood, d->nplugins ? "; it may come from plugin " : "",
                             d->nplugins ? d->plugins[0] : "");
    vae_model t;
    memset(&t, 0, sizeof t);
    if ((s = vae_model_desc_copy(&t.desc, d, err))) return s;
    if ((s = vae_net_init(&t.net, &d->net, rng, err))) {
        vae_model_desc_free(&t.desc);
        return s;
    }
    *m = t;
    return VAE_OK;
}

vae_status vae_model_save(const char *path, const vae_model *m, vae_error *err) {
    if (!path || !m || !m->net.params)
        return vae_error_set(err, VAE_ERR_NULL, "vae_model_save: NULL argument");
    char *text;
    size_t len;
    vae_status s = vae_model_desc_write(&m->desc, &text, &len, err);
    if (s) return s;
    s = vae_checkpoint_save(path, m->net.params, NULL, text, len, err);
    free(text);
    return s;
}

vae_status vae_model_load(const char *path, vae_model *m, vae_error *err) {
    if (!path || !m) return vae_error_set(err, VAE_ERR_NULL, "vae_model_load: NULL argument");
    struct stat st;
    if (stat(path, &st) != 0)
        return vae_error_set(err, VAE_ERR_IO, "%s: %s", path, strerror(errno));
    void *meta = NULL;
    size_t meta_len = 0;
    vae_status s = vae_checkpoint_read_info(path, NULL, &meta, &meta_len, err);
    if (s) return s;
    vae_model_desc d;
    vae_model_desc_default(&d);
    vae_error e = {0};
    if (!meta)
        s = vae_error_set(&e, VAE_ERR_FORMAT, "no model description in its metadata");
    else
        s = vae_model_desc_parse(meta, meta_len, &d, &e);
    free(meta);
    if (!s && d.net.x_dim < 1)
        s = vae_error_set(&e, VAE_ERR_FORMAT, "the description has no x_dim");
    if (s) {
        vae_model_desc_free(&d);
        return vae_error_set(err, s, "%s: not a model checkpoint: %s", path, e.msg);
    }
    if (!vae_likelihood_find(d.net.likelihood)) {
        s = vae_error_set(err, VAE_ERR_ARG, "%s: likelihood \"%s\" is not registered (%s%s)", path,
                          d.net.likelihood,
                          d.nplugins ? "the model was trained with plugin " : "register it first",
                          d.nplugins ? d.plugins[0] : "");
        vae_model_desc_free(&d);
        return s;
    }
    vae_rng rng;
    vae_rng_seed(&rng, 0);
    vae_model t;
    s = vae_model_init(&t, &d, &rng, err);
    vae_model_desc_free(&d);
    if (s) return s;
    if ((s = vae_checkpoint_load(path, t.net.params, NULL, NULL, NULL, err))) {
        vae_model_free(&t);
        return s;
    }
    *m = t;
    return VAE_OK;
}

void vae_model_free(vae_model *m) {
    if (!m) return;
    vae_net_free(&m->net);
    vae_model_desc_free(&m->desc);
}
