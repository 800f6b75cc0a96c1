/* Learning-rate schedules. */
#include "schedule.h"

#include <math.h>

#define BURDA_STAGES 8
#define PI           3.14159265358979323846

vae_schedule vae_schedule_constant(double lr) {
    vae_schedule s = {.kind = VAE_SCHEDULE_CONSTANT, .lr = lr};
    return s;
}

vae_schedule vae_schedule_step(double lr, int64_t step_size, double gamma) {
    vae_schedule s = {.kind = VAE_SCHEDULE_STEP, .lr = lr, .step_size = step_size, .gamma = gamma};
    return s;
}

vae_schedule vae_schedule_cosine(double lr, int64_t total, double floor_lr) {
    vae_schedule s = {.kind = VAE_SCHEDULE_COSINE, .lr = lr, .total = total, .floor_lr = floor_lr};
    return s;
}

vae_schedule vae_schedule_burda(double lr) {
    vae_schedule s = {.kind = VAE_SCHEDULE_BURDA, .lr = lr};
    return s;
}

vae_schedule vae_schedule_with_warmup(vae_schedule s, int64_t warmup) {
    s.warmup = warmup;
    return s;
}

int64_t vae_schedule_burda_total_epochs(void) {
    int64_t n = 0, p = 1;
    for (int i = 0; i < BURDA_STAGES; i++, p *= 3) n += p;
    return n;
}

int vae_schedule_burda_stage(int64_t epoch) {
    if (epoch < 0) return -1;
    int64_t end = 0, p = 1; /* stage i covers [end_{i-1}, end_{i-1} + 3^i) */
    for (int i = 0; i < BURDA_STAGES; i++, p *= 3) {
        end += p;
        if (epoch < end) return i;
    }
    return BURDA_STAGES - 1;
}

static double base_lr(const vae_schedule *s, int64_t t) {
    switch (s->kind) {
    case VAE_SCHEDULE_CONSTANT:
        return s->lr;
    case VAE_SCHEDULE_STEP:
        return s->lr * pow(s->gamma, (double)(t / s->step_size));
    case VAE_SCHEDULE_COSINE: {
        double u = (double)(t < s->total ? t : s->total) / (double)s->total;
        return s->floor_lr + (s->lr - s->floor_lr) * 0.5 * (1.0 + cos(PI * u));
    }
    case VAE_SCHEDULE_BURDA:
        return s->lr * pow(10.0, -vae_schedule_burda_stage(t) / 7.0);
    default:
        return NAN;
    }
}

double vae_schedule_lr(const vae_schedule *s, int64_t t) {
    if (!s || t < 0 || (int)s->kind < 0 || s->kind >= VAE_SCHEDULE_COUNT_ || s->warmup < 0)
        return NAN;
    if ((s->kind == VAE_SCHEDULE_STEP && s->step_size <= 0) ||
        (s->kind == VAE_SCHEDULE_COSINE && s->total <= 0))
        return NAN;
    if (t < s->warmup) return base_lr(s, 0) * (double)(t + 1) / (double)s->warmup;
    return base_lr(s, t - s->warmup);
}
