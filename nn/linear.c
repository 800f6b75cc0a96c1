/* Activations and the Linear layer, built from autograd ops (no backward code here). */
#include "linear.h"

#include <stdio.h>
#include <string.h>

#include "autograd/ops.h"
#include "nn/init.h"

static const char *const act_names[VAE_ACT_COUNT_] = {
    "identity", "relu", "tanh", "sigmoid", "softplus", "elu", "leaky_relu", /* vae_act order */
};

vae_activation vae_act_default(vae_act kind) {
    vae_activation a = {kind, 0.0};
    if (kind == VAE_ACT_ELU) a.alpha = 1.0;
    if (kind == VAE_ACT_LEAKY_RELU) a.alpha = 0.01;
    return a;
}

const char *vae_act_name(vae_act kind) {
    return ((int)kind >= 0 && kind < VAE_ACT_COUNT_) ? act_names[kind] : "unknown";
}

int vae_act_from_name(const char *name) {
    for (int k = 0; name && k < VAE_ACT_COUNT_; k++)
        if (strcmp(name, act_names[k]) == 0) return k;
    return -1;
}

vae_tensor *vae_act_apply(vae_ctx *ctx, vae_tensor *x, vae_activation act) {
    if (!x) return NULL;
    switch (act.kind) {
    case VAE_ACT_IDENTITY:
        return x;
    case VAE_ACT_RELU:
        return vae_relu(ctx, x);
    case VAE_ACT_TANH:
        return vae_tanh(ctx, x);
    case VAE_ACT_SOFTPLUS:
        return vae_softplus(ctx, x);
    case VAE_ACT_SIGMOID:
        return vae_sigmoid(ctx, x);
    case VAE_ACT_ELU:
        return vae_elu(ctx, x, act.alpha);
    case VAE_ACT_LEAKY_RELU:
        return vae_leaky_relu(ctx, x, act.alpha);
    default:
        break;
    }
    vae_error_set(vae_ctx_error(ctx), VAE_ERR_ARG, "activation: unknown kind %d", (int)act.kind);
    return NULL;
}

vae_status vae_linear_init(vae_linear *l, vae_params *p, const char *name, int64_t in, int64_t out,
                           int bias, vae_error *err) {
    if (!l || !p || !name) return vae_error_set(err, VAE_ERR_NULL, "linear_init: NULL argument");
    if (in <= 0 || out <= 0)
        return vae_error_set(err, VAE_ERR_ARG,
                             "linear_init: '%s': sizes %lld -> %lld must be positive", name,
                             (long long)in, (long long)out);
    char wn[VAE_PARAMS_MAX_NAME + 2], bn[VAE_PARAMS_MAX_NAME + 2];
    int a = snprintf(wn, sizeof wn, "%s.weight", name),
        c = snprintf(bn, sizeof bn, "%s.bias", name);
    if (a < 0 || c < 0 || a > VAE_PARAMS_MAX_NAME || c > VAE_PARAMS_MAX_NAME)
        return vae_error_set(err, VAE_ERR_ARG, "linear_init: name '%.40s...' is too long", name);
    int n0 = vae_params_count(p);
    vae_error e = {
        VAE_OK,
        ""}; /* local record: the store's failure code must reach the caller even if err is NULL */
    vae_tensor *w = vae_params_add(p, wn, VAE_SHAPE(in, out), &e);
    vae_tensor *b = NULL;
    if (w && bias) b = vae_params_add(p, bn, VAE_SHAPE(out), &e);
    if (!w || (bias && !b)) {
        vae_params_truncate(p, n0);
        return vae_error_set(err, e.code, "linear_init: %s", e.msg);
    }
    l->in = in;
    l->out = out;
    l->w = w;
    l->b = b;
    return VAE_OK;
}

vae_status vae_linear_reset(const vae_linear *l, vae_rng *rng, vae_error *err) {
    if (!l) return vae_error_set(err, VAE_ERR_NULL, "linear_reset: NULL layer");
    return vae_init_linear_default(l->w, l->b, rng, err);
}

/* The one place a layer's forward is computed: swapping in a fused bias+activation op is a one-line edit here.
 * x (..., in) @ W (in, out) -> (..., out), + b (out,) broadcast over the leading dims, then act. */
vae_tensor *vae_linear_forward(vae_ctx *ctx, const vae_linear *l, vae_tensor *x,
                               vae_activation act) {
    if (!ctx) return NULL;
    if (!l || !l->w) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_NULL, "linear: NULL layer");
        return NULL;
    }
    if (!x) return NULL;
    if (x->ndim < 1 || x->shape[x->ndim - 1] != l->in) {
        char b[160];
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_SHAPE,
                      "linear '%s': input %s does not end in %lld", l->w->name ? l->w->name : "?",
                      vae_shape_str(b, sizeof b, x->ndim, x->shape), (long long)l->in);
        return NULL;
    }
    /* one fused node: leading dims fold into one GEMM, then bias + activation in one pass */
    return vae_linear_act(ctx, x, l->w, l->b, act.kind, act.alpha);
}
