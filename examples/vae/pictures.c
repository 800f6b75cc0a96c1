#include "pictures.h"

#include "models/discrete.h"
#include "models/flow_prior.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd/ops.h"
#include "families.h"
#include "plot.h"
#include "tensor/io/png.h"
#include "models/eval.h"
#include "run.h"
#include "run_data.h"
#include "tensor/atomic_file.h"
#include "tensor/npy.h"

#define DECODE_CHUNK 256

int pic_decode_means(vae_ctx *ctx, vae_net *net, const float *z, int64_t m, float *out, char *msg,
                     size_t n) {
    int64_t Z = vae_net_latent_dim(net), D = net->cfg.x_dim;
    int prev = vae_set_grad_enabled(ctx, 0);
    int rc = 0;
    for (int64_t i0 = 0; i0 < m && rc == 0; i0 += DECODE_CHUNK) {
        int64_t c = m - i0 < DECODE_CHUNK ? m - i0 : DECODE_CHUNK;
        vae_ctx_reset(ctx);
        vae_net_select_labels(net, i0, c); /* a conditional net: the labels set for the m rows */
        vae_tensor *zt = vae_cast(
            ctx, vae_wrap(ctx, VAE_F32, VAE_SHAPE(c, Z), (void *)(z + i0 * Z)), net->cfg.dtype);
        vae_tensor *mean = zt ? vae_net_decode_mean(ctx, net, zt) : NULL;
        if (!mean || vae_numel(mean) != c * D) {
            snprintf(msg, n, "decoding: %s",
                     vae_ctx_message(ctx)[0] ? vae_ctx_message(ctx) : "failed");
            rc = -1;
            break;
        }
        for (int64_t k = 0; k < c * D; k++) out[i0 * D + k] = (float)vae_get_flat(mean, k);
    }
    vae_ctx_reset(ctx);
    vae_ctx_clear_error(ctx);
    vae_set_grad_enabled(ctx, prev);
    return rc;
}

int pic_write_grid(const run_config *cfg, const char *path, const float *imgs, int n, int ncols,
                   char *msg, size_t msglen) {
    int h = cfg->h, w = cfg->w, c = cfg->c;
    int oc = c == 1 || c == 2 ? 1 : 3; /* gray (+alpha) -> gray, RGB(A) -> RGB */
    int up = h < 64 && w < 64 ? 64 / (h > w ? h : w)
                              : 1; /* small images are enlarged (nearest neighbour) */
    if (up < 1) up = 1;
    int H = h * up, W = w * up;
    int64_t opx = (int64_t)H * W;
    float *buf = malloc(sizeof(float) * (size_t)(opx * oc) * (size_t)n);
    if (!buf) {
        snprintf(msg, msglen, "out of memory for %s", path);
        return -1;
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t y = 0; y < H; y++)
            for (int64_t x = 0; x < W; x++)
                for (int k = 0; k < oc; k++)
                    buf[((i * H + y) * W + x) * oc + k] =
                        imgs[((i * h + y / up) * w + x / up) * c + k];
    vae_error err = {0};
    int rc = vae_png_write_grid(path, buf, n, H, W, oc, ncols, up, &err) ? -1 : 0;
    if (rc) snprintf(msg, msglen, "%s", err.msg);
    free(buf);
    return rc;
}

int pic_write_csv(const run_config *cfg, const char *path, const float *rows, int64_t m, char *msg,
                  size_t msglen) {
    int64_t D = cfg->x_dim;
    float *row = malloc(sizeof(float) * (size_t)D);
    if (!row) {
        snprintf(msg, msglen, "out of memory");
        return -1;
    }
    vae_atomic_file af;
    vae_error err = {0};
    if (vae_atomic_open(&af, path, &err) == VAE_OK) {
        for (int64_t j = 0; j < D; j++) fprintf(af.f, "%sx%lld", j ? "," : "", (long long)j);
        fputc('\n', af.f);
        for (int64_t i = 0; i < m; i++) {
            run_data_unprocess_row(cfg, rows + i * D, row);
            for (int64_t j = 0; j < D; j++) fprintf(af.f, "%s%.7g", j ? "," : "", row[j]);
            fputc('\n', af.f);
        }
        vae_atomic_commit(&af, &err);
    }
    free(row);
    if (err.code) snprintf(msg, msglen, "%s", err.msg);
    return err.code ? -1 : 0;
}

static int write_npy_rows(const run_config *cfg, const char *path, const float *rows, int64_t m,
                          char *msg, size_t msglen) {
    int64_t shape[4] = {m, cfg->h, cfg->w, cfg->c};
    int ndim = cfg->tabular ? 2 : cfg->c == 1 ? 3 : 4;
    if (cfg->tabular) shape[1] = cfg->x_dim;
    float *conv = NULL;
    if (cfg->tabular || cfg->scaled) {
        conv = malloc(sizeof(float) * (size_t)(m * cfg->x_dim));
        if (!conv) {
            snprintf(msg, msglen, "out of memory");
            return -1;
        }
        for (int64_t i = 0; i < m; i++)
            run_data_unprocess_row(cfg, rows + i * cfg->x_dim, conv + i * cfg->x_dim);
    }
    vae_error err = {0};
    int rc = vae_npy_write(path, VAE_NPY_F4, ndim, shape, conv ? conv : rows, &err) ? -1 : 0;
    if (rc) snprintf(msg, msglen, "%s", err.msg);
    free(conv);
    return rc;
}

int pic_samples(vae_ctx *ctx, vae_net *net, const run_config *cfg, const char *dir, int n,
                vae_rng *rng, int write_npy, int64_t cls, char *msg, size_t msglen) {
    int64_t Z = vae_net_latent_dim(net), D = net->cfg.x_dim;
    float *z = malloc(sizeof(float) * (size_t)(n * Z)),
          *x = malloc(sizeof(float) * (size_t)(n * D));
    int64_t *y = malloc(sizeof(int64_t) * (size_t)n);
    int cols = vae_net_conditional(net) ? 8 : 0; /* a conditional model: one class per row */
    char path[RUN_PATH_MAX];
    int rc = -1;
    if (!z || !x || !y) {
        snprintf(msg, msglen, "out of memory");
        goto done;
    }
    if (vae_net_conditional(net)) { /* the class of each row, and z from p(z|y) */
        if (family_prior_z(ctx, net, n, cols, cls, rng, y, z, msg, msglen)) goto done;
    } else if (vae_net_discrete(net)) { /* the uniform prior: one class of C per variable, or fair bits */
        int64_t C = net->cfg.latent_kind == VAE_LATENT_CATEGORICAL ? net->cfg.latent_classes : 1;
        for (int64_t i = 0; i < n * Z; i += C) {
            int64_t hot = C > 1 ? (int64_t)vae_rng_below(rng, (uint64_t)C) : 0;
            for (int64_t c = 0; c < C; c++)
                z[i + c] = C > 1 ? (float)(c == hot) : (float)vae_rng_bernoulli(rng, 0.5);
        }
    } else if (vae_net_prior_draw(ctx, net, n, rng, z)) {
        /* N(0, I), the mixture prior, or z2 ~ N(0, I) then z1 ~ p(z1|z2) */
        snprintf(msg, msglen, "sampling the prior: %s", vae_ctx_message(ctx));
        vae_ctx_clear_error(ctx);
        goto done;
    }
    if (pic_decode_means(ctx, net, z, n, x, msg, msglen)) goto done;
    if (path_join(path, sizeof path, dir, cfg->tabular ? "samples.csv" : "samples.png", msg,
                  msglen))
        goto done;
    if (cfg->tabular ? pic_write_csv(cfg, path, x, n, msg, msglen)
                     : pic_write_grid(cfg, path, x, n, cols, msg, msglen))
        goto done;
    if (write_npy && (path_join(path, sizeof path, dir, "samples.npy", msg, msglen) ||
                      write_npy_rows(cfg, path, x, n, msg, msglen)))
        goto done;
    rc = 0;
done:
    vae_net_set_labels(net, NULL, 0, NULL);
    free(z), free(x), free(y);
    return rc;
}

/* Originals above reconstructions: 8 columns, rows alternate originals / reconstructions. */
static int pic_reconstructions(vae_ctx *ctx, vae_net *net, const run_config *cfg,
                               const vae_dataset *data, const char *dir, char *msg, size_t msglen) {
    int64_t Z = vae_net_latent_dim(net), D = net->cfg.x_dim;
    int m = data->n < 16 ? (int)data->n : 16, cols = m < 8 ? m : 8;
    float *mu = malloc(sizeof(float) * (size_t)(m * Z)),
          *rec = malloc(sizeof(float) * (size_t)(m * D));
    float *grid =
        malloc(sizeof(float) * (size_t)(2 * m * D) + sizeof(float) * (size_t)(2 * cols * D));
    char path[RUN_PATH_MAX];
    int rc = -1;
    if (!mu || !rec || !grid) {
        snprintf(msg, msglen, "out of memory");
        goto done;
    }
    if (family_prepare(net, data, m, 0, msg, msglen)) goto done;
    if (vae_encode_all(ctx, net, data->x, m, m, mu, NULL)) {
        snprintf(msg, msglen, "encoding: %s", vae_ctx_message(ctx));
        vae_ctx_clear_error(ctx);
        goto done;
    }
    if (pic_decode_means(ctx, net, mu, m, rec, msg, msglen)) goto done;
    if (cfg->tabular) {
        /* originals then reconstructions, one CSV row each, in original units */
        memcpy(grid, data->x, sizeof(float) * (size_t)(m * D));
        memcpy(grid + m * D, rec, sizeof(float) * (size_t)(m * D));
        if (path_join(path, sizeof path, dir, "reconstructions.csv", msg, msglen) ||
            pic_write_csv(cfg, path, grid, 2 * m, msg, msglen))
            goto done;
        rc = 0;
        goto done;
    }
    int cells = 0;
    for (int r0 = 0; r0 < m; r0 += cols) {
        for (int pass = 0; pass < 2; pass++)
            for (int k = 0; k < cols; k++, cells++) {
                float *dst = grid + (int64_t)cells * D;
                if (r0 + k < m)
                    memcpy(dst,
                           pass ? rec + (int64_t)(r0 + k) * D : data->x + (int64_t)(r0 + k) * D,
                           sizeof(float) * (size_t)D);
                else
                    for (int64_t j = 0; j < D; j++) dst[j] = 0.5f;
            }
    }
    if (path_join(path, sizeof path, dir, "reconstructions.png", msg, msglen) ||
        pic_write_grid(cfg, path, grid, cells, cols, msg, msglen))
        goto done;
    rc = 0;
done:
    vae_net_set_labels(net, NULL, 0, NULL);
    free(mu), free(rec), free(grid);
    return rc;
}

#define TRAVERSAL_STEPS 11
#define TRAVERSAL_ROWS  16

static int pic_traversal(vae_ctx *ctx, vae_net *net, const run_config *cfg, const vae_dataset *data,
                         const double *kl, const char *dir, char *msg, size_t msglen) {
    int64_t Z = vae_net_latent_dim(net), D = net->cfg.x_dim;
    /* the units the decoder reads: z, or z1 of (z1, z2) with two stochastic layers */
    int64_t Zd = net->cfg.z_dim;
    int rows = Zd < TRAVERSAL_ROWS ? (int)Zd : TRAVERSAL_ROWS, cells = rows * TRAVERSAL_STEPS;
    float *mu = malloc(sizeof(float) * (size_t)Z), *z = malloc(sizeof(float) * (size_t)(cells * Z));
    float *x = malloc(sizeof(float) * (size_t)(cells * D));
    int64_t *order = malloc(sizeof(int64_t) * (size_t)Z);
    char path[RUN_PATH_MAX];
    int rc = -1;
    if (!mu || !z || !x || !order) {
        snprintf(msg, msglen, "out of memory");
        goto done;
    }
    if (vae_encode_all(ctx, net, data->x, 1, 1, mu, NULL)) {
        snprintf(msg, msglen, "encoding: %s", vae_ctx_message(ctx));
        vae_ctx_clear_error(ctx);
        goto done;
    }
    for (int64_t j = 0; j < Zd; j++) order[j] = j;
    if (kl) /* insertion sort by KL, largest first: the informative dims on top */
        for (int64_t a = 1; a < Zd; a++)
            for (int64_t b = a; b > 0 && kl[order[b]] > kl[order[b - 1]]; b--) {
                int64_t t = order[b];
                order[b] = order[b - 1], order[b - 1] = t;
            }
    for (int r = 0; r < rows; r++)
        for (int s = 0; s < TRAVERSAL_STEPS; s++) {
            float *zc = z + (int64_t)(r * TRAVERSAL_STEPS + s) * Z;
            memcpy(zc, mu, sizeof(float) * (size_t)Z);
            zc[order[r]] = (float)(-3.0 + 6.0 * s / (TRAVERSAL_STEPS - 1));
        }
    if (pic_decode_means(ctx, net, z, cells, x, msg, msglen)) goto done;
    if (path_join(path, sizeof path, dir, "traversal.png", msg, msglen) ||
        pic_write_grid(cfg, path, x, cells, TRAVERSAL_STEPS, msg, msglen))
        goto done;
    rc = 0;
done:
    free(mu), free(z), free(x), free(order);
    return rc;
}

#define MANIFOLD_N 20

/* Kingma & Welling (2014), fig. 4: decoder means over a grid of the Gaussian inverse CDF. */
static int pic_manifold(vae_ctx *ctx, vae_net *net, const run_config *cfg, const char *dir,
                        char *msg, size_t msglen) {
    int64_t D = net->cfg.x_dim, cells = MANIFOLD_N * MANIFOLD_N;
    float *z = malloc(sizeof(float) * (size_t)(cells * 2)),
          *x = malloc(sizeof(float) * (size_t)(cells * D));
    char path[RUN_PATH_MAX];
    int rc = -1;
    if (!z || !x) {
        snprintf(msg, msglen, "out of memory");
        goto done;
    }
    for (int r = 0; r < MANIFOLD_N; r++)
        for (int c = 0; c < MANIFOLD_N; c++) {
            z[(r * MANIFOLD_N + c) * 2 + 0] = (float)norm_ppf((c + 0.5) / MANIFOLD_N);
            z[(r * MANIFOLD_N + c) * 2 + 1] =
                (float)norm_ppf(1.0 - (r + 0.5) / MANIFOLD_N); /* z2 up */
        }
    if (pic_decode_means(ctx, net, z, cells, x, msg, msglen)) goto done;
    if (path_join(path, sizeof path, dir, "manifold.png", msg, msglen) ||
        pic_write_grid(cfg, path, x, (int)cells, MANIFOLD_N, msg, msglen))
        goto done;
    rc = 0;
done:
    free(z), free(x);
    return rc;
}

int pic_all(vae_ctx *ctx, vae_net *net, const run_config *cfg, const vae_dataset *data,
            const double *kl, const char *dir, char *msg, size_t msglen) {
    vae_rng rng;
    vae_rng_seed(&rng, (uint64_t)cfg->seed + 7);
    int cond = vae_net_conditional(net); /* its grid: 8 samples of each class per row */
    int64_t C = net->cfg.n_classes < 16 ? net->cfg.n_classes : 16;
    if (pic_samples(ctx, net, cfg, dir, cond ? 8 * (int)C : 64, &rng, 0, -1, msg, msglen))
        return -1;
    if (data && data->n > 0) {
        if (pic_reconstructions(ctx, net, cfg, data, dir, msg, msglen)) return -1;
        if (!cfg->tabular && !cond && pic_traversal(ctx, net, cfg, data, kl, dir, msg, msglen))
            return -1;
    }
    if (!cfg->tabular && !cond && vae_net_latent_dim(net) == 2 && !net->cfg.z2_dim &&
        pic_manifold(ctx, net, cfg, dir, msg, msglen))
        return -1;
    return family_pictures(ctx, net, cfg, dir, msg, msglen);
}

int pic_learning_curve(const char *dir, const char *bound_name, const double *train_bound,
                       const double *valid_bound, const double *valid_elbo, int n, char *msg,
                       size_t msglen) {
    int have_valid = 0;
    for (int i = 0; i < n; i++) have_valid |= isfinite(valid_elbo[i]) || isfinite(valid_bound[i]);
    char tn[96], vn[96];
    snprintf(tn, sizeof tn, "train %s", bound_name && bound_name[0] ? bound_name : "bound");
    snprintf(vn, sizeof vn, "valid %s", bound_name && bound_name[0] ? bound_name : "bound");
    vae_plot_series s[3] = {{.name = tn, .y = train_bound, .n = n},
                            {.name = vn, .y = valid_bound, .n = n},
                            {.name = "valid ELBO", .y = valid_elbo, .n = n}};
    vae_plot p = {.title = "bound per epoch",
                  .xlabel = "epoch",
                  .ylabel = "nats",
                  .series = s,
                  .nseries = have_valid ? 3 : 1,
                  .markers = n <= 30};
    char path[RUN_PATH_MAX];
    vae_error err = {0};
    if (path_join(path, sizeof path, dir, "learning_curve.png", msg, msglen)) return -1;
    if (vae_plot_write_png(&p, path, 640, 420, &err)) {
        snprintf(msg, msglen, "%s", err.msg);
        return -1;
    }
    if (path_join(path, sizeof path, dir, "learning_curve.svg", msg, msglen)) return -1;
    if (vae_plot_write_svg(&p, path, 640, 420, &err)) {
        snprintf(msg, msglen, "%s", err.msg);
        return -1;
    }
    return 0;
}

double norm_ppf(double p) {
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    if (!(p > 0 && p < 1)) return p <= 0 ? -INFINITY : p >= 1 ? INFINITY : NAN;
    double x, q, r;
    if (p < 0.02425) {
        q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p > 1 - 0.02425) {
        q = sqrt(-2 * log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else {
        q = p - 0.5;
        r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    /* one Newton step on Phi(x) - p */
    double e = 0.5 * erfc(-x / sqrt(2.0)) - p;
    double u = e * 2.5066282746310002 * exp(x * x / 2); /* sqrt(2 pi) */
    return x - u / (1 + x * u / 2);
}
