/* Worker pool and per-thread scratch (see threadpool.h).
 *
 * One job runs at a time. A job lives on the caller's stack and is published through g_job; a
 * worker pins it (g_refs++, then re-reads g_job) before touching it, and the caller unpublishes it
 * and waits for g_refs == 0 before returning, so a slow worker can never read a finished job. Idle
 * workers spin on the generation counter (GEMMs here take ~0.1 ms, a condvar wake-up costs tens of
 * microseconds): pause instructions for 50 us, then sched_yield (on a busy machine the core goes to
 * whoever needs it, often our own caller) up to 1 ms, then they sleep on a condvar.
 */
#include "threadpool.h"
#include "scratch.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef VAE_DEFAULT_THREADS
#define VAE_DEFAULT_THREADS 0
#endif

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#else
#define cpu_relax() ((void)0)
#endif

/* How long an idle worker spins before it sleeps, and how long the caller spins waiting for the last
 * task, in nanoseconds of wall time (a count of pause instructions meant 76 us on a Zen 5 and far less
 * on older cores). A training step's serial stretches (binarization, the KL, small ops) last 0.1-0.3 ms:
 * with a 76 us pause-only spin the worker slept and was woken ~6 times per W1 step (futex calls counted
 * with perf), each wake-up on a VM costing tens of microseconds during which the caller ran the tasks
 * alone. After SPIN_PAUSE_NS the spin yields the core on every check: a 1 ms pause-only spin made W1 on
 * 2 threads 25% slower on a machine where another process held a core (our spinning worker took the
 * time slices our caller needed); with the yield it is 23% faster than the 76 us spin there. */
enum { SPIN_PAUSE_NS = 50000, SPIN_WAKE_NS = 1000000, SPIN_DONE_NS = 1000000, SPIN_CHECK = 64 };

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

typedef void (*task_fn)(void *ctx, int64_t task, int thread_id);

typedef struct job {
    task_fn fn;
    void *ctx;
    unsigned gen;             /* the value of g_gen that published it */
    int64_t ntasks;
    int nthreads;             /* threads with id < nthreads take part */
    int pinned;               /* vae__parallel_pinned: thread id runs tasks id, id + nthreads, ... */
    atomic_int_fast64_t next; /* next unclaimed task */
    atomic_int_fast64_t done; /* finished tasks */
    atomic_int caller_sleeping;
} job;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;     /* pool growth and sleeping */
static pthread_mutex_t g_dispatch = PTHREAD_MUTEX_INITIALIZER; /* one job at a time */
static pthread_cond_t g_wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t g_done = PTHREAD_COND_INITIALIZER;
static pthread_t g_workers[VAE_THREADS_MAX];
static atomic_int g_nworkers; /* workers created so far; ids 1..g_nworkers */
static atomic_int g_started;  /* workers that have started and set up their scratch */
static atomic_int g_sleepers; /* workers blocked on g_wake */
static atomic_uint g_gen;     /* bumped once per published job */
static _Atomic(job *) g_job;
static atomic_int g_refs;        /* workers currently pinning g_job */
static atomic_int g_threads_req; /* vae_threads_set value; 0 = default */
static atomic_int g_threads_default;
static _Thread_local int tl_in_task;

static void scratch_for_worker(void);
static void scratch_level(void);

static int parse_env_threads(void) {
    const char *s = getenv("VAE_NUM_THREADS");
    if (!s || !*s) return 0;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < 1 || v > VAE_THREADS_MAX) return 0;
    return (int)v;
}

static int default_threads(void) {
    int d = atomic_load_explicit(&g_threads_default, memory_order_relaxed);
    if (d) return d;
    d = parse_env_threads();
    if (!d && VAE_DEFAULT_THREADS > 0) d = VAE_DEFAULT_THREADS;
    if (!d) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        d = n < 1 ? 1 : n > VAE_THREADS_MAX ? VAE_THREADS_MAX : (int)n;
    }
    if (d > VAE_THREADS_MAX) d = VAE_THREADS_MAX;
    atomic_store_explicit(&g_threads_default, d, memory_order_relaxed);
    return d;
}

int vae_threads_get(void) {
    int n = atomic_load_explicit(&g_threads_req, memory_order_relaxed);
    return n ? n : default_threads();
}

vae_status vae_threads_set(int n) {
    if (n < 0 || n > VAE_THREADS_MAX) return VAE_ERR_ARG;
    atomic_store_explicit(&g_threads_req, n, memory_order_relaxed);
    return VAE_OK;
}

static void run_tasks(job *j, int id) {
    for (int64_t k = 0;; k++) {
        const int64_t t = j->pinned ? id + k * j->nthreads
                                    : atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (t >= j->ntasks) return;
        j->fn(j->ctx, t, id);
        if (atomic_fetch_add(&j->done, 1) + 1 == j->ntasks && atomic_load(&j->caller_sleeping)) {
            pthread_mutex_lock(&g_lock);
            pthread_cond_signal(&g_done);
            pthread_mutex_unlock(&g_lock);
        }
    }
}

static void *worker_main(void *arg) {
    const int id = (int)(intptr_t)arg;
    unsigned seen = 0;
    tl_in_task = 1; /* anything a task calls runs serially on this thread */
    scratch_for_worker();
    atomic_fetch_add(&g_started, 1);
    for (;;) {
        for (int64_t t0 = -1; atomic_load(&g_gen) == seen;) {
            for (int i = 0; i < SPIN_CHECK && atomic_load(&g_gen) == seen; i++) cpu_relax();
            const int64_t t = now_ns();
            if (t0 < 0)
                t0 = t;
            else if (t - t0 > SPIN_WAKE_NS)
                break;
            else if (t - t0 > SPIN_PAUSE_NS)
                sched_yield(); /* a busy machine: let others run */
        }
        if (atomic_load(&g_gen) == seen) {
            pthread_mutex_lock(&g_lock);
            atomic_fetch_add(&g_sleepers, 1);
            while (atomic_load(&g_gen) == seen) pthread_cond_wait(&g_wake, &g_lock);
            atomic_fetch_sub(&g_sleepers, 1);
            pthread_mutex_unlock(&g_lock);
        }
        seen = atomic_load(&g_gen);
        job *j = atomic_load(&g_job);
        if (!j) continue;
        atomic_fetch_add(&g_refs, 1);
        /* Only the job of the generation just seen: between the two loads above the caller may have finished that
         * job and published the next. Running the next one now and again after seeing its generation would run a
         * pinned job's tasks twice (a GEMM task that accumulates, an Adam range; tests/test_threads.c). When the
         * generations differ the loop comes straight back (g_gen is no longer `seen`) and runs it once. */
        if (atomic_load(&g_job) == j && j->gen == seen && id < j->nthreads) run_tasks(j, id);
        atomic_fetch_sub(&g_refs, 1);
    }
    return NULL;
}

/* Create workers up to `want` (ids 1..want); returns how many exist. Creation failure just leaves
 * fewer. */
static int grow_pool(int want) {
    int have = atomic_load(&g_nworkers);
    if (have >= want) return have;
    pthread_mutex_lock(&g_lock);
    have = atomic_load(&g_nworkers);
    while (have < want) {
        if (pthread_create(&g_workers[have], NULL, worker_main, (void *)(intptr_t)(have + 1)) != 0)
            break;
        have++;
        atomic_store(&g_nworkers, have);
    }
    pthread_mutex_unlock(&g_lock);
    /* Wait until the new workers run: their start-up (scratch set) then happens here, when the pool grows, and
     * never later inside a training step that happens to be their first chance to be scheduled. */
    while (atomic_load(&g_started) < have) sched_yield();
    return have;
}

int vae__pool_in_task(void) {
    return tl_in_task;
}

static void run_serial(int64_t ntasks, task_fn fn, void *ctx) {
    const int outer = tl_in_task;
    tl_in_task = 1;
    for (int64_t t = 0; t < ntasks; t++) fn(ctx, t, 0);
    tl_in_task = outer;
}

static void parallel(int64_t ntasks, task_fn fn, void *ctx, int pinned) {
    if (ntasks <= 0 || !fn) return;
    int nt = vae_threads_get();
    if (nt > ntasks) nt = (int)ntasks;
    if (nt <= 1 || tl_in_task || pthread_mutex_trylock(&g_dispatch) != 0) {
        run_serial(ntasks, fn, ctx);
        return;
    }
    const int have = grow_pool(nt - 1);
    if (have < nt - 1) nt = have + 1;
    if (nt <= 1) {
        pthread_mutex_unlock(&g_dispatch);
        run_serial(ntasks, fn, ctx);
        return;
    }
    /* only this thread (holding g_dispatch) moves g_gen */
    job j = {.fn = fn, .ctx = ctx, .gen = atomic_load(&g_gen) + 1, .ntasks = ntasks, .nthreads = nt, .pinned = pinned};
    atomic_init(&j.next, 0);
    atomic_init(&j.done, 0);
    atomic_init(&j.caller_sleeping, 0);
    atomic_store(&g_job, &j);
    atomic_store(&g_gen, j.gen);
    if (atomic_load(&g_sleepers) > 0) {
        pthread_mutex_lock(&g_lock);
        pthread_cond_broadcast(&g_wake);
        pthread_mutex_unlock(&g_lock);
    }
    tl_in_task = 1;
    run_tasks(&j, 0);
    tl_in_task = 0;
    for (int64_t t0 = -1; atomic_load(&j.done) < ntasks;) {
        for (int i = 0; i < SPIN_CHECK && atomic_load(&j.done) < ntasks; i++) cpu_relax();
        const int64_t t = now_ns();
        if (t0 < 0)
            t0 = t;
        else if (t - t0 > SPIN_DONE_NS)
            break;
        else if (t - t0 > SPIN_PAUSE_NS)
            sched_yield();
    }
    if (atomic_load(&j.done) < ntasks) {
        pthread_mutex_lock(&g_lock);
        atomic_store(&j.caller_sleeping, 1);
        while (atomic_load(&j.done) < ntasks) pthread_cond_wait(&g_done, &g_lock);
        pthread_mutex_unlock(&g_lock);
    }
    /* Unpublish, then wait out workers that pinned the job (they are leaving run_tasks: nothing is
     * left). */
    atomic_store(&g_job, NULL);
    while (atomic_load(&g_refs) > 0) cpu_relax();
    scratch_level(); /* workers are idle now and no job can start: safe to grow their scratch */
    pthread_mutex_unlock(&g_dispatch);
}

void vae_parallel_for(int64_t ntasks, void (*fn)(void *ctx, int64_t task, int thread_id),
                      void *ctx) {
    parallel(ntasks, fn, ctx, 0);
}

void vae__parallel_pinned(int64_t ntasks, void (*fn)(void *ctx, int64_t task, int thread_id),
                          void *ctx) {
    parallel(ntasks, fn, ctx, 1);
}

int vae__share(int64_t n, int64_t align, int64_t min_len, int64_t *len) {
    int64_t nt = vae_threads_get(), l = (n + nt - 1) / nt;
    l = (l + align - 1) / align * align;
    if (l < min_len) l = min_len;
    *len = l;
    return n > 0 ? (int)((n + l - 1) / l) : 0;
}

typedef struct ranges_job {
    void (*fn)(void *ctx, int64_t i0, int64_t i1);
    void *ctx;
    int64_t n, len;
} ranges_job;

static void range_task(void *vj, int64_t t, int tid) {
    const ranges_job *j = vj;
    (void)tid;
    int64_t i0, i1;
    vae__share_range(j->n, j->len, t, &i0, &i1);
    j->fn(j->ctx, i0, i1);
}

void vae__parallel_ranges(int64_t n, void (*fn)(void *ctx, int64_t i0, int64_t i1), void *ctx) {
    ranges_job j = {fn, ctx, n, 0};
    const int nt = vae__share(n, 16, 16384, &j.len);
    vae__parallel_pinned(nt, range_task, &j);
}

typedef struct owned_job {
    const vae_owner_map *own;
    void (*fn)(void *ctx, int64_t i0, int64_t i1);
    void *ctx;
} owned_job;

static void owned_task(void *vj, int64_t t, int tid) {
    const owned_job *j = vj;
    (void)tid;
    for (int i = 0; i < j->own->count; i++)
        if (j->own->who[i] == t && j->own->lo[i] < j->own->hi[i]) j->fn(j->ctx, j->own->lo[i], j->own->hi[i]);
}

int vae__owner_map_fits(const vae_owner_map *own, int64_t n) {
    return own && own->n == n && own->nthreads >= 2 && own->nthreads == vae_threads_get();
}

void vae__parallel_owned(int64_t n, const vae_owner_map *own, void (*fn)(void *ctx, int64_t i0, int64_t i1),
                         void *ctx) {
    if (!vae__owner_map_fits(own, n)) {
        vae__parallel_ranges(n, fn, ctx);
        return;
    }
    owned_job j = {own, fn, ctx};
    vae__parallel_pinned(own->nthreads, owned_task, &j);
}

/* ---- per-thread scratch ----
 *
 * Each thread grows its own buffers on demand. With dynamic task claiming, a worker that happened to take no large
 * task during the first steps would otherwise grow its buffer later, in the steady state; so the largest size ever
 * asked for each slot (the high-water mark) is remembered, and at the end of a parallel job, while every worker is
 * idle, the pool brings the workers' buffers up to it. After warm-up no worker allocates again. Not the caller's:
 * a caller may hold its own buffers across a parallel call (the conv ops keep a block's matrices while its GEMM runs
 * on the pool, and the weight gradients' partial sums while the blocks do), and growing one would free them under
 * it; a caller grows its buffers on demand, once, the first time it needs the larger size. */

typedef struct scratch {
    void *buf[VAE__SCRATCH_SLOTS];
    size_t cap[VAE__SCRATCH_SLOTS];
    int worker; /* a pool worker's set (the pool may grow it while the worker is idle) */
    struct scratch *prev,
        *next; /* list of live scratch sets: keeps them reachable for leak checkers */
} scratch;

static _Thread_local scratch *tl_scratch;
static scratch *g_scratch_list;
static pthread_key_t g_scratch_key;
static pthread_once_t g_scratch_once = PTHREAD_ONCE_INIT;
static int g_scratch_key_ok;
static atomic_size_t g_hwm[VAE__SCRATCH_SLOTS]; /* largest size asked for each slot */
static atomic_uint g_hwm_gen;                   /* bumped when a mark rises */
static unsigned g_hwm_leveled; /* g_hwm_gen at the last levelling (under g_dispatch) */

static void scratch_free(void *p) {
    scratch *s = p;
    pthread_mutex_lock(&g_lock);
    if (s->prev)
        s->prev->next = s->next;
    else
        g_scratch_list = s->next;
    if (s->next) s->next->prev = s->prev;
    pthread_mutex_unlock(&g_lock);
    for (int i = 0; i < VAE__SCRATCH_SLOTS; i++) free(s->buf[i]);
    free(s);
}

static void scratch_key_init(void) {
    g_scratch_key_ok = pthread_key_create(&g_scratch_key, scratch_free) == 0;
}

/* This thread's set, created on first use; NULL when out of memory. */
static scratch *scratch_set(void) {
    scratch *s = tl_scratch;
    if (s) return s;
    pthread_once(&g_scratch_once, scratch_key_init);
    s = calloc(1, sizeof *s);
    if (!s) return NULL;
    pthread_mutex_lock(&g_lock);
    s->next = g_scratch_list;
    if (g_scratch_list) g_scratch_list->prev = s;
    g_scratch_list = s;
    pthread_mutex_unlock(&g_lock);
    /* The destructor frees the set when a user thread exits; the list keeps it reachable until then. */
    if (g_scratch_key_ok) pthread_setspecific(g_scratch_key, s);
    tl_scratch = s;
    return s;
}

static void scratch_for_worker(void) {
    scratch *s = scratch_set();
    if (s) s->worker = 1;
}

/* A buffer of at least SCRATCH_LARGE bytes gets 2 MiB-aligned memory of its own, in whole 2 MiB units (virtual
 * memory: only the pages used are ever touched), so that no two threads' large buffers share a page-table page. On
 * this project's VM two threads whose hot buffers did ran up to 1.8x slower each (a conv op's blocks; the same code
 * in two processes, or in two threads with 2 MiB-aligned buffers, did not slow down; README "Performance"). Where
 * transparent huge pages are "always" on, such a buffer may take whole huge pages: at most 2 MiB more per slot. */
enum { SCRATCH_LARGE = 64 << 10, SCRATCH_REGION = 2 << 20 };

/* Grow slot `slot` of s to at least `bytes` (64-byte aligned, large buffers as above). 0 on success. */
static int scratch_grow(scratch *s, int slot, size_t bytes) {
    if (s->cap[slot] >= bytes) return 0;
    const size_t al = bytes >= SCRATCH_LARGE ? SCRATCH_REGION : 64;
    if (bytes > SIZE_MAX - al) return 1;
    size_t cap = (bytes + al - 1) & ~(al - 1);
    void *p = NULL;
    if (posix_memalign(&p, al, cap) != 0) return 1;
    free(s->buf[slot]);
    s->buf[slot] = p;
    s->cap[slot] = cap;
    return 0;
}

/* Called by the dispatching thread at the end of a job (holding g_dispatch, workers idle). */
static void scratch_level(void) {
    unsigned gen = atomic_load(&g_hwm_gen);
    if (gen == g_hwm_leveled) return;
    g_hwm_leveled = gen;
    pthread_mutex_lock(&g_lock);
    for (scratch *s = g_scratch_list; s; s = s->next)
        if (s->worker)
            for (int i = 0; i < VAE__SCRATCH_SLOTS; i++)
                if (i != VAE__SCRATCH_CALLER_ONLY) (void)scratch_grow(s, i, atomic_load(&g_hwm[i]));
    pthread_mutex_unlock(&g_lock);
}

void *vae__thread_scratch(int slot, size_t bytes) {
    if (slot < 0 || slot >= VAE__SCRATCH_SLOTS) return NULL;
    scratch *s = scratch_set();
    if (!s) return NULL;
    if (bytes == 0) bytes = 1;
    if (s->cap[slot] >= bytes) return s->buf[slot];
    size_t m = atomic_load(&g_hwm[slot]);
    while (m < bytes && !atomic_compare_exchange_weak(&g_hwm[slot], &m, bytes)) {
    }
    if (m < bytes) atomic_fetch_add(&g_hwm_gen, 1);
    return scratch_grow(s, slot, bytes) ? NULL : s->buf[slot];
}
