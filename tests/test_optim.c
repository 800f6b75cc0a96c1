/* Optimizers on convex quadratics, Adam's first steps against reference values, weight decay, clipping, and the
 * learning-rate schedules at chosen steps (Burda's stage boundaries included). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/kernels.h"
#include "tensor/threadpool.h"
#include "test.h"
#include "vae.h"

/* f(theta) = sum_i 0.5 * a_i * (theta_i - c_i)^2, minimum at c; gradient written straight into the flat buffer. */
#define NQ 6
static const double qa[NQ] = {1.0, 4.0, 0.5, 2.0, 1.5, 3.0};
static const double qc[NQ] = {1.0, -2.0, 0.5, 3.0, -1.0, 0.25};

static void quad_grad(vae_params *p, const vae_tensor *t) {
    vae_params_zero_grad(p);
    for (int i = 0; i < NQ; i++) vae_set_flat(t->grad, i, qa[i] * (vae_get_flat(t, i) - qc[i]));
}

/* Run `steps` updates from theta = 0 and return max_i |theta_i - target_i| (target = c unless given). */
static double run_quad(vae_dtype dt, const vae_optim_config *cfg, int steps, const double *target) {
    vae_error err = {0};
    vae_params *p = vae_params_new(dt);
    vae_tensor *t = vae_params_add(p, "theta", VAE_SHAPE(NQ), &err);
    vae_optim o;
    if (vae_optim_init(&o, p, cfg, &err) != VAE_OK) {
        vae_params_free(p);
        return INFINITY;
    }
    for (int s = 0; s < steps; s++) {
        quad_grad(p, t);
        vae_optim_step(&o, &err);
    }
    double d = 0;
    for (int i = 0; i < NQ; i++)
        d = fmax(d, fabs(vae_get_flat(t, i) - (target ? target[i] : qc[i])));
    CHECK(o.step == steps && err.code == VAE_OK);
    vae_params_free(p);
    return d;
}

static void test_convex(void) {
    vae_optim_config c;
    c = vae_optim_defaults(VAE_OPTIM_SGD, 0.1);
    CHECK_MSG(run_quad(VAE_F64, &c, 500, NULL) < 1e-8, "sgd");
    c.momentum = 0.9;
    CHECK_MSG(run_quad(VAE_F64, &c, 500, NULL) < 1e-8, "sgd momentum");
    c.nesterov = 1;
    CHECK_MSG(run_quad(VAE_F64, &c, 500, NULL) < 1e-8, "sgd nesterov");
    CHECK_MSG(run_quad(VAE_F32, &c, 500, NULL) < 1e-5, "sgd nesterov f32");
    c = vae_optim_defaults(VAE_OPTIM_ADAM, 0.05);
    CHECK_MSG(run_quad(VAE_F64, &c, 3000, NULL) < 1e-4, "adam");
    CHECK_MSG(run_quad(VAE_F32, &c, 3000, NULL) < 1e-4, "adam f32");
    c = vae_optim_defaults(VAE_OPTIM_ADAMW, 0.05);
    c.weight_decay = 0;
    CHECK_MSG(run_quad(VAE_F64, &c, 3000, NULL) < 1e-4, "adamw");
    c = vae_optim_defaults(VAE_OPTIM_ADAGRAD, 0.5);
    CHECK_MSG(run_quad(VAE_F64, &c, 3000, NULL) < 1e-6, "adagrad");

    /* L2 weight decay moves the minimum of f + wd/2 |theta|^2 to a*c / (a + wd) */
    double shifted[NQ];
    for (int i = 0; i < NQ; i++) shifted[i] = qa[i] * qc[i] / (qa[i] + 0.5);
    c = vae_optim_defaults(VAE_OPTIM_SGD, 0.1);
    c.momentum = 0.5;
    c.weight_decay = 0.5;
    CHECK_MSG(run_quad(VAE_F64, &c, 1000, shifted) < 1e-8, "sgd + L2");
    c = vae_optim_defaults(VAE_OPTIM_ADAGRAD, 0.5);
    c.weight_decay = 0.5;
    CHECK_MSG(run_quad(VAE_F64, &c, 5000, shifted) < 1e-6, "adagrad + L2");
    c = vae_optim_defaults(VAE_OPTIM_ADAM, 0.05);
    c.weight_decay = 0.5;
    CHECK_MSG(run_quad(VAE_F64, &c, 4000, shifted) < 1e-4, "adam + L2");
}

/* Adam on f = 0.5 * (1 * x^2 + 4 * y^2) from (1, -0.5), lr 0.1, default betas/eps. The first step is
 * theta - lr * g / (|g| + eps) = (1 - 0.1/(1+1e-8), -0.5 + 0.1*2/(2+1e-8)) = (0.900000001, -0.4000000005); the rest
 * were computed in IEEE double with the update of optim.h in the same operation order (Python floats). */
static void test_adam_exact(void) {
    static const double ref[3][3][2] = {
        {{0.900000001, -0.4000000005},
         {0.8004122297123382, -0.30118742062343007},
         {0.701586274504415, -0.20487125097072387}},
        /* Adam, weight_decay 0.1 (L2 in the gradient) */
        {{0.9000000009090909, -0.4000000004878049},
         {0.8004122295267845, -0.30118742059816817},
         {0.7015862742210723, -0.20487125093195369}},
        /* AdamW, weight_decay 0.1 (decoupled: theta *= 1 - lr*wd first) */
        {{0.890000001, -0.3950000005},
         {0.7815718569541611, -0.29233870322270744},
         {0.6751012231892008, -0.19341560270340274}},
    };
    for (int v = 0; v < 3; v++) {
        vae_error err = {0};
        vae_params *p = vae_params_new(VAE_F64);
        vae_tensor *t = vae_params_add(p, "t", VAE_SHAPE(2), &err);
        vae_set_flat(t, 0, 1.0);
        vae_set_flat(t, 1, -0.5);
        vae_optim_config c = vae_optim_defaults(v == 2 ? VAE_OPTIM_ADAMW : VAE_OPTIM_ADAM, 0.1);
        c.weight_decay = v ? 0.1 : 0.0;
        vae_optim o;
        CHECK(vae_optim_init(&o, p, &c, &err) == VAE_OK && vae_params_slots(p) == 2);
        for (int s = 0; s < 3; s++) {
            vae_set_flat(t->grad, 0, 1.0 * vae_get_flat(t, 0));
            vae_set_flat(t->grad, 1, 4.0 * vae_get_flat(t, 1));
            CHECK(vae_optim_step(&o, &err) == VAE_OK);
            CHECK_MSG(vae_get_flat(t, 0) == ref[v][s][0] && vae_get_flat(t, 1) == ref[v][s][1],
                      "variant %d step %d: %.17g %.17g", v, s + 1, vae_get_flat(t, 0),
                      vae_get_flat(t, 1));
        }
        CHECK(o.step == 3);
        vae_params_free(p);
    }
}

/* Decay with a zero gradient isolates each form of weight decay. */
static void test_weight_decay_and_errors(void) {
    vae_error err = {0};
    vae_params *p = vae_params_new(VAE_F64);
    vae_tensor *t = vae_params_add(p, "t", VAE_SHAPE(3), &err);
    const double x0[3] = {2.0, -1.0, 0.5};
    vae_optim o;
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < 3; i++) vae_set_flat(t, i, x0[i]);
        vae_params_zero_grad(p);
        vae_optim_config c = vae_optim_defaults(k == 0   ? VAE_OPTIM_SGD
                                                : k == 1 ? VAE_OPTIM_ADAM
                                                         : VAE_OPTIM_ADAMW,
                                                0.1);
        c.weight_decay = 0.2;
        CHECK(vae_optim_init(&o, p, &c, &err) == VAE_OK);
        CHECK(vae_optim_step(&o, &err) == VAE_OK);
        for (int i = 0; i < 3; i++) {
            double want = k == 0   ? x0[i] - 0.1 * 0.2 * x0[i] /* SGD: g = wd * theta */
                          : k == 1 ? x0[i] - 0.1 * (0.2 * x0[i]) /
                                                 (fabs(0.2 * x0[i]) + 1e-8) /* Adam: lr * sign */
                                   : x0[i] * (1 - 0.1 * 0.2);               /* AdamW: pure shrink */
            CHECK_NEAR(vae_get_flat(t, i), want, 1e-15, 1e-14);
        }
    }
    /* a config made invalid between steps fails and changes nothing */
    double before = vae_get_flat(t, 0);
    o.cfg.beta1 = 1.5;
    CHECK(vae_optim_step(&o, &err) == VAE_ERR_ARG && o.step == 1 && vae_get_flat(t, 0) == before);
    vae_error_clear(&err);
    vae_optim fresh = {0};
    vae_optim_config bad = vae_optim_defaults(VAE_OPTIM_SGD, -1.0);
    CHECK(vae_optim_init(&fresh, p, &bad, &err) == VAE_ERR_ARG && fresh.params == NULL);
    vae_error_clear(&err);
    bad = vae_optim_defaults(VAE_OPTIM_SGD, 0.1);
    bad.nesterov = 1;
    CHECK(vae_optim_init(&fresh, p, &bad, &err) == VAE_ERR_ARG);
    vae_error_clear(&err);
    bad = vae_optim_defaults(VAE_OPTIM_NONE, 0.1);
    CHECK(vae_optim_init(&fresh, p, &bad, &err) == VAE_ERR_ARG);
    vae_error_clear(&err);
    CHECK(vae_optim_step(NULL, &err) == VAE_ERR_NULL);
    CHECK(strcmp(vae_optim_name(VAE_OPTIM_ADAMW), "adamw") == 0);
    vae_params_free(p);
}

static void test_clip(void) {
    vae_error err = {0};
    vae_params *p = vae_params_new(VAE_F32);
    vae_tensor *a = vae_params_add(p, "a", VAE_SHAPE(1), &err);
    vae_tensor *b = vae_params_add(p, "b", VAE_SHAPE(1), &err);
    vae_set_flat(a->grad, 0, 3.0);
    vae_set_flat(b->grad, 0, -4.0);
    CHECK_NEAR(vae_grad_norm(p), 5.0, 1e-12, 0);
    CHECK_NEAR(vae_clip_grad_norm(p, 10.0), 5.0, 1e-12, 0); /* below the threshold: untouched */
    CHECK(vae_get_flat(a->grad, 0) == 3.0f);
    CHECK_NEAR(vae_clip_grad_norm(p, 1.0), 5.0, 1e-12, 0); /* returns the pre-clip norm */
    CHECK_NEAR(vae_get_flat(a->grad, 0), 0.6, 1e-7, 0);
    CHECK_NEAR(vae_get_flat(b->grad, 0), -0.8, 1e-7, 0);
    CHECK_NEAR(vae_grad_norm(p), 1.0, 1e-6, 0);
    CHECK_NEAR(vae_clip_grad_norm(p, 0.0), 1.0, 1e-6, 0); /* max_norm <= 0: no clipping */
    CHECK_NEAR(vae_get_flat(a->grad, 0), 0.6, 1e-7, 0);
    vae_set_flat(a->grad, 0, NAN);
    CHECK(isnan(vae_clip_grad_norm(p, 1.0)) && isnan(vae_get_flat(a->grad, 0)));
    CHECK_NEAR(vae_get_flat(b->grad, 0), -0.8, 1e-7, 0); /* not scaled by NaN */
    CHECK(isnan(vae_clip_grad_norm(NULL, 1.0)));
    vae_params_free(p);
}

/* Adam through autograd: minimize sum((W x - y)^2) over a Linear's parameters in a store. */
static void test_adam_autograd(void) {
    vae_error err = {0};
    vae_params *p = vae_params_new(VAE_F32);
    vae_linear l;
    vae_linear_init(&l, p, "l", 3, 1, 1, &err);
    vae_rng rng;
    vae_rng_seed(&rng, 5);
    vae_linear_reset(&l, &rng, &err);
    vae_optim o;
    vae_optim_config c = vae_optim_defaults(VAE_OPTIM_ADAM, 0.05);
    vae_optim_init(&o, p, &c, &err);
    float xs[8 * 3], ys[8];
    for (int i = 0; i < 8; i++) {
        for (int j = 0; j < 3; j++) xs[i * 3 + j] = (float)(2 * vae_rng_uniform(&rng) - 1);
        ys[i] = 1.5f * xs[i * 3] - 2.0f * xs[i * 3 + 1] + 0.5f * xs[i * 3 + 2] + 0.25f;
    }
    vae_ctx *ctx = vae_ctx_new(0);
    double loss = 0;
    for (int s = 0; s < 2000; s++) {
        vae_ctx_reset(ctx);
        vae_params_zero_grad(p);
        vae_tensor *x = vae_wrap(ctx, VAE_F32, VAE_SHAPE(8, 3), xs),
                   *y = vae_wrap(ctx, VAE_F32, VAE_SHAPE(8, 1), ys);
        vae_tensor *L = vae_sum_all(
            ctx,
            vae_square(
                ctx, vae_sub(ctx, vae_linear_forward(ctx, &l, x, vae_act_default(VAE_ACT_IDENTITY)),
                             y)));
        loss = vae_item(L);
        vae_backward(ctx, L);
        vae_optim_step(&o, &err);
    }
    CHECK(vae_ctx_status(ctx) == VAE_OK && err.code == VAE_OK);
    CHECK_MSG(loss < 1e-6, "loss %g", loss);
    CHECK_NEAR(vae_get_flat(l.w, 0), 1.5, 1e-3, 0);
    CHECK_NEAR(vae_get_flat(l.w, 1), -2.0, 1e-3, 0);
    CHECK_NEAR(vae_get_flat(l.b, 0), 0.25, 1e-3, 0);
    vae_ctx_free(ctx);
    vae_params_free(p);
}

/* The parameter store's owner map (vae_params_owner_map) and the linear op's pinned, K-split GEMMs change which
 * thread does what, never a bit: a 784-600-784 net (both weights split by rows, the first one's forward split over
 * K) trained 3 Adam steps on 1, 2, 3 and 4 threads ends with the same parameters, and each step's gradient norm from
 * vae_optim_step_norm (formed in Adam's pass) is vae_grad_norm's, the same on every thread count; the map covers the
 * store once in whole chunks of the sum of squares, the weights by rows to within half a chunk. */
static void test_owner_threads(void) {
    vae_error err = {0};
    float *ref = NULL;
    double ref_norm[3] = {0};
    for (int nt = 1; nt <= 4; nt++) {
        CHECK(vae_threads_set(nt) == VAE_OK);
        vae_params *p = vae_params_new(VAE_F32);
        vae_linear l1, l2;
        vae_linear_init(&l1, p, "l1", 784, 600, 1, &err);
        vae_linear_init(&l2, p, "l2", 600, 784, 1, &err);
        vae_rng rng;
        vae_rng_seed(&rng, 6);
        vae_linear_reset(&l1, &rng, &err);
        vae_linear_reset(&l2, &rng, &err);
        vae_optim o;
        vae_optim_config c = vae_optim_defaults(VAE_OPTIM_ADAM, 1e-3);
        vae_optim_init(&o, p, &c, &err);
        enum { B = 40 };
        float *xs = malloc(sizeof(float) * B * 784);
        CHECK(xs != NULL && err.code == VAE_OK);
        if (!xs) return;
        for (int i = 0; i < B * 784; i++) xs[i] = (float)vae_rng_uniform(&rng);
        vae_ctx *ctx = vae_ctx_new(0);
        for (int s = 0; s < 3; s++) {
            vae_ctx_reset(ctx);
            vae_params_zero_grad(p);
            vae_tensor *x = vae_wrap(ctx, VAE_F32, VAE_SHAPE(B, 784), xs);
            vae_tensor *h = vae_linear_forward(ctx, &l1, x, vae_act_default(VAE_ACT_TANH));
            vae_tensor *y = vae_linear_forward(ctx, &l2, h, vae_act_default(VAE_ACT_IDENTITY));
            vae_backward(ctx, vae_sum_all(ctx, vae_square(ctx, vae_sub(ctx, y, x))));
            const double want = vae_grad_norm(p);
            double got = -1;
            CHECK(vae_optim_step_norm(&o, &got, &err) == VAE_OK);
            CHECK_MSG(memcmp(&got, &want, sizeof got) == 0 && want > 0,
                      "step %d, %d threads: norm from the step %.17g, vae_grad_norm %.17g", s, nt, got, want);
            if (nt == 1) ref_norm[s] = got;
            CHECK_MSG(memcmp(&got, &ref_norm[s], sizeof got) == 0, "step %d: norm on %d threads %.17g, 1 thread %.17g",
                      s, nt, got, ref_norm[s]);
        }
        CHECK(vae_ctx_status(ctx) == VAE_OK && err.code == VAE_OK);
        const int64_t n = vae_params_flat_len(p);
        const vae_owner_map *own = vae_params_owner_map(p);
        if (nt == 1)
            CHECK(own == NULL);
        else {
            CHECK(own && own->nthreads == nt && own->n == n);
            const int64_t chunk = vae_k_sumsq_chunk(n), edge = 784 / nt * 600; /* thread 0's rows of l1.weight */
            int64_t covered = 0;
            for (int i = 0; own && i < own->count; i++) {
                covered += own->hi[i] - own->lo[i];
                CHECK(own->who[i] >= 0 && own->who[i] < nt && (i == 0 || own->lo[i] == own->hi[i - 1]));
                CHECK(own->lo[i] % chunk == 0 && (own->hi[i] % chunk == 0 || own->hi[i] == n));
            }
            CHECK_MSG(own && own->lo[0] == 0 && covered == n, "owner map covers %lld of %lld", (long long)covered,
                      (long long)n);
            CHECK_MSG(own && own->who[0] == 0 && llabs(own->hi[0] - edge) <= chunk / 2,
                      "thread 0 owns [0, %lld) of l1.weight on %d threads, its rows end at %lld",
                      (long long)(own ? own->hi[0] : -1), nt, (long long)edge);
        }
        if (nt == 1) {
            ref = malloc(sizeof(float) * (size_t)n);
            if (ref) memcpy(ref, vae_params_values(p), sizeof(float) * (size_t)n);
        } else
            CHECK_MSG(ref && memcmp(ref, vae_params_values(p), sizeof(float) * (size_t)n) == 0,
                      "parameters after 3 steps on %d threads differ from 1 thread", nt);
        vae_ctx_free(ctx);
        free(xs);
        vae_params_free(p);
    }
    free(ref);
    CHECK(vae_threads_set(0) == VAE_OK);
}

static void test_schedules(void) {
    vae_schedule s = vae_schedule_constant(0.01);
    CHECK(vae_schedule_lr(&s, 0) == 0.01 && vae_schedule_lr(&s, 1000000) == 0.01);
    s = vae_schedule_step(0.1, 10, 0.5);
    CHECK_NEAR(vae_schedule_lr(&s, 0), 0.1, 1e-15, 0);
    CHECK_NEAR(vae_schedule_lr(&s, 9), 0.1, 1e-15, 0);
    CHECK_NEAR(vae_schedule_lr(&s, 10), 0.05, 1e-15, 0);
    CHECK_NEAR(vae_schedule_lr(&s, 25), 0.025, 1e-15, 0);
    s = vae_schedule_cosine(1.0, 100, 0.1);
    CHECK_NEAR(vae_schedule_lr(&s, 0), 1.0, 1e-15, 0);
    CHECK_NEAR(vae_schedule_lr(&s, 50), 0.55, 1e-15, 0);
    CHECK_NEAR(vae_schedule_lr(&s, 25), 0.1 + 0.9 * 0.5 * (1 + sqrt(0.5)), 1e-15, 0);
    CHECK_NEAR(vae_schedule_lr(&s, 100), 0.1, 1e-15, 0);
    CHECK_NEAR(vae_schedule_lr(&s, 500), 0.1, 1e-15, 0);
    vae_schedule w = vae_schedule_with_warmup(vae_schedule_constant(1.0), 4);
    CHECK(vae_schedule_lr(&w, 0) == 0.25 && vae_schedule_lr(&w, 1) == 0.5 &&
          vae_schedule_lr(&w, 3) == 1.0);
    CHECK(vae_schedule_lr(&w, 4) == 1.0);
    w = vae_schedule_with_warmup(s, 10); /* cosine starts when the warm-up ends */
    CHECK_NEAR(vae_schedule_lr(&w, 4), 0.5, 1e-15, 0);
    CHECK_NEAR(vae_schedule_lr(&w, 10), 1.0, 1e-15, 0);
    CHECK_NEAR(vae_schedule_lr(&w, 60), 0.55, 1e-15, 0);
    CHECK_NEAR(vae_schedule_lr(&w, 110), 0.1, 1e-15, 0);

    /* Burda et al.: stage i (lr * 10^(-i/7)) covers epochs [(3^i - 1)/2, (3^(i+1) - 1)/2) */
    CHECK(vae_schedule_burda_total_epochs() == 3280);
    s = vae_schedule_burda(1e-3);
    int64_t start = 0, len = 1;
    for (int i = 0; i < 8; i++, start += len, len *= 3) {
        CHECK(vae_schedule_burda_stage(start) == i);
        CHECK(vae_schedule_burda_stage(start + len - 1) == i);
        if (i) CHECK(vae_schedule_burda_stage(start - 1) == i - 1);
        CHECK_NEAR(vae_schedule_lr(&s, start), 1e-3 * pow(10.0, -i / 7.0), 1e-18, 1e-14);
        CHECK_NEAR(vae_schedule_lr(&s, start + len - 1), 1e-3 * pow(10.0, -i / 7.0), 1e-18, 1e-14);
    }
    CHECK(start == 3280);
    CHECK_NEAR(vae_schedule_lr(&s, 1), 1e-3 * pow(10.0, -1 / 7.0), 1e-18, 1e-14);
    CHECK_NEAR(vae_schedule_lr(&s, 3), 1e-3 * pow(10.0, -1 / 7.0), 1e-18, 1e-14);
    CHECK_NEAR(vae_schedule_lr(&s, 4), 1e-3 * pow(10.0, -2 / 7.0), 1e-18, 1e-14);
    CHECK_NEAR(vae_schedule_lr(&s, 3279), 1e-4, 1e-18, 1e-14);
    CHECK_NEAR(vae_schedule_lr(&s, 100000), 1e-4, 1e-18, 1e-14);
    CHECK(vae_schedule_burda_stage(-1) == -1);

    /* invalid schedules give NaN */
    vae_schedule bad = vae_schedule_step(0.1, 0, 0.5);
    CHECK(isnan(vae_schedule_lr(&bad, 3)));
    bad = vae_schedule_cosine(0.1, 0, 0.0);
    CHECK(isnan(vae_schedule_lr(&bad, 3)));
    CHECK(isnan(vae_schedule_lr(NULL, 3)) && isnan(vae_schedule_lr(&s, -1)));
}

/* vae_k_sumsq (the gradient norm's kernel): against a long double sum, f32 and f64, below one chunk (4096,
 * vae_k_sumsq_chunk) and over several, with a tail; the same bits for 1-4 threads and every ISA variant; 0 for
 * nothing. */
static void test_sumsq(void) {
    enum { N = 3 * 16384 + 37 };
    static float f[N];
    static double d[N];
    vae_rng r;
    vae_rng_seed(&r, 31);
    for (int i = 0; i < N; i++)
        d[i] = vae_rng_normal(&r) * (i % 7 == 0 ? 1e3 : 1e-2), f[i] = (float)d[i];
    const int64_t ns[3] = {5, 16384, N};
    for (int k = 0; k < 3; k++)
        for (int is64 = 0; is64 < 2; is64++) {
            long double want = 0;
            for (int64_t i = 0; i < ns[k]; i++) {
                const long double v = is64 ? d[i] : f[i];
                want += v * v;
            }
            double ref = 0;
            int first = 1, same = 1;
            for (int pa = VAE_SIMD_PORTABLE; pa < VAE_SIMD_PATH_COUNT_; pa++) {
                if (vae_simd_set_path((vae_simd_path)pa) != VAE_OK) continue;
                for (int nt = 1; nt <= 4; nt++) {
                    vae_threads_set(nt);
                    const double got =
                        vae_k_sumsq(is64 ? (const void *)d : (const void *)f, ns[k], is64);
                    if (first) ref = got, first = 0;
                    same &= memcmp(&got, &ref, sizeof got) == 0;
                }
            }
            vae_simd_set_path(VAE_SIMD_AUTO);
            vae_threads_set(0);
            CHECK_MSG(same, "n %lld f64 %d: bits differ across ISA / threads", (long long)ns[k],
                      is64);
            CHECK_NEAR(ref, (double)want, 0, 1e-14);
        }
    CHECK(vae_k_sumsq(f, 0, 0) == 0 && vae_k_sumsq(NULL, 10, 0) == 0);
}

int main(void) {
    test_sumsq();
    test_convex();
    test_adam_exact();
    test_weight_decay_and_errors();
    test_clip();
    test_adam_autograd();
    test_owner_threads();
    test_schedules();
    return test_finish();
}
