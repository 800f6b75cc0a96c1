#include "progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double clock_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void progress_init(progress *p, int64_t start_step, int64_t total_steps, int64_t every, int quiet) {
    memset(p, 0, sizeof *p);
    p->tty = isatty(2) && every <= 0; /* --log-every N asks for plain lines, on a terminal too */
    p->quiet = quiet;
    p->total = total_steps;
    p->every = every;
    p->start_step = start_step;
    p->t0 = p->last = clock_now();
}

static void fmt_time(char *b, size_t n, double s) {
    if (!(s >= 0) || s > 1e7) {
        snprintf(b, n, "--:--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(b, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(b, n, "%ld:%02ld", t / 60, t % 60);
}

void progress_clear(progress *p) {
    if (p->bar_shown) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
        p->bar_shown = 0;
    }
}

void progress_step(progress *p, int64_t step, int64_t epoch, int64_t epochs, double elbo,
                   double samples_per_s) {
    if (p->quiet) return;
    double now = clock_now();
    int64_t done = step - p->start_step;
    double eta =
        done > 0 && p->total > step ? (now - p->t0) / (double)done * (double)(p->total - step) : 0;
    char etas[32];
    fmt_time(etas, sizeof etas, eta);
    if (p->tty) {
        if (now - p->last < 0.1 && step < p->total) return;
        int width = 24,
            fill = p->total > 0 ? (int)((double)width * (double)step / (double)p->total) : 0;
        if (fill > width) fill = width;
        char bar[32];
        for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
        bar[width] = '\0';
        fprintf(stderr,
                "\r\033[Kepoch %lld/%lld [%s] step %lld/%lld  ELBO %.2f  %.0f samples/s  ETA %s",
                (long long)epoch, (long long)epochs, bar, (long long)step, (long long)p->total,
                elbo, samples_per_s, etas);
        fflush(stderr);
        p->bar_shown = 1;
    } else {
        int due = p->every > 0 ? step % p->every == 0 : now - p->last >= 10.0;
        if (!due) return;
        fprintf(stderr, "epoch %lld/%lld step %lld/%lld ELBO %.2f %.0f samples/s ETA %s\n",
                (long long)epoch, (long long)epochs, (long long)step, (long long)p->total, elbo,
                samples_per_s, etas);
    }
    p->last = now;
}

void progress_count(progress *p, const char *what, int64_t done, int64_t total) {
    if (p->quiet) return;
    double now = clock_now();
    if (done < total && now - p->last < (p->tty ? 0.1 : 10.0)) return;
    double eta = done > 0 ? (now - p->t0) / (double)done * (double)(total - done) : -1;
    char etas[32];
    fmt_time(etas, sizeof etas, eta);
    if (p->tty) {
        fprintf(stderr, "\r\033[K%s %lld/%lld  ETA %s", what, (long long)done, (long long)total,
                etas);
        p->bar_shown = 1;
        fflush(stderr);
    } else {
        fprintf(stderr, "%s %lld/%lld ETA %s\n", what, (long long)done, (long long)total, etas);
    }
    p->last = now;
}

void progress_note(progress *p, const char *fmt, ...) {
    if (p->quiet) return;
    progress_clear(p);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}
