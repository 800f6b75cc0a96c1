/* schedule.h - learning-rate schedules: lr as a pure function of a step (or epoch) count t = 0, 1, 2, ...
 *
 * The unit of t is the caller's choice (steps or epochs), except for Burda's schedule, which is defined in epochs
 * (passes over the data). A typical loop: `opt.cfg.lr = vae_schedule_lr(&sched, t)` before each update.
 *   constant  lr
 *   step      lr * gamma^floor(t / step_size)
 *   cosine    floor + (lr - floor) * (1 + cos(pi * min(t, T) / T)) / 2   (reaches `floor` at t = T and stays)
 *   burda     lr * 10^(-i/7) during stage i = 0..7, stage i lasting 3^i epochs (Burda et al. 2016, IWAE);
 *             stage i starts at epoch (3^i - 1) / 2; after the 3280 epochs of the schedule stage 7's rate stays.
 * Linear warm-up composes with any of them: with warmup = W > 0, lr(t) = base(0) * (t + 1) / W for t < W, then
 * base(t - W), i.e. the base schedule starts when the warm-up ends.
 */
#ifndef VAE_SCHEDULE_H
#define VAE_SCHEDULE_H

#include <stdint.h>

#include "tensor/error.h"

typedef enum vae_schedule_kind {
    VAE_SCHEDULE_CONSTANT = 0,
    VAE_SCHEDULE_STEP,
    VAE_SCHEDULE_COSINE,
    VAE_SCHEDULE_BURDA,
    VAE_SCHEDULE_COUNT_
} vae_schedule_kind;

typedef struct vae_schedule {
    vae_schedule_kind kind;
    double lr;         /* base learning rate */
    int64_t step_size; /* STEP: decay every step_size units (> 0) */
    double gamma;      /* STEP: decay factor */
    int64_t total;     /* COSINE: T (> 0) */
    double floor_lr;   /* COSINE: final learning rate */
    int64_t warmup;    /* >= 0; 0 = no warm-up */
} vae_schedule;

/* Constructors (warm-up off). They never fail: arguments are checked by vae_schedule_lr. */
VAE_API vae_schedule vae_schedule_constant(double lr);
VAE_API vae_schedule vae_schedule_step(double lr, int64_t step_size, double gamma);
VAE_API vae_schedule vae_schedule_cosine(double lr, int64_t total, double floor_lr);
VAE_API vae_schedule vae_schedule_burda(double lr);
/* s with a linear warm-up of `warmup` units in front. Never fails. */
VAE_API vae_schedule vae_schedule_with_warmup(vae_schedule s, int64_t warmup);

/* Learning rate at t; NaN when s is NULL or invalid (bad kind, step_size or total <= 0, warmup < 0) or t < 0. */
VAE_API double vae_schedule_lr(const vae_schedule *s, int64_t t);
/* Burda's stage i (0..7) at epoch `epoch` (7 past the end); -1 for a negative epoch. */
VAE_API int vae_schedule_burda_stage(int64_t epoch);
/* Length of Burda's schedule in epochs: sum_{i=0..7} 3^i = 3280. Never fails. */
VAE_API int64_t vae_schedule_burda_total_epochs(void);

#endif
