/* workloads_bench.h - training throughput (samples/s) on the reference workloads of DESIGN §9:
 *   W1: 784-400-(20) ReLU VAE, batch 100, one sample, Bernoulli likelihood, Adam
 *   W2: 784-200-200-(50) tanh IWAE, batch 20, K = 50, Bernoulli likelihood, Adam
 * on dynamically binarized MNIST (or synthetic data of the same shape when no data is given). A step is
 * everything a training loop does: gather + binarize the batch, reset, objective, backward, Adam.
 */
#ifndef VAE_WORKLOADS_BENCH_H
#define VAE_WORKLOADS_BENCH_H

#include <stdio.h>

/* Run W1 and W2 with 1 thread and with vae_threads_get() threads, printing one JSON object on one line to out.
 * mnist_dir: a folder with train-images-idx3-ubyte[.gz], or NULL for synthetic data. smoke != 0 runs a few steps.
 * Returns 0, or 1 on failure (a message on stderr, nothing on out). */
int vae_bench_workloads(FILE *out, const char *mnist_dir, int smoke);

#endif
