/* The convolutional encoder/decoder pair of a VAE on h x w x c images (cfg.net "conv"), DCGAN-style:
 *
 *   q(z|x) = N(mu, diag exp(logvar)),  [mu | logvar] = FC(flatten(act(Conv_2(act(Conv_1(x))))))
 *   p(x|z) = likelihood(ConvT_2(act(ConvT_1(act(FC(z))))))
 *
 * FC is one linear layer, or an MLP with hidden sizes cfg.conv_hidden (the decoder's reversed, act after every
 * layer of the decoder's, the last included, as the conv layers read it).
 *
 * Conv_1: c -> c1, Conv_2: c1 -> c2, ConvT_1: c2 -> c1, ConvT_2: c1 -> c*P, each 4x4, stride 2, padding 1, so the
 * image halves twice (h -> h/2 -> h/4) and doubles back. x's pixels are interleaved (B, h, w, c); the encoder
 * reads them through a permuted view (B, c, h, w) and the decoder writes its (..., c*P, h, w) output back in x's
 * layout, one block of D per likelihood parameter. Leading dims of x and z (K particles, B data) are images.
 */
#include <stdio.h>
#include <string.h>

#include "models/vae_net_internal.h"
#include "nn/init.h"

int vae__net_is_conv(const vae_net_cfg *cfg) {
    return strcmp(cfg->net, "conv") == 0;
}

static int64_t ch(const vae_net_cfg *cfg, int i) {
    static const int64_t def[2] = {16, 32}; /* half the usual 32, 64: README, conv section */
    return cfg->conv_ch[i] > 0 ? cfg->conv_ch[i] : def[i];
}

/* Normal init of one layer's weight then bias, or PyTorch's default (also for "xavier": its conv layers keep
 * PyTorch's default); exactly one of l, m is set. */
static vae_status init_one(const vae_net_cfg *cfg, const vae_conv2d_layer *l, const vae_mlp *m,
                           vae_rng *rng, vae_error *err) {
    if (cfg->init != VAE_INIT_NORMAL)
        return l ? vae_conv2d_layer_reset(l, rng, err) : vae_mlp_reset(m, rng, err);
    int n = l ? 1 : m->nlayers;
    vae_status s = VAE_OK;
    for (int i = 0; i < n && !s; i++) {
        vae_tensor *w = l ? l->w : m->layer[i].w, *b = l ? l->b : m->layer[i].b;
        s = vae_init_normal(w, 0.0, cfg->init_sigma, rng, err);
        if (!s) s = vae_init_normal(b, 0.0, cfg->init_sigma, rng, err);
    }
    return s;
}

static vae_status init_values(const vae_net *net, vae_rng *rng, vae_error *err) {
    const vae_net_cfg *cfg = &net->cfg;
    /* in store order: enc.conv0, enc.conv1, enc.fc.*, dec.fc.*, dec.convt0, dec.convt1 */
    vae_status s = init_one(cfg, &net->conv_enc[0], NULL, rng, err);
    if (!s) s = init_one(cfg, &net->conv_enc[1], NULL, rng, err);
    if (!s) s = init_one(cfg, NULL, &net->enc, rng, err);
    if (!s) s = init_one(cfg, NULL, &net->dec, rng, err);
    if (!s) s = init_one(cfg, &net->conv_dec[0], NULL, rng, err);
    if (!s) s = init_one(cfg, &net->conv_dec[1], NULL, rng, err);
    return s;
}

vae_status vae__net_conv_init(vae_net *net, vae_rng *rng, vae_error *err) {
    const vae_net_cfg *cfg = &net->cfg;
    int h = cfg->img_h, w = cfg->img_w, c = cfg->img_c;
    if (h < 4 || w < 4 || c < 1 || c > 4 || h % 4 || w % 4 || (int64_t)h * w * c != cfg->x_dim)
        return vae_error_set(
            err, VAE_ERR_ARG,
            "vae_net: the conv net needs images whose height and width are "
            "multiples of 4 and 1..4 channels (h x w x c = x_dim); got %dx%dx%d for x_dim %lld",
            h, w, c, (long long)cfg->x_dim);
    int64_t c1 = ch(cfg, 0), c2 = ch(cfg, 1), feat = c2 * (h / 4) * (w / 4);
    int64_t P = net->lik->params_per_dim;
    vae_activation act = {cfg->act, cfg->act_alpha};
    vae_params *p = net->params;
    /* the fc part: features -> conv_hidden... -> 2Z, and Z -> conv_hidden reversed... -> features */
    int nh = cfg->nconv_hidden, n = nh + 2;
    int64_t enc_sizes[VAE_NET_MAX_HIDDEN + 2], dec_sizes[VAE_NET_MAX_HIDDEN + 2];
    enc_sizes[0] = feat, enc_sizes[n - 1] = 2 * cfg->z_dim;
    dec_sizes[0] = cfg->z_dim, dec_sizes[n - 1] = feat;
    for (int i = 0; i < nh; i++)
        enc_sizes[i + 1] = cfg->conv_hidden[i], dec_sizes[i + 1] = cfg->conv_hidden[nh - 1 - i];
    if (vae_conv2d_layer_init(&net->conv_enc[0], p, "enc.conv0", c, c1, 4, 2, 1, 1, err) ||
        vae_conv2d_layer_init(&net->conv_enc[1], p, "enc.conv1", c1, c2, 4, 2, 1, 1, err) ||
        vae_mlp_init(&net->enc, p, "enc.fc", n, enc_sizes, act, 0, err) ||
        vae_mlp_init(&net->dec, p, "dec.fc", n, dec_sizes, act, 1, err) ||
        vae_conv_transpose2d_layer_init(&net->conv_dec[0], p, "dec.convt0", c2, c1, 4, 2, 1, 0, 1,
                                        err) ||
        vae_conv_transpose2d_layer_init(&net->conv_dec[1], p, "dec.convt1", c1, c * P, 4, 2, 1, 0,
                                        1, err))
        return err && err->code ? err->code : VAE_ERR_OOM;
    return init_values(net, rng, err);
}

vae_tensor *vae__net_conv_encode(vae_ctx *ctx, vae_net *net, vae_tensor *x) {
    const vae_net_cfg *cfg = &net->cfg;
    if (!x) return NULL;
    if (x->ndim < 1 || x->ndim > VAE_MAX_DIMS - 2 || x->shape[x->ndim - 1] != cfg->x_dim) {
        char b[160];
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_SHAPE, "conv encoder: x %s does not end in %lld",
                      vae_shape_str(b, sizeof b, x->ndim, x->shape), (long long)cfg->x_dim);
        return NULL;
    }
    int L = x->ndim - 1; /* leading dims */
    int64_t shape[VAE_MAX_DIMS];
    int perm[VAE_MAX_DIMS];
    for (int d = 0; d < L; d++) shape[d] = x->shape[d], perm[d] = d;
    shape[L] = cfg->img_h, shape[L + 1] = cfg->img_w, shape[L + 2] = cfg->img_c;
    perm[L] = L + 2, perm[L + 1] = L, perm[L + 2] = L + 1; /* (..., h, w, c) -> (..., c, h, w) */
    vae_tensor *img = vae_permute(ctx, vae_reshape(ctx, x, L + 3, shape), perm);
    vae_activation act = {cfg->act, cfg->act_alpha};
    vae_tensor *h = vae_conv2d_layer_forward(ctx, &net->conv_enc[0], img, act);
    h = vae_conv2d_layer_forward(ctx, &net->conv_enc[1], h, act); /* (..., c2, h/4, w/4) */
    shape[L] = net->enc.layer[0].in;
    return vae_mlp_forward(ctx, &net->enc, vae_reshape(ctx, h, L + 1, shape)); /* (..., 2Z) */
}

vae_tensor *vae__net_conv_decode(vae_ctx *ctx, vae_net *net, vae_tensor *z) {
    const vae_net_cfg *cfg = &net->cfg;
    if (!z) return NULL;
    if (z->ndim < 1 || z->ndim > VAE_MAX_DIMS - 3) {
        char b[160];
        vae_error_set(vae_ctx_error(ctx), VAE_ERR_SHAPE, "conv decoder: z %s has too many dims",
                      vae_shape_str(b, sizeof b, z->ndim, z->shape));
        return NULL;
    }
    int L = z->ndim - 1;
    int64_t P = net->lik->params_per_dim, c = cfg->img_c;
    int64_t shape[VAE_MAX_DIMS];
    int perm[VAE_MAX_DIMS];
    for (int d = 0; d < L; d++) shape[d] = z->shape[d], perm[d] = d;
    vae_tensor *h = vae_mlp_forward(ctx, &net->dec, z); /* (..., c2*h/4*w/4), activated */
    shape[L] = ch(cfg, 1), shape[L + 1] = cfg->img_h / 4, shape[L + 2] = cfg->img_w / 4;
    h = vae_reshape(ctx, h, L + 3, shape);
    vae_activation act = {cfg->act, cfg->act_alpha}, none = vae_act_default(VAE_ACT_IDENTITY);
    h = vae_conv2d_layer_forward(ctx, &net->conv_dec[0], h, act);
    h = vae_conv2d_layer_forward(ctx, &net->conv_dec[1], h, none); /* (..., P*c, h, w) */
    if (P * c == 1) {
        shape[L] = cfg->x_dim;
        return vae_reshape(ctx, h, L + 1, shape);
    }
    /* (..., P, c, h, w) -> (..., P, h, w, c) -> (..., P*D): parameter p's block is laid out as x */
    shape[L] = P, shape[L + 1] = c, shape[L + 2] = cfg->img_h, shape[L + 3] = cfg->img_w;
    perm[L] = L, perm[L + 1] = L + 2, perm[L + 2] = L + 3, perm[L + 3] = L + 1;
    h = vae_permute(ctx, vae_reshape(ctx, h, L + 4, shape), perm);
    shape[L] = P * cfg->x_dim;
    return vae_reshape(ctx, vae_contiguous(ctx, h), L + 1, shape);
}

void vae__net_conv_init_output_bias(vae_net *net, const float *mean) {
    const vae_conv2d_layer *out = &net->conv_dec[1];
    int64_t c = net->cfg.img_c, n = net->cfg.x_dim / c;
    if (!out->b || out->b->shape[0] != c) return;
    float cm[4] = {0}; /* c <= 4 */
    for (int64_t ch = 0; ch < c && ch < 4; ch++) {
        double s = 0;
        for (int64_t i = 0; i < n; i++) s += mean[i * c + ch];
        cm[ch] = (float)(s / (double)n);
    }
    vae_init_bias_logit_mean(out->b, cm, 1e-3, NULL);
}
