/* vae_bench: kernel throughput and training throughput, one JSON line each (examples/bench/). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/kernels_bench.h"
#include "bench/workloads_bench.h"
#include "tensor/threadpool.h"

static void usage(FILE *f) {
    fprintf(f, "usage: vae_bench [--smoke] [--threads N] [--mnist DIR] [--kernels-only | "
               "--workloads-only]\n"
               "  --smoke           a few ms per measurement (CI check, figures not meaningful)\n"
               "  --threads N       thread count for the all-threads figures (default: "
               "VAE_NUM_THREADS or cores)\n"
               "  --mnist DIR       train the workloads on MNIST from DIR (default: synthetic "
               "784-pixel data)\n"
               "  --kernels-only    only the GEMM figures\n"
               "  --workloads-only  only the W1/W2 training figures\n");
}

int main(int argc, char **argv) {
    int smoke = 0, kernels = 1, workloads = 1;
    const char *mnist = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--smoke") == 0)
            smoke = 1;
        else if (strcmp(argv[i], "--kernels-only") == 0)
            workloads = 0;
        else if (strcmp(argv[i], "--workloads-only") == 0)
            kernels = 0;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--mnist") == 0 && i + 1 < argc) {
            mnist = argv[++i];
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
    if (kernels && vae_bench_kernels(stdout, smoke) != 0) {
        fprintf(stderr, "vae_bench: out of memory\n");
        return 1;
    }
    if (workloads && vae_bench_workloads(stdout, mnist, smoke) != 0) return 1;
    return 0;
}
