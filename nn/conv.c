/* The convolution layers over autograd's conv ops (no backward code here). */
#include "conv.h"

#include <math.h>
#include <stdio.h>

#include "autograd/ops.h"
#include "nn/init.h"

static vae_status layer_init(vae_conv2d_layer *l, vae_params *p, const char *name, int64_t in,
                             int64_t out, int k, int stride, int padding, int opad, int transposed,
                             int bias, vae_error *err) {
    const char *what = transposed ? "conv_transpose2d_layer_init" : "conv2d_layer_init";
    if (!l || !p || !name) return vae_error_set(err, VAE_ERR_NULL, "%s: NULL argument", what);
    if (in <= 0 || out <= 0 || k < 1 || stride < 1 || padding < 0 || opad < 0 ||
        (opad && opad >= stride))
        return vae_error_set(err, VAE_ERR_ARG,
                             "%s: '%s': channels %lld -> %lld, kernel %d, stride %d, padding %d, "
                             "output padding %d: out of range",
                             what, name, (long long)in, (long long)out, k, stride, padding, opad);
    char wn[VAE_PARAMS_MAX_NAME + 2], bn[VAE_PARAMS_MAX_NAME + 2];
    int a = snprintf(wn, sizeof wn, "%s.weight", name),
        c = snprintf(bn, sizeof bn, "%s.bias", name);
    if (a < 0 || c < 0 || a > VAE_PARAMS_MAX_NAME || c > VAE_PARAMS_MAX_NAME)
        return vae_error_set(err, VAE_ERR_ARG, "%s: name '%.40s...' is too long", what, name);
    int n0 = vae_params_count(p);
    vae_error e = {VAE_OK, ""};
    vae_tensor *w = transposed ? vae_params_add(p, wn, VAE_SHAPE(in, out, k, k), &e)
                               : vae_params_add(p, wn, VAE_SHAPE(out, in, k, k), &e);
    vae_tensor *b = NULL;
    if (w && bias) b = vae_params_add(p, bn, VAE_SHAPE(out), &e);
    if (!w || (bias && !b)) {
        vae_params_truncate(p, n0);
        return vae_error_set(err, e.code, "%s: %s", what, e.msg);
    }
    vae_conv2d_layer t = {in, out, k, stride, padding, opad, transposed, w, b};
    *l = t;
    return VAE_OK;
}

vae_status vae_conv2d_layer_init(vae_conv2d_layer *l, vae_params *p, const char *name, int64_t in,
                                 int64_t out, int k, int stride, int padding, int bias,
                                 vae_error *err) {
    return layer_init(l, p, name, in, out, k, stride, padding, 0, 0, bias, err);
}

vae_status vae_conv_transpose2d_layer_init(vae_conv2d_layer *l, vae_params *p, const char *name,
                                           int64_t in, int64_t out, int k, int stride, int padding,
                                           int output_padding, int bias, vae_error *err) {
    if (output_padding < 0 || (stride >= 1 && output_padding >= stride))
        return vae_error_set(err, VAE_ERR_ARG,
                             "conv_transpose2d_layer_init: '%s': output padding %d is not in "
                             "[0, stride %d)",
                             name ? name : "?", output_padding, stride);
    return layer_init(l, p, name, in, out, k, stride, padding, output_padding, 1, bias, err);
}

vae_status vae_conv2d_layer_reset(const vae_conv2d_layer *l, vae_rng *rng, vae_error *err) {
    if (!l || !l->w || !rng)
        return vae_error_set(err, VAE_ERR_NULL, "conv2d_layer_reset: NULL argument");
    /* PyTorch: kaiming_uniform_(W, a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the bias the same bound */
    double fan_in = (double)l->w->shape[1] * l->k * l->k, bound = 1.0 / sqrt(fan_in);
    vae_status s = vae_init_uniform(l->w, -bound, bound, rng, err);
    if (!s && l->b) s = vae_init_uniform(l->b, -bound, bound, rng, err);
    return s;
}

vae_tensor *vae_conv2d_layer_forward(vae_ctx *ctx, const vae_conv2d_layer *l, vae_tensor *x,
                                     vae_activation act) {
    if (!ctx) return NULL;
    if (!l || !l->w) {
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_NULL, "conv2d layer: NULL layer");
        return NULL;
    }
    /* one fused node: the activation in place on the conv's output */
    return l->transposed ? vae_conv_transpose2d_act(ctx, x, l->w, l->b, l->stride, l->padding,
                                                    l->output_padding, act.kind, act.alpha)
                         : vae_conv2d_act(ctx, x, l->w, l->b, l->stride, l->padding, act.kind,
                                          act.alpha);
}
