/* cores_bench.h - what handing data from one core to the other costs on this machine: the round trip of one cache
 * line between two pool threads, and the bandwidth of a pass over a buffer that the other core wrote last against
 * one the same core wrote last. On a machine whose cores share a last-level cache the two bandwidths are close; on
 * one whose cores do not (this project's 2-core VM) a handed-over buffer streams at a third of the speed, which is
 * what every op split differently from the op before it pays (README, Performance). */
#ifndef VAE_CORES_BENCH_H
#define VAE_CORES_BENCH_H

typedef struct vae_bench_cores {
    double round_trip_ns;      /* one cache line there and back between two threads, median */
    double own_gbs, handed_gbs; /* GB/s read + written per thread by a pass over `mb` MB, medians */
    double mb;
} vae_bench_cores;

/* Measure with two pool threads (vae_threads_get() >= 2). 0 on success; 1 (r zeroed) when two threads did not run
 * at once (one core, a busy machine) or memory ran out. */
int vae_bench_cores_run(vae_bench_cores *r, int smoke);

#endif
