/* The threaded elementwise driver (see iter.h). */
#include "iter.h"

#include "threadpool.h"

int64_t vae__par_tasks(double work) {
    if (work < VAE__PAR_WORK) return 1;
    const int nt = vae_threads_get();
    if (nt <= 1) return 1;
    double by_work = work / (VAE__PAR_WORK / 2);
    int64_t t = 4 * (int64_t)nt;
    if (by_work < (double)t) t = (int64_t)by_work;
    return t < 2 ? 2 : t;
}

typedef struct {
    const vae__iter *it;
    int64_t total, ntasks;
    vae__run_fn fn;
    void *ctx;
} par_job;

static void par_task(void *vj, int64_t task, int tid) {
    const par_job *j = vj;
    int64_t lo, hi;
    (void)tid;
    vae__split(j->total, j->ntasks, task, 64, &lo, &hi);
    vae__iter_runs(j->it, lo, hi, j->fn, j->ctx);
}

void vae__iter_parallel(const vae__iter *it, double cost, vae__run_fn fn, void *ctx) {
    const int64_t total = it->rows * it->n;
    if (total <= 0) return;
    const int64_t ntasks = vae__par_tasks((double)total * cost);
    if (ntasks <= 1) {
        vae__iter_runs(it, 0, total, fn, ctx);
        return;
    }
    par_job j = {it, total, ntasks, fn, ctx};
    vae_parallel_for(ntasks, par_task, &j);
}
