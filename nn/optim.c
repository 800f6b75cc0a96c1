/* Optimizer updates: one loop per step over the flat buffers, instantiated for f32 and f64 storage. */
#include "optim.h"

#include <math.h>
#include <string.h>

#include "tensor/kernels.h"
#include "tensor/threadpool.h"

static const char *const optim_names[VAE_OPTIM_COUNT_] = {"none", "sgd", "adam", "adamw",
                                                          "adagrad"};

const char *vae_optim_name(vae_optim_kind kind) {
    return ((int)kind >= 0 && kind < VAE_OPTIM_COUNT_) ? optim_names[kind] : "unknown";
}

vae_optim_config vae_optim_defaults(vae_optim_kind kind, double lr) {
    vae_optim_config c = {.kind = kind, .lr = lr, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    if (kind == VAE_OPTIM_ADAGRAD) c.eps = 1e-10;
    if (kind == VAE_OPTIM_ADAMW) c.weight_decay = 0.01;
    return c;
}

int vae_optim_slots(const vae_optim_config *cfg) {
    if (!cfg) return 0;
    switch (cfg->kind) {
    case VAE_OPTIM_SGD:
        return cfg->momentum != 0 ? 1 : 0;
    case VAE_OPTIM_ADAM:
    case VAE_OPTIM_ADAMW:
        return 2;
    case VAE_OPTIM_ADAGRAD:
        return 1;
    default:
        return 0;
    }
}

static int in01(double x) {
    return x >= 0 && x < 1;
}

vae_status vae_optim_check(const vae_optim_config *c, vae_error *err) {
    if (!c) return vae_error_set(err, VAE_ERR_NULL, "optim: NULL config");
    const char *n = vae_optim_name(c->kind);
    if (c->kind <= VAE_OPTIM_NONE || c->kind >= VAE_OPTIM_COUNT_)
        return vae_error_set(err, VAE_ERR_ARG, "optim: unknown optimizer kind %d", (int)c->kind);
    if (!(c->lr >= 0 && isfinite(c->lr)))
        return vae_error_set(err, VAE_ERR_ARG, "optim %s: lr %g must be finite and >= 0", n, c->lr);
    if (!(c->weight_decay >= 0 && isfinite(c->weight_decay)))
        return vae_error_set(err, VAE_ERR_ARG, "optim %s: weight_decay %g must be finite and >= 0",
                             n, c->weight_decay);
    if (c->kind == VAE_OPTIM_SGD) {
        if (!in01(c->momentum))
            return vae_error_set(err, VAE_ERR_ARG, "optim sgd: momentum %g is outside [0, 1)",
                                 c->momentum);
        if (c->nesterov && c->momentum == 0)
            return vae_error_set(err, VAE_ERR_ARG, "optim sgd: nesterov needs momentum > 0");
        return VAE_OK;
    }
    if (c->kind != VAE_OPTIM_ADAGRAD && (!in01(c->beta1) || !in01(c->beta2)))
        return vae_error_set(err, VAE_ERR_ARG, "optim %s: betas (%g, %g) must be in [0, 1)", n,
                             c->beta1, c->beta2);
    if (!(c->eps > 0 && isfinite(c->eps)))
        return vae_error_set(err, VAE_ERR_ARG, "optim %s: eps %g must be finite and > 0", n,
                             c->eps);
    return VAE_OK;
}

vae_status vae_optim_init(vae_optim *o, vae_params *p, const vae_optim_config *cfg,
                          vae_error *err) {
    if (!o || !p) return vae_error_set(err, VAE_ERR_NULL, "optim_init: NULL argument");
    vae_status st = vae_optim_check(cfg, err);
    if (st) return st;
    if ((st = vae_params_ensure_slots(p, vae_optim_slots(cfg), err))) return st;
    vae_params_zero_slots(p);
    o->params = p;
    o->cfg = *cfg;
    o->step = 0;
    return VAE_OK;
}

/* Scalars of one step, precomputed outside the loop. */
typedef struct step_k {
    double lr, wd, mu, b1, b2, eps;
    double step_size, sqrt_bc2; /* Adam: lr / (1 - b1^t), sqrt(1 - b2^t) */
    int nesterov;
} step_k;

/* One loop per optimizer and storage type T. x: values, g: gradients, s0/s1: state slots, n: flat length. */
#define DEFINE_STEPS(T, SUF)                                                                       \
    static void sgd_##SUF(T *x, const T *g, T *buf, int64_t n, const step_k *k) {                  \
        for (int64_t i = 0; i < n; i++) {                                                          \
            double gi = (double)g[i] + k->wd * (double)x[i];                                       \
            if (buf) {                                                                             \
                double b = k->mu * (double)buf[i] + gi;                                            \
                buf[i] = (T)b;                                                                     \
                gi = k->nesterov ? gi + k->mu * b : b;                                             \
            }                                                                                      \
            x[i] = (T)((double)x[i] - k->lr * gi);                                                 \
        }                                                                                          \
    }                                                                                              \
    static inline void adam_##SUF(T *x, const T *g, T *m, T *v, int64_t n, const step_k *k,        \
                                  double decay) {                                                  \
        for (int64_t i = 0; i < n; i++) {                                                          \
            double xi = (double)x[i] * decay;                                                      \
            double gi = (double)g[i] + k->wd * xi;                                                 \
            double mi = k->b1 * (double)m[i] + (1 - k->b1) * gi;                                   \
            double vi = k->b2 * (double)v[i] + (1 - k->b2) * gi * gi;                              \
            m[i] = (T)mi;                                                                          \
            v[i] = (T)vi;                                                                          \
            x[i] = (T)(xi - k->step_size * mi / (sqrt(vi) / k->sqrt_bc2 + k->eps));                \
        }                                                                                          \
    }                                                                                              \
    static void adagrad_##SUF(T *x, const T *g, T *s, int64_t n, const step_k *k) {                \
        for (int64_t i = 0; i < n; i++) {                                                          \
            double gi = (double)g[i] + k->wd * (double)x[i];                                       \
            double si = (double)s[i] + gi * gi;                                                    \
            s[i] = (T)si;                                                                          \
            x[i] = (T)((double)x[i] - k->lr * gi / (sqrt(si) + k->eps));                           \
        }                                                                                          \
    }

DEFINE_STEPS(float, f32)
DEFINE_STEPS(double, f64)

/* Adam/AdamW on f32 storage, the hot case: float arithmetic, vectorized per ISA (tensor/kernels_optim.c). */
static void adam_f32_fast(float *x, const float *g, float *m, float *v, int64_t n, const step_k *k,
                          double decay, const vae_owner_map *own, double *sumsq) {
    const vae_k_adam a = {(float)k->b1,  (float)k->b2,        (float)k->wd,
                          (float)k->eps, (float)k->step_size, (float)(1.0 / k->sqrt_bc2),
                          (float)decay};
    vae_k_adam_f32(x, m, v, g, n, &a, own, sumsq);
}

vae_status vae_optim_step(vae_optim *o, vae_error *err) {
    return vae_optim_step_norm(o, NULL, err);
}

vae_status vae_optim_step_norm(vae_optim *o, double *grad_norm, vae_error *err) {
    if (!o || !o->params)
        return vae_error_set(err, VAE_ERR_NULL, "optim_step: NULL or uninitialized optimizer");
    const vae_optim_config *c = &o->cfg;
    vae_status st = vae_optim_check(c, err);
    if (st) return st;
    vae_params *p = o->params;
    /* cfg may have been edited (e.g. momentum switched on) since init: make sure its slots exist */
    if ((st = vae_params_ensure_slots(p, vae_optim_slots(c), err))) return st;
    int64_t t = o->step + 1, n = vae_params_flat_len(p);
    step_k k = {.lr = c->lr,
                .wd = c->weight_decay,
                .mu = c->momentum,
                .b1 = c->beta1,
                .b2 = c->beta2,
                .eps = c->eps,
                .nesterov = c->nesterov};
    double decay = 1.0;
    if (c->kind == VAE_OPTIM_ADAMW) {
        decay = 1.0 - c->lr * c->weight_decay;
        k.wd = 0;
    }
    if (c->kind == VAE_OPTIM_ADAM || c->kind == VAE_OPTIM_ADAMW) {
        k.step_size = c->lr / (1.0 - pow(c->beta1, (double)t));
        k.sqrt_bc2 = sqrt(1.0 - pow(c->beta2, (double)t));
    }
    void *x = vae_params_values(p), *g = vae_params_grads(p);
    void *s0 = vae_params_slot(p, 0), *s1 = vae_params_slot(p, 1);
    int f64 = vae_params_dtype(p) == VAE_F64;
    /* the norm of the gradient this step uses: from the f32 Adam pass itself, else one pass before the update */
    double sumsq = 0;
    const int fused = !f64 && (c->kind == VAE_OPTIM_ADAM || c->kind == VAE_OPTIM_ADAMW);
    if (grad_norm && !fused && n > 0) sumsq = vae_k_sumsq(g, n, f64);
    if (n > 0) switch (c->kind) {
        case VAE_OPTIM_SGD:
            if (c->momentum == 0) s0 = NULL;
            if (f64)
                sgd_f64(x, g, s0, n, &k);
            else
                sgd_f32(x, g, s0, n, &k);
            break;
        case VAE_OPTIM_ADAM:
        case VAE_OPTIM_ADAMW:
            if (f64)
                adam_f64(x, g, s0, s1, n, &k, decay);
            else
                adam_f32_fast(x, g, s0, s1, n, &k, decay, vae_params_owner_map(p), grad_norm ? &sumsq : NULL);
            break;
        case VAE_OPTIM_ADAGRAD:
            if (f64)
                adagrad_f64(x, g, s0, n, &k);
            else
                adagrad_f32(x, g, s0, n, &k);
            break;
        default:
            break;
        }
    o->step = t;
    if (grad_norm) *grad_norm = sqrt(sumsq);
    return VAE_OK;
}

/* The sum of squares is a per-ISA kernel (kernels.h vae_k_sumsq: fixed chunks on the pool, 32 interleaved f64
 * partial sums, the same bits for any thread count): the whole gradient, 650k floats for W1, is summed every
 * training step for the log and the divergence check. */
double vae_grad_norm(const vae_params *p) {
    const int64_t n = vae_params_flat_len(p);
    const void *g = vae_params_grads(p);
    if (!g || n <= 0) return 0;
    return sqrt(vae_k_sumsq(g, n, vae_params_dtype(p) == VAE_F64));
}

double vae_clip_grad_norm(vae_params *p, double max_norm) {
    if (!p) return NAN;
    double norm = vae_grad_norm(p);
    if (!(max_norm > 0) || !isfinite(norm) || norm <= max_norm) return norm;
    double scale = max_norm / norm;
    int64_t n = vae_params_flat_len(p);
    void *g = vae_params_grads(p);
    if (vae_params_dtype(p) == VAE_F64)
        for (int64_t i = 0; i < n; i++) ((double *)g)[i] *= scale;
    else
        for (int64_t i = 0; i < n; i++) ((float *)g)[i] = (float)((double)((float *)g)[i] * scale);
    return norm;
}
