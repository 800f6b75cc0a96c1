/* vae_bench: kernel throughput as one JSON line (see examples/bench/kernels_bench.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/kernels_bench.h"
#include "tensor/threadpool.h"

static void usage(FILE *f) {
    fprintf(f, "usage: vae_bench [--smoke] [--threads N]\n"
               "  --smoke      a few ms per measurement (CI check, figures not meaningful)\n"
               "  --threads N  thread count for the all-threads figures (default: VAE_NUM_THREADS "
               "or cores)\n");
}

int main(int argc, char **argv) {
    int smoke = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--smoke") == 0)
            smoke = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
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
    if (vae_bench_kernels(stdout, smoke) != 0) {
        fprintf(stderr, "vae_bench: out of memory\n");
        return 1;
    }
    return 0;
}
