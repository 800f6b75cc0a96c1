/* The convolutional encoder/decoder (models/vae_net_conv.c, cfg.net "conv"): its parameters and their names, the
 * layout of x and of the decoder's output (checked against the same layers applied by hand), leading particle
 * dims, the model text keys (net, conv_channels, conv_hidden; absent = mlp), save/load, the errors, the output
 * bias, fully connected hidden layers (conv_hidden) against the same layers by hand, and a short training run
 * whose loss must fall. */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vae.h"

enum { H = 8, W = 8, C = 2, Z = 3, D = H * W * C };

static void conv_cfg(vae_net_cfg *c, const char *lik, vae_dtype dt) {
    vae_net_cfg_default(c);
    snprintf(c->net, sizeof c->net, "conv");
    c->img_h = H, c->img_w = W, c->img_c = C;
    c->x_dim = D;
    c->z_dim = Z;
    c->conv_ch[0] = 3, c->conv_ch[1] = 4;
    c->dtype = dt;
    snprintf(c->likelihood, sizeof c->likelihood, "%s", lik);
}

static vae_tensor *pattern(vae_ctx *ctx, vae_dtype dt, int nd, const int64_t *shape, double ph) {
    vae_tensor *t = vae_zeros(ctx, dt, nd, shape);
    for (int64_t i = 0; t && i < vae_numel(t); i++)
        vae_set_flat(t, i, 0.5 + 0.5 * sin(0.7 * i + ph));
    return t;
}

static double max_diff(const vae_tensor *a, const vae_tensor *b) {
    if (!a || !b || vae_numel(a) != vae_numel(b)) return 1e30;
    double e = 0;
    for (int64_t i = 0; i < vae_numel(a); i++)
        e = fmax(e, fabs(vae_get_flat(a, i) - vae_get_flat(b, i)));
    return e;
}

/* The encoder's conv part applied by hand: x (B, h*w*c) interleaved, read as (B, c, h, w), two conv + ReLU
 * layers, flattened to (B, 4 * h/4 * w/4). */
static vae_tensor *conv_features(vae_ctx *ctx, const vae_net *net, vae_tensor *x, int64_t B) {
    vae_activation relu = vae_act_default(VAE_ACT_RELU);
    vae_tensor *img =
        vae_permute(ctx, vae_reshape(ctx, x, VAE_SHAPE(B, H, W, C)), (int[]){0, 3, 1, 2});
    vae_tensor *h = vae_conv2d_layer_forward(ctx, &net->conv_enc[0], img, relu);
    h = vae_conv2d_layer_forward(ctx, &net->conv_enc[1], h, relu);
    return vae_reshape(ctx, h, VAE_SHAPE(B, 4 * (H / 4) * (W / 4)));
}

/* vae_net_init with an rng seeded `seed`; 0 with the error reported when it fails. */
static int init_net(vae_net *net, const vae_net_cfg *cfg, uint64_t seed) {
    vae_rng rng;
    vae_rng_seed(&rng, seed);
    vae_error err = {0};
    CHECK_MSG(vae_net_init(net, cfg, &rng, &err) == VAE_OK, "%s", err.msg);
    return err.code == VAE_OK;
}

static void test_params_and_layout(void) {
    vae_net_cfg cfg;
    conv_cfg(&cfg, "gaussian-learned", VAE_F64); /* P = 2 parameters per pixel */
    vae_net net;
    if (!init_net(&net, &cfg, 5)) return;
    /* enc.conv0, enc.conv1, enc.fc.0, dec.fc.0, dec.convt0, dec.convt1: weight and bias each */
    CHECK(vae_params_count(net.params) == 12);
    for (int i = 0; i < vae_params_count(net.params); i++) {
        const char *n = vae_params_get(net.params, i)->name;
        CHECK_MSG(!strncmp(n, "enc.", 4) || !strncmp(n, "dec.", 4), "parameter %s", n);
    }
    vae_tensor *w0 = vae_params_find(net.params, "enc.conv0.weight");
    vae_tensor *wl = vae_params_find(net.params, "dec.convt1.weight");
    CHECK(w0 && w0->shape[0] == 3 && w0->shape[1] == C && w0->shape[2] == 4);
    CHECK(wl && wl->shape[0] == 3 && wl->shape[1] == C * 2); /* (in, out = c * P, 4, 4) */
    CHECK(vae_params_find(net.params, "enc.fc.0.weight")->shape[0] == 4 * (H / 4) * (W / 4));
    /* PyTorch's default init: |w| <= 1/sqrt(fan_in), fan_in = weight.shape[1] * 16 */
    double bound = 1 / sqrt(C * 16.0), mx = 0;
    for (int64_t i = 0; i < vae_numel(w0); i++) mx = fmax(mx, fabs(vae_get_flat(w0, i)));
    CHECK(mx <= bound && mx > 0.5 * bound);

    vae_ctx *ctx = vae_ctx_new(0);
    /* encoder: x (B, h*w*c) interleaved == the layers applied to x as (B, c, h, w) */
    vae_tensor *x = pattern(ctx, VAE_F64, VAE_SHAPE(2, D), 0.3), *mu, *lv;
    CHECK(vae_net_encode(ctx, &net, x, &mu, &lv) != NULL);
    vae_activation relu = vae_act_default(VAE_ACT_RELU), id = vae_act_default(VAE_ACT_IDENTITY);
    vae_tensor *e = vae_mlp_forward(ctx, &net.enc, conv_features(ctx, &net, x, 2));
    CHECK_MSG(max_diff(mu, vae_slice(ctx, e, 1, 0, Z, 1)) == 0 &&
                  max_diff(lv, vae_slice(ctx, e, 1, Z, 2 * Z, 1)) == 0,
              "encoder differs from its layers: %s", vae_ctx_message(ctx));
    /* decoder: z (K, B, Z) -> loc (K, B, D); loc[k, b, (i*w + j)*c + ch] = output channel ch (parameter 0) */
    vae_tensor *z = pattern(ctx, VAE_F64, VAE_SHAPE(2, 3, Z), 1.1);
    vae_tensor *loc = vae_net_decode_mean(ctx, &net, z);
    CHECK(loc && loc->ndim == 3 && loc->shape[0] == 2 && loc->shape[1] == 3 && loc->shape[2] == D);
    vae_tensor *g = vae_mlp_forward(ctx, &net.dec, z);
    g = vae_reshape(ctx, g, VAE_SHAPE(2, 3, 4, H / 4, W / 4));
    g = vae_conv2d_layer_forward(ctx, &net.conv_dec[0], g, relu);
    g = vae_conv2d_layer_forward(ctx, &net.conv_dec[1], g, id); /* (2, 3, c*P, h, w) */
    CHECK(g && g->shape[2] == C * 2 && g->shape[3] == H && g->shape[4] == W);
    double el = 0;
    for (int64_t k = 0; g && loc && k < 2; k++)
        for (int64_t b = 0; b < 3; b++)
            for (int64_t i = 0; i < H; i++)
                for (int64_t j = 0; j < W; j++)
                    for (int64_t ch = 0; ch < C; ch++) {
                        double want = vae_get(g, (int64_t[]){k, b, ch, i, j});
                        double got = vae_get(loc, (int64_t[]){k, b, (i * W + j) * C + ch});
                        el = fmax(el, fabs(want - got));
                    }
    CHECK_MSG(el == 0, "decoder layout: loc differs from channel ch at (i, j) by %g", el);
    /* leading dims: decoding z[1] alone gives the second particle's rows */
    vae_tensor *loc1 =
        vae_net_decode_mean(ctx, &net, vae_squeeze(ctx, vae_slice(ctx, z, 0, 1, 2, 1), 0));
    CHECK(max_diff(loc1, vae_slice(ctx, loc, 0, 1, 2, 1)) == 0);
    /* the decoder's distribution: log p(x|z) over (K, B) */
    vae_dist *px = vae_net_decode(ctx, &net, z);
    vae_tensor *lp =
        px ? vae_dist_log_prob(ctx, px, pattern(ctx, VAE_F64, VAE_SHAPE(3, D), 0.1)) : NULL;
    CHECK_MSG(lp && lp->ndim == 2 && lp->shape[0] == 2 && lp->shape[1] == 3, "%s",
              vae_ctx_message(ctx));
    CHECK(vae_ctx_status(ctx) == VAE_OK);
    vae_ctx_free(ctx);
    vae_net_free(&net);
}

static void test_errors_and_bias(void) {
    vae_net_cfg cfg;
    vae_net net;
    vae_rng rng;
    vae_rng_seed(&rng, 1);
    vae_error err = {0};
    conv_cfg(&cfg, "bernoulli", VAE_F32);
    cfg.img_h = 6, cfg.x_dim = 6 * W * C;
    CHECK(vae_net_init(&net, &cfg, &rng, &err) == VAE_ERR_ARG);
    CHECK_MSG(strstr(err.msg, "multiples of 4") && strstr(err.msg, "6x8x2"), "%s", err.msg);
    conv_cfg(&cfg, "bernoulli", VAE_F32);
    cfg.x_dim = D + 1;
    CHECK(vae_net_init(&net, &cfg, &rng, &err) == VAE_ERR_ARG);
    snprintf(cfg.net, sizeof cfg.net, "rnn");
    err = (vae_error){0};
    CHECK(vae_net_init(&net, &cfg, &rng, &err) == VAE_ERR_ARG);
    CHECK_MSG(strstr(err.msg, "unknown net 'rnn'"), "%s", err.msg);
    /* the output bias at the logit of each channel's mean pixel */
    conv_cfg(&cfg, "bernoulli", VAE_F32);
    CHECK(vae_net_init(&net, &cfg, &rng, &err) == VAE_OK);
    float mean[D];
    for (int i = 0; i < D; i++) mean[i] = i % C == 0 ? 0.2f : 0.6f;
    vae_net_init_output_bias(&net, mean);
    vae_tensor *b = net.conv_dec[1].b;
    CHECK_NEAR(vae_get_flat(b, 0), log(0.2 / 0.8), 1e-5, 0);
    CHECK_NEAR(vae_get_flat(b, 1), log(0.6 / 0.4), 1e-5, 0);
    vae_net_free(&net);
}

static void test_model_text(void) {
    vae_model_desc d;
    vae_model_desc_default(&d);
    conv_cfg(&d.net, "bernoulli", VAE_F32);
    d.data.h = H, d.data.w = W, d.data.c = C;
    vae_error err = {0};
    char *text = NULL;
    size_t len = 0;
    CHECK(vae_model_desc_write(&d, &text, &len, &err) == VAE_OK);
    CHECK(text && strstr(text, "\nnet conv\n") && strstr(text, "\nconv_channels 3,4\n"));
    vae_model_desc back;
    vae_model_desc_default(&back);
    CHECK_MSG(vae_model_desc_parse(text, len, &back, &err) == VAE_OK, "%s", err.msg);
    CHECK(!strcmp(back.net.net, "conv") && back.net.conv_ch[0] == 3 && back.net.conv_ch[1] == 4);
    CHECK(back.net.img_h == H && back.net.img_w == W && back.net.img_c == C);
    /* save, load, same encoder output */
    vae_model m, m2;
    vae_rng rng;
    vae_rng_seed(&rng, 9);
    CHECK_MSG(vae_model_init(&m, &d, &rng, &err) == VAE_OK, "%s", err.msg);
    char path[] = "/tmp/vae_conv_net_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK_MSG(vae_model_save(path, &m, &err) == VAE_OK, "%s", err.msg);
    CHECK_MSG(vae_model_load(path, &m2, &err) == VAE_OK, "%s", err.msg);
    remove(path);
    vae_ctx *ctx = vae_ctx_new(0);
    vae_tensor *x = pattern(ctx, VAE_F32, VAE_SHAPE(3, D), 0.0), *mu1, *mu2;
    vae_net_encode(ctx, &m.net, x, &mu1, NULL);
    vae_net_encode(ctx, &m2.net, x, &mu2, NULL);
    CHECK(vae_ctx_status(ctx) == VAE_OK && max_diff(mu1, mu2) == 0);
    CHECK(!strcmp(m2.net.cfg.net, "conv"));
    vae_ctx_free(ctx);
    vae_model_free(&m);
    vae_model_free(&m2);
    vae_model_desc_free(&back);
    /* an MLP's text has no net key, and a text without it reads as mlp */
    vae_model_desc mlp;
    vae_model_desc_default(&mlp);
    mlp.net.x_dim = D;
    free(text);
    CHECK(vae_model_desc_write(&mlp, &text, &len, &err) == VAE_OK);
    CHECK(text && !strstr(text, "net "));
    vae_model_desc_default(&back);
    snprintf(back.net.net, sizeof back.net.net, "conv");
    CHECK(vae_model_desc_parse(text, len, &back, &err) ==
          VAE_ERR_ARG); /* conv kept, but no images */
    vae_model_desc_default(&back);
    CHECK(vae_model_desc_parse(text, len, &back, &err) == VAE_OK && !strcmp(back.net.net, "mlp"));
    free(text);
    /* bad values: an unknown family, conv on tabular data, bad channel counts */
    const char *bad[] = {"vae-run 1\nnet rnn\n", "vae-run 1\nx_dim 4\ntabular 1\nnet conv\n",
                         "vae-run 1\nnet conv\nconv_channels 3\n",
                         "vae-run 1\nnet conv\nconv_channels 3,-1\n"};
    const char *why[] = {"is not mlp or conv", "tabular", "two channel counts",
                         "two channel counts"};
    for (int i = 0; i < 4; i++) {
        vae_model_desc_default(&back);
        err = (vae_error){0};
        CHECK(vae_model_desc_parse(bad[i], strlen(bad[i]), &back, &err) != VAE_OK);
        CHECK_MSG(strstr(err.msg, why[i]), "\"%s\": %s", bad[i], err.msg);
    }
}

/* conv_hidden {5, 6}: the encoder's fc is features (4*2*2) -> 5 -> 6 -> 2Z and the decoder's Z -> 6 -> 5 ->
 * features, act after each decoder layer; the net's output equals the same layers applied by hand. */
static void test_fc_hidden(void) {
    vae_net_cfg cfg;
    conv_cfg(&cfg, "bernoulli", VAE_F64);
    cfg.nconv_hidden = 2, cfg.conv_hidden[0] = 5, cfg.conv_hidden[1] = 6;
    vae_net net;
    if (!init_net(&net, &cfg, 8)) return;
    CHECK(vae_params_count(net.params) == 20); /* 4 conv layers + 3 + 3 fc layers, weight and bias */
    const char *names[] = {"enc.fc.0.weight", "enc.fc.1.weight", "enc.fc.2.weight",
                           "dec.fc.0.weight", "dec.fc.1.weight", "dec.fc.2.weight"};
    const int64_t in[] = {16, 5, 6, Z, 6, 5}, out[] = {5, 6, 2 * Z, 6, 5, 16};
    for (int i = 0; i < 6; i++) {
        vae_tensor *w = vae_params_find(net.params, names[i]);
        CHECK_MSG(w && w->shape[0] == in[i] && w->shape[1] == out[i], "%s", names[i]);
    }
    CHECK(net.dec.act_last && !net.enc.act_last);
    vae_ctx *ctx = vae_ctx_new(0);
    vae_tensor *x = pattern(ctx, VAE_F64, VAE_SHAPE(3, D), 0.7), *mu, *lv;
    CHECK(vae_net_encode(ctx, &net, x, &mu, &lv) != NULL);
    vae_activation relu = vae_act_default(VAE_ACT_RELU), id = vae_act_default(VAE_ACT_IDENTITY);
    vae_tensor *h = conv_features(ctx, &net, x, 3); /* (3, 16) */
    for (int i = 0; i < 3; i++)
        h = vae_linear_forward(ctx, &net.enc.layer[i], h, i < 2 ? relu : id);
    CHECK_MSG(max_diff(mu, vae_slice(ctx, h, 1, 0, Z, 1)) == 0 &&
                  max_diff(lv, vae_slice(ctx, h, 1, Z, 2 * Z, 1)) == 0,
              "encoder differs from its layers: %s", vae_ctx_message(ctx));
    vae_tensor *z = pattern(ctx, VAE_F64, VAE_SHAPE(3, Z), 0.4);
    vae_tensor *loc = vae_net_decode_mean(ctx, &net, z), *g = z;
    for (int i = 0; i < 3; i++) g = vae_linear_forward(ctx, &net.dec.layer[i], g, relu);
    g = vae_conv2d_layer_forward(ctx, &net.conv_dec[0], vae_reshape(ctx, g, VAE_SHAPE(3, 4, 2, 2)),
                                 relu);
    g = vae_conv2d_layer_forward(ctx, &net.conv_dec[1], g, id); /* (3, C, H, W) */
    g = vae_reshape(ctx, vae_contiguous(ctx, vae_permute(ctx, g, (int[]){0, 2, 3, 1})),
                    VAE_SHAPE(3, D));
    g = vae_sigmoid(ctx, g); /* the Bernoulli mean of the logits */
    CHECK_MSG(loc && max_diff(loc, g) < 1e-15, "decoder differs from its layers by %g: %s",
              max_diff(loc, g), vae_ctx_message(ctx));
    CHECK(vae_ctx_status(ctx) == VAE_OK);
    vae_ctx_free(ctx);
    vae_net_free(&net);
    /* refused: a size of 0, too many layers, conv_hidden on the MLP net */
    vae_rng rng;
    vae_rng_seed(&rng, 8);
    vae_error err = {0};
    cfg.conv_hidden[1] = 0;
    CHECK(vae_net_init(&net, &cfg, &rng, &err) == VAE_ERR_ARG && strstr(err.msg, "conv_hidden"));
    cfg.conv_hidden[1] = 6, cfg.nconv_hidden = VAE_NET_MAX_HIDDEN + 1;
    CHECK(vae_net_init(&net, &cfg, &rng, &err) == VAE_ERR_ARG && strstr(err.msg, "conv_hidden"));
    cfg.nconv_hidden = 2;
    snprintf(cfg.net, sizeof cfg.net, "mlp");
    err = (vae_error){0};
    CHECK(vae_net_init(&net, &cfg, &rng, &err) == VAE_ERR_ARG);
    CHECK_MSG(strstr(err.msg, "conv_hidden is for the conv net"), "%s", err.msg);
    /* the model text: conv_hidden written only when set, read back */
    vae_model_desc d, back;
    vae_model_desc_default(&d);
    conv_cfg(&d.net, "bernoulli", VAE_F32);
    d.net.nconv_hidden = 2, d.net.conv_hidden[0] = 5, d.net.conv_hidden[1] = 6;
    d.data.h = H, d.data.w = W, d.data.c = C;
    char *text = NULL;
    size_t len = 0;
    CHECK(vae_model_desc_write(&d, &text, &len, &err) == VAE_OK);
    CHECK(text && strstr(text, "\nconv_hidden 5,6\n"));
    vae_model_desc_default(&back);
    CHECK_MSG(vae_model_desc_parse(text, len, &back, &err) == VAE_OK, "%s", err.msg);
    CHECK(back.net.nconv_hidden == 2 && back.net.conv_hidden[0] == 5 &&
          back.net.conv_hidden[1] == 6);
    vae_model_desc_free(&back);
    free(text);
    const char *bad[] = {"vae-run 1\nnet conv\nconv_hidden 5,x\n",
                         "vae-run 1\nx_dim 4\nconv_hidden 5\n"};
    const char *why[] = {"is not a list of layer sizes", "only with net conv"};
    for (int i = 0; i < 2; i++) {
        vae_model_desc_default(&back);
        err = (vae_error){0};
        CHECK(vae_model_desc_parse(bad[i], strlen(bad[i]), &back, &err) != VAE_OK);
        CHECK_MSG(strstr(err.msg, why[i]), "\"%s\": %s", bad[i], err.msg);
        vae_model_desc_free(&back);
    }
}

/* 40 Adam steps of the VAE objective on 8x8x2 blobs: the loss falls (fixed seed, f32). */
static void test_training(void) {
    vae_net_cfg cfg;
    conv_cfg(&cfg, "bernoulli", VAE_F32);
    vae_net net;
    vae_rng rng;
    vae_rng_seed(&rng, 3);
    vae_error err = {0};
    CHECK(vae_net_init(&net, &cfg, &rng, &err) == VAE_OK);
    vae_optim opt;
    vae_optim_config oc = vae_optim_defaults(VAE_OPTIM_ADAM, 1e-2);
    CHECK(vae_optim_init(&opt, net.params, &oc, &err) == VAE_OK);
    vae_objective_cfg ocfg;
    vae_objective_cfg_default(&ocfg);
    CHECK(vae_objective_parse_spec(&ocfg, "vae", &err) == VAE_OK);
    vae_objective_state st;
    memset(&st, 0, sizeof st);
    float xb[16 * D];
    for (int n = 0; n < 16; n++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++)
                for (int ch = 0; ch < C; ch++)
                    xb[((n * H + i) * W + j) * C + ch] =
                        (float)((i + n % 4 + ch) % 4 < 2 && j > n % 3);
    vae_ctx *ctx = vae_ctx_new(0);
    vae_ctx_seed(ctx, 4);
    double first = 0, last = 0;
    for (int s = 0; s < 40; s++) {
        vae_ctx_reset(ctx);
        vae_params_zero_grad(net.params);
        vae_objective_out o;
        vae_tensor *x = vae_wrap(ctx, VAE_F32, VAE_SHAPE(16, D), xb);
        CHECK_MSG(vae_objective(ctx, &net, x, &ocfg, &st, &o) == VAE_OK, "%s",
                  vae_ctx_message(ctx));
        CHECK(vae_backward(ctx, o.loss) == VAE_OK);
        CHECK(vae_optim_step(&opt, &err) == VAE_OK);
        if (s < 5) first += o.bound_mean / 5;
        if (s >= 35) last += o.bound_mean / 5;
    }
    printf("conv VAE on 8x8x2 blobs: bound %.2f (steps 0-4) -> %.2f (steps 35-39)\n", first, last);
    CHECK_MSG(last > first + 8, "the bound rose only from %g to %g", first, last);
    vae_ctx_free(ctx);
    vae_net_free(&net);
}

int main(void) {
    test_params_and_layout();
    test_errors_and_bias();
    test_model_text();
    test_fc_hidden();
    test_training();
    return test_finish();
}
