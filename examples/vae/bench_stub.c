/* Stand-in for examples/bench/kernels_bench.c until it is part of the tree: reports that it is
 * missing. */
#include "bench.h"

int vae_bench_kernels(FILE *out, int smoke) {
    (void)out;
    (void)smoke;
    fprintf(stderr, "vae bench: the kernel benchmark (examples/bench) is not part of this build\n");
    return 1;
}

int vae_bench_workloads(FILE *out, const char *mnist_dir, int smoke) {
    (void)out;
    (void)mnist_dir;
    (void)smoke;
    fprintf(stderr, "vae bench: the workload benchmark (examples/bench) is not part of this build\n");
    return 1;
}
