/* vae_bench: the FMA peak, pool wake-up, GEMM and training throughput of DESIGN §9 as a table of
 * measured values beside their targets; --json FILE writes every figure (examples/bench/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench/kernels_bench.h"
#include "bench/workloads_bench.h"
#include "tensor/gemm.h"
#include "tensor/kernels.h"
#include "tensor/threadpool.h"

/* ---- steady-state malloc counting: interpose malloc/calloc/realloc in this executable (ELF symbol
 * interposition also catches the calls made inside libvae.so); not under AddressSanitizer, which
 * owns malloc. ---- */

#if defined(__SANITIZE_ADDRESS__)
#define COUNTING 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNTING 0
#endif
#endif
#if !defined(COUNTING) && defined(__GLIBC__)
#define COUNTING 1
#endif

#if defined(COUNTING) && COUNTING
#include <stdatomic.h>
static atomic_long n_alloc;
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
void *malloc(size_t n) {
    atomic_fetch_add_explicit(&n_alloc, 1, memory_order_relaxed);
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
    atomic_fetch_add_explicit(&n_alloc, 1, memory_order_relaxed);
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n) {
    atomic_fetch_add_explicit(&n_alloc, 1, memory_order_relaxed);
    return __libc_realloc(p, n);
}
long vae_bench_malloc_count(void) {
    return atomic_load(&n_alloc);
}
#endif

/* Seconds of CPU (user + system) this process has used, and wall seconds. */
static double cpu_s(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru)) return 0;
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

static double wall_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void usage(FILE *f) {
    fprintf(f, "usage: vae_bench [--smoke] [--threads N] [--mnist DIR] [--json FILE]\n"
               "                 [--kernels-only | --workloads-only | --workloads LIST] [--profile]\n"
               "  --smoke            a few ms per measurement (CI check, figures not meaningful)\n"
               "  --threads N        thread count compared with 1 thread (default: VAE_NUM_THREADS "
               "or cores);\n"
               "                     --threads 1 measures 1 thread only (for profiling)\n"
               "  --mnist DIR        train the workloads on MNIST from DIR (default: synthetic "
               "784-pixel data)\n"
               "  --json FILE        also write every figure to FILE as one JSON object\n"
               "  --kernels-only     only the FMA peak, pool wake-up and GEMM figures\n"
               "  --workloads-only   only the training workloads (and the FMA peak they are rated "
               "against)\n"
               "  --workloads LIST   only these workloads, e.g. W1 or W2,W4 (implies "
               "--workloads-only)\n"
               "  --profile          also print each workload's per-op profile (ms per step of every op's\n"
               "                     forward and backward, and the data/optimizer phases) for each thread count\n"
               "Workloads: W1 784-400-(20) ReLU VAE batch 100; W2 784-200-200-(50) tanh IWAE K=50 "
               "batch 20;\n"
               "W3 the same network with K=5 (Burda et al.). All Adam, dynamically binarized.\n"
               "Example profile: perf record -g build/examples/vae_bench --threads 1 --workloads "
               "W1\n");
    fprintf(f, "W4: the conv VAE, conv 16-32 4x4 stride 2 -> (20), batch 100 (vae_net_conv.c);\n"
               "W5: the same with a 256-unit fc layer -> (10) (--net conv --conv-hidden 256 "
               "--latent 10).\n");
}

/* ---- the table ---- */

/* "model name (family F, model M)" from /proc/cpuinfo, as JSON-safe text: machines of one kind differ in CPU
 * model (an AMD EPYC of family 25 executes a 512-bit FMA in two halves, one of family 26 at full width: twice the
 * peak), and every figure here depends on it. "unknown" where there is no /proc/cpuinfo. */
static void cpu_desc(char *out, size_t n) {
    char name[96] = "unknown", fam[16] = "?", model[16] = "?", line[256];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f)) {
        char *v = strchr(line, ':');
        if (!v) continue;
        v += strspn(v + 1, " \t") + 1;
        v[strcspn(v, "\n")] = 0;
        for (char *q = v; *q; q++)
            if (*q == '"' || *q == '\\' || (unsigned char)*q < 32) *q = ' ';
        if (strncmp(line, "model name", 10) == 0 && !strcmp(name, "unknown"))
            snprintf(name, sizeof name, "%s", v);
        else if (strncmp(line, "cpu family", 10) == 0 && fam[0] == '?')
            snprintf(fam, sizeof fam, "%s", v);
        else if (strncmp(line, "model\t", 6) == 0 && model[0] == '?')
            snprintf(model, sizeof model, "%s", v);
    }
    if (f) fclose(f);
    snprintf(out, n, "%s (family %s, model %s)", name, fam, model);
}

static void row(const char *what, const char *target, const char *measured, int ok) {
    printf("%-58s %-22s %-42s %s\n", what, target, measured, ok < 0 ? "" : ok ? "ok" : "MISSED");
}

static void print_table(const vae_bench_kernels_res *kr, const vae_bench_wl_res *wl, int nwl,
                        const vae_bench_counts *c) {
    char m[160];
    const int two = c->n > 1, all = c->t[c->n - 1];
    row("measurement", "target", "measured", -1);
    snprintf(m, sizeof m, "%.1f GFLOP/s (wall %.1f, window %.0f ms)", c->peak[0], c->peak_wall[0],
             1e3 * c->window_s[0]);
    row("FMA peak, 1 thread", "window >= 100 ms", m, c->window_s[0] >= 0.1);
    if (two) {
        snprintf(m, sizeof m, "%.1f GFLOP/s = %.2f x 1 thread (wall %.1f)", c->peak[1],
                 c->peak[1] / c->peak[0], c->peak_wall[1]);
        row("FMA peak, all threads", "<= 2.05 x 1 thread", m,
            c->peak[1] <= 2.05 * c->peak[0] && c->window_s[1] >= 0.1);
    }
    if (kr) {
        if (two) {
            snprintf(m, sizeof m, "%.1f us hot, %.1f us after 5 ms idle", kr->wake_hot_us,
                     kr->wake_cold_us);
            row("pool wake-up + barrier (empty tasks)", "a few us", m, -1);
            if (kr->cores.round_trip_ns > 0) {
                snprintf(m, sizeof m, "%.0f ns", kr->cores.round_trip_ns);
                row("cache line round trip between 2 threads", "-", m, -1);
                snprintf(m, sizeof m, "%.0f GB/s own, %.0f GB/s handed over (%.2fx)", kr->cores.own_gbs,
                         kr->cores.handed_gbs, kr->cores.handed_gbs / kr->cores.own_gbs);
                char what[80];
                snprintf(what, sizeof what, "%.0f MB pass (r+w), last written by this/the other core",
                         kr->cores.mb);
                row(what, "-", m, -1);
            }
        }
        for (int i = 0; i < VAE_BENCH_NSHAPES; i++) {
            char what[80], target[40] = "-";
            const double g1 = kr->gemm[i].gflops[0], gn = kr->gemm[i].gflops[c->n - 1];
            snprintf(what, sizeof what, "sgemm %lldx%lldx%lld%s", (long long)kr->gemm[i].M,
                     (long long)kr->gemm[i].K, (long long)kr->gemm[i].N,
                     kr->gemm[i].a_trans ? " (A^T)" : "");
            int ok = -1;
            if (two)
                snprintf(m, sizeof m, "%.0f (%.1f%%), 1t %.0f (%.1f%%)", gn, 100 * gn / c->peak[1],
                         g1, 100 * g1 / c->peak[0]);
            else
                snprintf(m, sizeof m, "%.0f GFLOP/s (%.1f%%)", g1, 100 * g1 / c->peak[0]);
            if (kr->gemm[i].M == 100 && kr->gemm[i].K == 784 && two) {
                snprintf(target, sizeof target, ">= 300 GFLOP/s %dt", all);
                ok = gn >= 300;
            } else if (kr->gemm[i].M == 1024 && two) {
                snprintf(target, sizeof target, ">= 88%% of peak %dt", all);
                ok = gn >= 0.88 * c->peak[1];
            }
            row(what, target, m, ok);
        }
    }
    for (int i = 0; i < nwl; i++) {
        const vae_bench_wl_res *r = &wl[i];
        char what[100], target[40] = "-";
        const vae_bench_wl_phase *p1 = &r->t[0], *pn = &r->t[c->n - 1];
        const int w1 = strcmp(r->name, "W1") == 0, w2 = strcmp(r->name, "W2") == 0;
        int ok = -1;
        snprintf(what, sizeof what, "%s samples/s (%s)", r->name, r->desc);
        if (two && (w1 || w2)) {
            snprintf(target, sizeof target, ">= %s (%dt)", w1 ? "80,000" : "5,000", all);
            ok = pn->samples_per_s >= (w1 ? 80000 : 5000);
        }
        /* median [quartiles over the rounds] */
        if (two)
            snprintf(m, sizeof m, "%.0f [%.0f-%.0f] (%dt), %.0f [%.0f-%.0f] (1t)", pn->samples_per_s,
                     pn->samples_per_s_q1, pn->samples_per_s_q3, all, p1->samples_per_s,
                     p1->samples_per_s_q1, p1->samples_per_s_q3);
        else
            snprintf(m, sizeof m, "%.0f [%.0f-%.0f] (1t)", p1->samples_per_s, p1->samples_per_s_q1,
                     p1->samples_per_s_q3);
        row(what, target, m, ok);
        if (two) {
            snprintf(what, sizeof what, "%s %dt / 1t", r->name, all);
            snprintf(m, sizeof m, "%.2f", pn->samples_per_s / p1->samples_per_s);
            row(what,
                w1   ? ">= 1.7"
                : w2 ? ">= 1.85"
                     : "-",
                m, w1 || w2 ? pn->samples_per_s / p1->samples_per_s >= (w1 ? 1.7 : 1.85) : -1);
        }
        for (int k = 0; k < c->n; k++) {
            const vae_bench_wl_phase *p = &r->t[k];
            snprintf(what, sizeof what, "%s %dt ms/step: data+fwd+bwd+optim", r->name, c->t[k]);
            snprintf(m, sizeof m, "%.3f: %.3f+%.3f+%.3f+%.3f", p->ms_step, p->ms_data,
                     p->ms_forward, p->ms_backward, p->ms_optim);
            row(what, "-", m, -1);
            snprintf(what, sizeof what, "%s %dt GEMM share, FMA limit", r->name, c->t[k]);
            const double lim = vae_bench_fma_limit(r, c, k);
            snprintf(m, sizeof m, "%.0f%%, %.0f samples/s (%.1f%% of it)", 100 * p->gemm_share, lim,
                     100 * p->samples_per_s / lim);
            /* The targets as shares of the limit: W1 60% and W2 72% on all threads, both 75% on one.
             * The samples/s targets above were set on a CPU with twice the FMA peak of some machines of this
             * kind (cpu_desc); a share means the same on either. */
            const double want = k == 0 ? 0.75 : w1 ? 0.60 : 0.72;
            char tg[40] = "-";
            if ((w1 || w2) && (k == 0 || two)) snprintf(tg, sizeof tg, ">= %.0f%% of the limit", 100 * want);
            row(what, tg, m, (w1 || w2) && (k == 0 || two) ? p->samples_per_s >= want * lim : -1);
        }
        snprintf(what, sizeof what, "%s GEMM MFLOP/step, peak RSS", r->name);
        snprintf(m, sizeof m, "%.1f, %.1f MiB", 1e-6 * r->gemm_flops_per_step,
                 (double)r->peak_rss_kb / 1024.0);
        row(what, "-", m, -1);
        snprintf(what, sizeof what, "%s steady-state malloc per step", r->name);
        if (r->malloc_per_step < 0)
            row(what, "0", "not counted", -1);
        else {
            snprintf(m, sizeof m, "%.3f", r->malloc_per_step);
            row(what, "0", m, r->malloc_per_step == 0);
        }
    }
}

int main(int argc, char **argv) {
    int smoke = 0, kernels = 1, workloads = 1;
    unsigned mask = (1u << VAE_BENCH_NWORKLOADS) - 1;
    const char *mnist = NULL, *json = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--smoke") == 0)
            smoke = 1;
        else if (strcmp(argv[i], "--kernels-only") == 0)
            workloads = 0;
        else if (strcmp(argv[i], "--workloads-only") == 0)
            kernels = 0;
        else if (strcmp(argv[i], "--profile") == 0)
            vae_bench_workloads_profile(stdout);
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--mnist") == 0 && i + 1 < argc) {
            mnist = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            json = argv[++i];
        } else if (strcmp(argv[i], "--workloads") == 0 && i + 1 < argc) {
            const char *s = argv[++i];
            kernels = 0;
            mask = 0;
            for (const char *p = s; *p;) {
                const int wl = p[1] - '1';
                if ((p[0] == 'W' || p[0] == 'w') && wl >= 0 && wl < VAE_BENCH_NWORKLOADS &&
                    (p[2] == ',' || p[2] == 0)) {
                    mask |= 1u << wl;
                    p += p[2] ? 3 : 2;
                } else {
                    fprintf(stderr, "vae_bench: --workloads wants a list like W1,W3, got '%s'\n",
                            s);
                    return 2;
                }
            }
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            char *end;
            const long n = strtol(argv[++i], &end, 10);
            if (*end || n < 1 || n > VAE_THREADS_MAX || vae_threads_set((int)n) != VAE_OK) {
                fprintf(stderr, "vae_bench: --threads wants an integer in [1, %d], got '%s'\n",
                        VAE_THREADS_MAX, argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "vae_bench: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    const int all = vae_threads_get();
    const double cpu0 = cpu_s(), wall0 = wall_s();
    static vae_bench_kernels_res kr;
    static vae_bench_wl_res wl[VAE_BENCH_NWORKLOADS];
    int nwl = 0, synth = 1;
    kr.gemm_path = vae_gemm_path_name(vae_gemm_get_path());
    kr.c.n = all > 1 ? 2 : 1;
    kr.c.t[0] = 1;
    kr.c.t[1] = all;
    vae_bench_peaks(&kr.c, smoke);
    if (kernels && vae_bench_kernels_run(&kr, smoke) != 0) {
        fprintf(stderr, "vae_bench: out of memory\n");
        return 1;
    }
    if (workloads && vae_bench_workloads_run(wl, &nwl, mask, &kr.c, mnist, smoke, &synth) != 0)
        return 1;
    /* On a shared machine the peak is the best window of the run: measure again at the end. */
    vae_bench_peaks(&kr.c, smoke);
    printf("vae_bench: %s, gemm path %s, simd %s, 1 vs %d threads%s; medians of interleaved "
           "repetitions\n",
           workloads ? (synth ? "synthetic data" : "MNIST") : "kernels",
           kr.gemm_path ? kr.gemm_path : "-", vae_simd_path_name(vae_simd_get_path()), all,
           smoke ? " (SMOKE: figures not meaningful)" : "");
    /* The run spends about half its wall time on 1 thread and half on all threads: a process with
     * the machine to itself gets about (1 + all) / 2 cores; much less means other processes ran
     * too and every figure, the peak included, is suspect. */
    const double cores = (cpu_s() - cpu0) / (wall_s() - wall0), expect = 0.5 * (1 + all);
    char cpu[160];
    cpu_desc(cpu, sizeof cpu);
    printf("CPU: %s\n", cpu);
    printf("CPU obtained: %.2f cores on average (about %.1f expected on an idle machine)%s\n",
           cores, expect,
           cores < 0.85 * expect ? ": the machine was busy, figures are not representative" : "");
    print_table(kernels ? &kr : NULL, wl, nwl, &kr.c);
    if (json) {
        FILE *f = fopen(json, "w");
        if (!f) {
            fprintf(stderr, "vae_bench: cannot write %s\n", json);
            return 1;
        }
        fprintf(f,
                "{\"smoke\":%s,\"data\":\"%s\",\"simd\":\"%s\",\"threads\":[1,%d],"
                "\"cpu\":\"%s\",\"cpu_cores_obtained\":%.3f,\"kernels\":",
                smoke ? "true" : "false", synth ? "synthetic" : "mnist",
                vae_simd_path_name(vae_simd_get_path()), all, cpu, cores);
        if (kernels)
            vae_bench_kernels_json(f, &kr);
        else
            fprintf(f, "null");
        fprintf(f, ",\"workloads\":");
        vae_bench_workloads_json(f, wl, nwl, &kr.c);
        fprintf(f, "}\n");
        if (fclose(f) != 0) {
            fprintf(stderr, "vae_bench: cannot write %s\n", json);
            return 1;
        }
    }
    return 0;
}
