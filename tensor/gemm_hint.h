/* gemm_hint.h - (private) how the calling thread's next GEMMs share their work with the pool.
 *
 * The linear op (autograd/ops_fused.c) tells the GEMM which of its operands is a weight whose rows the parameter
 * store gives to fixed threads (nn/params.c, vae_params_owner_map: rows [r t/n, r (t+1)/n) to thread t), so that
 * the tasks touching those rows run on that thread and a weight's cache lines stay with one core from the forward
 * to the optimizer: on this project's 2-core VM, whose cores share no cache most of the time, W1 on 2 threads
 * +15% (README, Performance, stop 25). A hint never makes the result depend on the thread count. */
#ifndef VAE_GEMM_HINT_H
#define VAE_GEMM_HINT_H

typedef enum vae__gemm_hint_kind {
    VAE__GEMM_FREE,   /* tasks claimed by whichever thread is free (the default) */
    VAE__GEMM_PINNED, /* a grid of as many tasks as threads runs task t on thread t: the row split of the weight
                       * gradient x^T g and the column split of the input gradient g W^T follow the weight's rows */
    VAE__GEMM_KSPLIT  /* B = the weight (K = its rows): on 2 threads, when K falls in exactly two chunks and
                       * alpha = 1, thread t computes over chunk t (thread 1 into the calling thread's scratch)
                       * and the halves are added by rows: the sum the serial GEMM forms, (chunk 0) + (chunk 1).
                       * Otherwise as PINNED. A K of 256 up to one chunk (512 in f32 with AVX-512) is summed in
                       * two chunks under this hint on every thread count (and so in other low bits than without
                       * the hint), so that it can be split too: the same bits for any thread count, as always. */
} vae__gemm_hint_kind;

/* Set the calling thread's hint for its next GEMM calls; returns the previous one (restore it after). */
vae__gemm_hint_kind vae__gemm_hint(vae__gemm_hint_kind h);

#endif
