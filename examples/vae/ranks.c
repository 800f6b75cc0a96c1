/* ranks.c - MPI behind ranks.h, or one rank without it. */
#include "ranks.h"

#include <stdlib.h>
#include <string.h>

#ifdef VAE_HAVE_MPI
#include <limits.h>
#include <mpi.h>

static int g_on, g_rank, g_size = 1;

/* Started by a launcher? (Open MPI, MPICH/Hydra, PMIx, Slurm's srun.) Alone, the tool does not start MPI at all,
 * so it behaves as the default build and needs no MPI runtime on the machine. */
static int launched(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK",
                                       "MPI_LOCALNRANKS", NULL};
    for (int i = 0; vars[i]; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

int ranks_init(void) {
    if (!launched()) return 0;
    int provided;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) return -1;
    g_on = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    return 0;
}

int ranks_finish(int exit_code) {
    if (!g_on) return exit_code;
    g_on = 0;
    if (exit_code != 0 && exit_code != 130 && g_size > 1) MPI_Abort(MPI_COMM_WORLD, exit_code);
    MPI_Finalize();
    return exit_code;
}

int ranks_rank(void) {
    return g_rank;
}
int ranks_size(void) {
    return g_size;
}

/* MPI counts are int: big buffers go in pieces of at most 2^30 elements. */
#define PIECE ((int64_t)1 << 30)

static int sum(void *buf, int64_t n, MPI_Datatype t, int64_t size) {
    for (int64_t i = 0; g_size > 1 && i < n; i += PIECE) {
        int m = (int)(n - i < PIECE ? n - i : PIECE);
        if (MPI_Allreduce(MPI_IN_PLACE, (char *)buf + i * size, m, t, MPI_SUM, MPI_COMM_WORLD) !=
            MPI_SUCCESS)
            return -1;
    }
    return 0;
}
int ranks_sum_f32(float *buf, int64_t n) {
    return sum(buf, n, MPI_FLOAT, 4);
}
int ranks_sum_f64(double *buf, int64_t n) {
    return sum(buf, n, MPI_DOUBLE, 8);
}

int ranks_gather(const void *mine, void *all, const int64_t *count, int64_t size, int root_only) {
    if (g_size == 1) {
        if (count[0] > 0 && mine != all) memcpy(all, mine, (size_t)(count[0] * size));
        return 0;
    }
    int *cnt = malloc(sizeof(int) * 2 * (size_t)g_size), *off = cnt ? cnt + g_size : NULL, rc = -1;
    if (!cnt) return -1;
    int64_t total = 0;
    for (int r = 0; r < g_size; r++) total += count[r] * size;
    if (total > INT_MAX) goto done; /* one gather moves < 2 GiB; callers send rows, not data sets */
    for (int r = 0, o = 0; r < g_size; r++)
        cnt[r] = (int)(count[r] * size), off[r] = o, o += cnt[r];
    /* a rank whose share already sits at its place in `all` gives it in place (MPI forbids aliased buffers) */
    const void *send =
        (const char *)mine == (const char *)all + off[g_rank] && (!root_only || g_rank == 0)
            ? MPI_IN_PLACE
            : mine;
    rc = root_only
             ? MPI_Gatherv(send, cnt[g_rank], MPI_BYTE, all, cnt, off, MPI_BYTE, 0, MPI_COMM_WORLD)
             : MPI_Allgatherv(send, cnt[g_rank], MPI_BYTE, all, cnt, off, MPI_BYTE, MPI_COMM_WORLD);
    rc = rc == MPI_SUCCESS ? 0 : -1;
done:
    free(cnt);
    return rc;
}

int ranks_bcast(void *buf, int64_t n) {
    for (int64_t i = 0; g_size > 1 && i < n; i += PIECE) {
        int m = (int)(n - i < PIECE ? n - i : PIECE);
        if (MPI_Bcast((char *)buf + i, m, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
    }
    return 0;
}

int ranks_any(int flag) {
    int v = flag != 0;
    if (g_size > 1 &&
        MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        return 1; /* a broken job stops */
    return v;
}

#else /* one rank */

int ranks_init(void) {
    return 0;
}
int ranks_finish(int exit_code) {
    return exit_code;
}
int ranks_rank(void) {
    return 0;
}
int ranks_size(void) {
    return 1;
}
int ranks_sum_f32(float *buf, int64_t n) {
    (void)buf, (void)n;
    return 0;
}
int ranks_sum_f64(double *buf, int64_t n) {
    (void)buf, (void)n;
    return 0;
}
int ranks_gather(const void *mine, void *all, const int64_t *count, int64_t size, int root_only) {
    (void)root_only;
    if (count[0] > 0 && mine != all) memcpy(all, mine, (size_t)(count[0] * size));
    return 0;
}
int ranks_bcast(void *buf, int64_t n) {
    (void)buf, (void)n;
    return 0;
}
int ranks_any(int flag) {
    return flag != 0;
}

#endif

void ranks_range(int64_t n, int r, int size, int64_t *lo, int64_t *hi) {
    int64_t q = n / size, rem = n % size;
    *lo = r * q + (r < rem ? r : rem);
    *hi = *lo + q + (r < rem);
}
