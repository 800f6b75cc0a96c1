/* Models that persist (models/model.h): the description's text round trip, save + load with
 * bit-identical outputs, and the error paths (missing file, damaged metadata, unregistered
 * likelihood) leaving the output untouched. Usage: test_model [DIR] (temporary files go there). */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vae.h"

/* A 3-parameter likelihood only this test registers: (a | b | c) -> N(a + b, exp(c)). */
static vae_dist *make_tri(vae_ctx *c, vae_tensor *out, const double *opts) {
    (void)opts;
    vae_tensor *p[3];
    if (vae_likelihood_split(c, "model-tri", out, 3, p)) return NULL;
    return vae_normal_logvar(c, vae_add(c, p[0], p[1]), p[2]);
}
static const vae_likelihood tri = {"model-tri", 3, make_tri, "test: a | b | c -> N(a + b, exp(c))"};

/* encoder means and the decoder's log p(x|z) at z = mu, for x (4, D): what must survive a save. */
static void outputs(vae_ctx *c, vae_model *m, const double *xin, double *mu_out, double *lp_out) {
    vae_ctx_reset(c);
    int64_t D = m->desc.net.x_dim, Z = m->desc.net.z_dim;
    vae_tensor *x = vae_from_data(c, m->desc.net.dtype, VAE_SHAPE(4, D), VAE_F64, xin);
    vae_tensor *mu = NULL;
    vae_net_encode(c, &m->net, x, &mu, NULL);
    vae_tensor *lp = vae_dist_log_prob(c, vae_net_decode(c, &m->net, mu), x);
    CHECK_MSG(mu && lp, "%s", vae_ctx_message(c));
    for (int64_t i = 0; mu && i < 4 * Z; i++) mu_out[i] = vae_get_flat(mu, i);
    for (int64_t i = 0; lp && i < 4; i++) lp_out[i] = vae_get_flat(lp, i);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : ".";
    char path[1024], bad[1024], text_path[1024];
    snprintf(path, sizeof path, "%s/test_model.vae", dir);
    snprintf(bad, sizeof bad, "%s/test_model_bad.vae", dir);
    snprintf(text_path, sizeof text_path, "%s/test_model_nolik.vae", dir);
    CHECK(vae_likelihood_register(&tri) == VAE_OK);
    vae_ctx *c = vae_ctx_new(0);
    vae_error err = {0};

    /* a description with every kind of field */
    vae_model_desc d;
    vae_model_desc_default(&d);
    d.net.x_dim = 6, d.net.z_dim = 3, d.net.nhidden = 2, d.net.hidden[0] = 8, d.net.hidden[1] = 5;
    d.net.act = VAE_ACT_TANH, d.net.dtype = VAE_F64;
    snprintf(d.net.likelihood, sizeof d.net.likelihood, "model-tri");
    d.net.lik_opts[0] = 2.5, d.net.lik_opts[3] = 0.125;
    snprintf(d.model, sizeof d.model, "iwae");
    snprintf(d.objective, sizeof d.objective, "iwae:k=5");
    snprintf(d.estimator, sizeof d.estimator, "dreg");
    d.data.h = 2, d.data.w = 3, d.data.c = 1, d.data.scaled = 1, d.data.scale_lo = -1,
    d.data.scale_hi = 255;
    snprintf(d.data.binarize, sizeof d.data.binarize, "threshold");
    double mean[6] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, sd[6] = {1, 2, 3, 4, 5, 1.0 / 3};
    d.data.nstd = 6, d.data.col_mean = mean, d.data.col_std = sd;
    d.nplugins = 1;
    snprintf(d.plugins[0], sizeof d.plugins[0], "/opt/plugins/tri.so");
    CHECK(vae_model_desc_check(&d, &err) == VAE_OK);

    /* text round trip */
    char *text;
    size_t len;
    CHECK(vae_model_desc_write(&d, &text, &len, &err) == VAE_OK);
    CHECK(strncmp(text, "vae-run 1\n", 10) == 0 && strlen(text) == len);
    CHECK(strstr(text, "\nlik_opts 2.5,0,0,0.125,0,0,0,0\n") != NULL);
    CHECK(strstr(text, "\ncol_std 1,2,3,4,5,0.33333333333333331\n") != NULL);
    vae_model_desc e;
    vae_model_desc_default(&e);
    CHECK_MSG(vae_model_desc_parse(text, len, &e, &err) == VAE_OK, "%s", err.msg);
    CHECK(e.net.x_dim == 6 && e.net.z_dim == 3 && e.net.nhidden == 2 && e.net.hidden[1] == 5);
    CHECK(e.net.act == VAE_ACT_TANH && e.net.dtype == VAE_F64 && e.net.lik_opts[3] == 0.125);
    CHECK(!strcmp(e.model, "iwae") && !strcmp(e.objective, "iwae:k=5") && !strcmp(e.estimator, "dreg") &&
          !strcmp(e.baseline, "none") && !strcmp(e.data.binarize, "threshold"));
    CHECK(e.data.nstd == 6 && e.data.col_std[5] == 1.0 / 3 && e.data.col_mean[2] == 0.3);
    CHECK(e.data.scaled == 1 && e.data.scale_hi == 255 && e.data.h == 2 && e.data.w == 3);
    CHECK(e.nplugins == 1 && !strcmp(e.plugins[0], "/opt/plugins/tri.so"));
    /* unknown keys are someone else's; a bad value names its key and changes nothing */
    const char *extra = "vae-run 1\nlatent 7\nepochs_done 3\noptimizer adam\n";
    CHECK(vae_model_desc_parse(extra, strlen(extra), &e, &err) == VAE_OK && e.net.z_dim == 7 &&
          e.data.nstd == 0 && e.nplugins == 0);
    const char *badtexts[] = {"latent 7\n",
                              "vae-run 2\nlatent 3\n",
                              "vae-run 1\nlatent x\n",
                              "vae-run 1\nlatent 0\n",
                              "vae-run 1\nhidden 4,,5\n",
                              "vae-run 1\nactivation swish\n",
                              "vae-run 1\nx_dim 2\ncol_mean 1,2\n",
                              "vae-run 1\nx_dim 2\ncol_mean 1,2\ncol_std 1,0\n",
                              "vae-run 1\nplugin relative.so\n"};
    for (int i = 0; i < (int)(sizeof badtexts / sizeof *badtexts); i++) {
        vae_error be = {0};
        CHECK_MSG(vae_model_desc_parse(badtexts[i], strlen(badtexts[i]), &e, &be) != VAE_OK &&
                      be.msg[0] && e.net.z_dim == 7,
                  "text %d", i);
    }
    vae_model_desc_free(&e);

    /* save, load, the same outputs bit for bit */
    vae_rng rng;
    vae_rng_seed(&rng, 42);
    vae_model m;
    CHECK_MSG(vae_model_init(&m, &d, &rng, &err) == VAE_OK, "%s", err.msg);
    CHECK(m.desc.data.col_mean != mean && m.desc.data.col_mean[1] == 0.2); /* a deep copy */
    CHECK_MSG(vae_model_save(path, &m, &err) == VAE_OK, "%s", err.msg);
    vae_model l;
    memset(&l, 0, sizeof l);
    CHECK_MSG(vae_model_load(path, &l, &err) == VAE_OK, "%s", err.msg);
    double x[24], mu0[12], mu1[12], lp0[4], lp1[4];
    for (int i = 0; i < 24; i++) x[i] = 0.5 + 0.4 * sin(1.7 * i);
    outputs(c, &m, x, mu0, lp0);
    outputs(c, &l, x, mu1, lp1);
    CHECK(memcmp(mu0, mu1, sizeof mu0) == 0 && memcmp(lp0, lp1, sizeof lp0) == 0);
    CHECK(isfinite(lp0[0]) && lp0[0] != lp0[1]);
    CHECK(vae_params_numel(l.net.params) == vae_params_numel(m.net.params));
    CHECK(l.desc.data.nstd == 6 && l.desc.data.col_std[1] == 2 && l.desc.net.lik_opts[0] == 2.5);
    CHECK(!strcmp(l.desc.objective, "iwae:k=5") && l.net.lik == &tri);

    /* errors: the output is untouched */
    vae_model keep = l;
    vae_error me = {0};
    CHECK(vae_model_load("/nonexistent/model.vae", &l, &me) == VAE_ERR_IO);
    CHECK_MSG(strstr(me.msg, "/nonexistent/model.vae") != NULL, "%s", me.msg);
    CHECK(memcmp(&keep, &l, sizeof l) == 0);
    /* a valid checkpoint whose metadata is not a model description */
    vae_error be = {0};
    CHECK(vae_checkpoint_save(bad, m.net.params, NULL, "hello", 5, &be) == VAE_OK);
    CHECK(vae_model_load(bad, &l, &be) == VAE_ERR_FORMAT);
    CHECK_MSG(strstr(be.msg, "not a model checkpoint") && strstr(be.msg, "vae-run"), "%s", be.msg);
    CHECK(memcmp(&keep, &l, sizeof l) == 0);
    /* damaged bytes: the checkpoint's CRC catches them */
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    if (f) {
        fseek(f, 140, SEEK_SET);
        fputc('#', f);
        fclose(f);
    }
    vae_error ce = {0};
    CHECK(vae_model_load(path, &l, &ce) == VAE_ERR_CORRUPT && memcmp(&keep, &l, sizeof l) == 0);
    /* a likelihood nobody registered: named, with the model's plugin */
    snprintf(d.net.likelihood, sizeof d.net.likelihood, "nobody-has-it");
    char *t2;
    size_t l2;
    CHECK(vae_model_desc_write(&d, &t2, &l2, &err) == VAE_OK);
    CHECK(vae_checkpoint_save(text_path, m.net.params, NULL, t2, l2, &err) == VAE_OK);
    free(t2);
    vae_error ue = {0};
    CHECK(vae_model_load(text_path, &l, &ue) == VAE_ERR_ARG);
    CHECK_MSG(strstr(ue.msg, "\"nobody-has-it\" is not registered") &&
                  strstr(ue.msg, "/opt/plugins/tri.so"),
              "%s", ue.msg);
    CHECK(memcmp(&keep, &l, sizeof l) == 0);
    /* weights of another shape: the checkpoint's names/shapes check */
    d.net.likelihood[0] = 0;
    snprintf(d.net.likelihood, sizeof d.net.likelihood, "gaussian");
    CHECK(vae_model_desc_write(&d, &t2, &l2, &err) == VAE_OK);
    CHECK(vae_checkpoint_save(text_path, m.net.params, NULL, t2, l2, &err) == VAE_OK);
    free(t2);
    vae_error se = {0};
    CHECK(vae_model_load(text_path, &l, &se) == VAE_ERR_MISMATCH &&
          memcmp(&keep, &l, sizeof l) == 0);

    remove(path), remove(bad), remove(text_path);
    free(text);
    vae_model_free(&m);
    vae_model_free(&l);
    vae_model_free(NULL);
    vae_ctx_free(c);
    return test_finish();
}
