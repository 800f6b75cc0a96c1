/* bench.h - what `vae bench` runs: the kernel and workload benchmarks of examples/bench/. */
#ifndef VAE_CLI_BENCH_H
#define VAE_CLI_BENCH_H

#include "examples/bench/kernels_bench.h"
#include "examples/bench/workloads_bench.h"

#endif
