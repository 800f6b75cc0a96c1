/* progress.h - human-readable progress on stderr.
 *
 * On a terminal: one bar redrawn in place (at most 10 times a second) with epoch, step, ELBO,
 * samples/s and ETA, unless `every` > 0. Otherwise (a log file, a pipe, or every > 0): a plain line every `every` steps, or every 10
 * s when every is 0. Epoch summaries and notes are always whole lines. Nothing here goes to stdout,
 * which carries only the final JSON.
 */
#ifndef VAE_CLI_PROGRESS_H
#define VAE_CLI_PROGRESS_H

#include <stdint.h>

typedef struct progress {
    int tty;
    int quiet;
    int64_t total;      /* steps of the whole run (for the bar and the ETA) */
    int64_t every;      /* non-TTY: print every this many steps (0 = every 10 s) */
    int64_t start_step; /* steps already done when this process started (resume) */
    double t0, last;    /* clock at start and at the last print */
    int bar_shown;
} progress;

/* Seconds on a monotonic clock. */
double clock_now(void);

void progress_init(progress *p, int64_t start_step, int64_t total_steps, int64_t every, int quiet);
/* One training step done: global step `step` (1-based), epoch (1-based) of `epochs`, the batch's
 * ELBO and the current throughput. */
void progress_step(progress *p, int64_t step, int64_t epoch, int64_t epochs, double elbo,
                   double samples_per_s);
/* A work item done in a non-training loop ("eval", done of total). */
void progress_count(progress *p, const char *what, int64_t done, int64_t total);
/* A whole line (clears the bar first). printf-style. */
void progress_note(progress *p, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Erase the bar (before the final output). */
void progress_clear(progress *p);

#endif
