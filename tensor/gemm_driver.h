/* gemm_driver.h - private template: the blocked, packed, threaded GEMM driver for one element type.
 * Included by gemm.c once per type after defining DRV_T (element type), DRV_KERNEL (kernel
 * descriptor type) and DRV_(name) (name mangling).
 *
 * C is cut into a grid of tm x tn rectangular tasks (one pool task each). Inside a task: for each
 * block of A micro-panels (<= GEMM_A_BLOCK_BYTES packed, usually all of the task's rows): for pc
 * over K in chunks of <= kc (same chunks for every task and thread count: bit-identical sums):
 * pack every A micro-panel of the block (m x kc each; rows split evenly, so M = 100 gives 9 panels
 * of 11-12 rows), then for each of the task's near-equal N blocks of <= nc columns: pack B(pc, jc)
 * into nr-wide micro-panels (kc x nc, stays in L2) and run each A micro-panel (stays in L1d while
 * it sweeps) against every B micro-panel. A is packed once per K chunk whatever N is; B once per A
 * block. The first K chunk applies the caller's beta, later chunks add (beta = 1). When A is
 * row-major (csa = 1, row stride not a multiple of 256 bytes) and the kernel has ukr_da, A is read
 * in place instead of packed: its m rows are as many contiguous streams as the packed panel's
 * one, and the copy is saved (on 2 threads each task would copy all of a shared A; gemm.c,
 * GEMM_DIRECT_A). Operands mostly arrive from L3 or memory (a training step's products each read what the op
 * before wrote): the first A panel's sweep over a B read in place runs the kernel's prefetching twin (ukr_pf),
 * and the kernel's packers (pack_a_cols, pack_b_rows, AVX-512) prefetch the rows they will copy next.
 */

typedef struct DRV_(ctx) {
    const DRV_KERNEL *kd;
    int64_t M, N, K, nk; /* nk: number of K chunks */
    DRV_T alpha, beta;
    const DRV_T *A, *B;
    DRV_T *C;
    int64_t rsa, csa, rsb, csb, rsc, csc;
    int64_t tm, tn; /* task grid */
} DRV_(ctx);

/* dst[k*m + i] = A(i, k) for i < m, k < kc. */
static void DRV_(pack_a)(int m, int64_t kc, const DRV_T *A, int64_t rsa, int64_t csa,
                         DRV_T *restrict dst) {
    if (rsa == 1) {
        for (int64_t k = 0; k < kc; k++)
            for (int i = 0; i < m; i++) dst[k * m + i] = A[k * csa + i];
    } else if (csa == 1) {
        for (int i = 0; i < m; i++)
            for (int64_t k = 0; k < kc; k++) dst[k * m + i] = A[i * rsa + k];
    } else {
        for (int64_t k = 0; k < kc; k++)
            for (int i = 0; i < m; i++) dst[k * m + i] = A[i * rsa + k * csa];
    }
}

/* dst[k*npad + j] = B(k, j) for j < n, zero for n <= j < npad. */
static void DRV_(pack_b)(int n, int npad, int64_t kc, const DRV_T *B, int64_t rsb, int64_t csb,
                         DRV_T *restrict dst) {
    if (csb == 1) {
        for (int64_t k = 0; k < kc; k++) {
            memcpy(dst + k * npad, B + k * rsb, (size_t)n * sizeof(DRV_T));
            for (int j = n; j < npad; j++) dst[k * npad + j] = 0;
        }
        return;
    }
    if (rsb == 1) {
        for (int j = 0; j < n; j++)
            for (int64_t k = 0; k < kc; k++) dst[k * npad + j] = B[j * csb + k];
    } else {
        for (int64_t k = 0; k < kc; k++)
            for (int j = 0; j < n; j++) dst[k * npad + j] = B[k * rsb + j * csb];
    }
    if (n < npad)
        for (int64_t k = 0; k < kc; k++)
            for (int j = n; j < npad; j++) dst[k * npad + j] = 0;
}

/* The unpacked fallback when scratch memory is not available: same contract, slow. */
static void DRV_(naive)(const DRV_(ctx) * x, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    for (int64_t i = m0; i < m1; i++)
        for (int64_t j = n0; j < n1; j++) {
            DRV_T s = 0;
            for (int64_t k = 0; k < x->K; k++)
                s += x->A[i * x->rsa + k * x->csa] * x->B[k * x->rsb + j * x->csb];
            DRV_T *c = x->C + i * x->rsc + j * x->csc;
            *c = x->beta != 0 ? x->alpha * s + x->beta * *c : x->alpha * s;
        }
}

static void DRV_(block)(const DRV_(ctx) * x, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    const DRV_KERNEL *kd = x->kd;
    const int64_t kcmax = (x->K + x->nk - 1) / x->nk;
    /* N in nnb near-equal blocks of <= nc columns (boundaries on multiples of nr). */
    const int64_t nnb = (n1 - n0 + kd->nc - 1) / kd->nc;
    const int64_t ncmax = n1 - n0 < kd->nc ? n1 - n0 : kd->nc;
    const int64_t bw = (ncmax + kd->nr_pad - 1) / kd->nr_pad * kd->nr_pad;
    const int64_t mrows = m1 - m0, npanels = (mrows + kd->mr - 1) / kd->mr;
    /* A micro-panels are packed once per K chunk for a whole block of them and reused by every nc
     * block of N; the block is bounded by GEMM_A_BLOCK_BYTES, its panels split evenly. */
    const int64_t pstride = kd->mr * kcmax; /* elements per packed A micro-panel */
    int64_t mcp = GEMM_A_BLOCK_BYTES / ((int64_t)sizeof(DRV_T) * pstride);
    if (mcp < 1) mcp = 1;
    const int64_t nblk = (npanels + mcp - 1) / mcp;
    mcp = (npanels + nblk - 1) / nblk;
    /* A row-major A is read in place by the kernel (ukr_da), not packed (gemm.c, GEMM_DIRECT_A); not for row strides
     * that are multiples of 256 bytes, whose rows share a few cache sets (1024^3: 12 rows 4 KB apart, one set) */
    const int direct_a =
        GEMM_DIRECT_A && kd->ukr_da && x->csa == 1 && (x->rsa * (int64_t)sizeof(DRV_T)) % 256;
    DRV_T *abuf =
        direct_a ? NULL : vae__thread_scratch(0, (size_t)(mcp * pstride + GEMM_PACK_SLACK) * sizeof(DRV_T));
    DRV_T *bbuf = vae__thread_scratch(1, (size_t)(kcmax * bw) * sizeof(DRV_T));
    if ((!abuf && !direct_a) || !bbuf) {
        DRV_(naive)(x, m0, m1, n0, n1);
        return;
    }
    /* Few A panels share each B panel, so packing B would cost more than it saves: read full-width
     * panels of a row-major B in place. Not for row strides that are multiples of 256 bytes: those
     * rows all land in a few cache sets and evict each other. */
    const int direct_b =
        x->csb == 1 && npanels <= GEMM_DIRECT_B_PANELS && (x->rsb * (int64_t)sizeof(DRV_T)) % 256;
    for (int64_t b = 0; b < nblk; b++) {
        const int64_t ip0 = npanels * b / nblk, ip1 = npanels * (b + 1) / nblk;
        for (int64_t pk = 0; pk < x->nk; pk++) {
            const int64_t p0 = x->K * pk / x->nk, kc = x->K * (pk + 1) / x->nk - p0;
            for (int64_t ip = ip0; ip < ip1 && !direct_a; ip++) {
                const int64_t i0 = m0 + mrows * ip / npanels,
                              m = m0 + mrows * (ip + 1) / npanels - i0;
                const DRV_T *ap = x->A + i0 * x->rsa + p0 * x->csa;
                DRV_T *dst = abuf + (ip - ip0) * pstride;
                if (x->csa == 1 && kd->pack_a_rows)
                    kd->pack_a_rows((int)m, kc, ap, x->rsa, dst);
                else if (x->rsa == 1 && kd->pack_a_cols)
                    kd->pack_a_cols((int)m, kc, ap, x->csa, dst);
                else
                    DRV_(pack_a)((int)m, kc, ap, x->rsa, x->csa, dst);
            }
            const DRV_T beta = pk == 0 ? x->beta : 1;
            for (int64_t q = 0; q < nnb; q++) {
                int64_t jc, jend;
                vae__gemm_split(n1 - n0, nnb, q, kd->nr, &jc, &jend);
                const int64_t nc = jend - jc;
                jc += n0;
                for (int64_t jr = 0; jr < nc; jr += kd->nr) {
                    const int n = (int)(nc - jr < kd->nr ? nc - jr : kd->nr);
                    const int npad = (n + kd->nr_pad - 1) / kd->nr_pad * kd->nr_pad;
                    if (direct_b && n == kd->nr) continue;
                    const DRV_T *bsrc = x->B + p0 * x->rsb + (jc + jr) * x->csb;
                    if (x->rsb == 1 && x->csb != 1 && kd->pack_b_cols)
                        kd->pack_b_cols(n, npad, kc, bsrc, x->csb, bbuf + kc * jr);
                    else if (x->csb == 1 && kd->pack_b_rows)
                        kd->pack_b_rows(n, npad, kc, bsrc, x->rsb, bbuf + kc * jr);
                    else
                        DRV_(pack_b)(n, npad, kc, bsrc, x->rsb, x->csb, bbuf + kc * jr);
                }
                for (int64_t ip = ip0; ip < ip1; ip++) {
                    const int64_t i0 = m0 + mrows * ip / npanels,
                                  m = m0 + mrows * (ip + 1) / npanels - i0;
                    const DRV_T *ap = abuf + (ip - ip0) * pstride;
                    for (int64_t jr = 0; jr < nc; jr += kd->nr) {
                        const int n = (int)(nc - jr < kd->nr ? nc - jr : kd->nr);
                        const int npad = (n + kd->nr_pad - 1) / kd->nr_pad * kd->nr_pad;
                        const int direct = direct_b && n == kd->nr;
                        const DRV_T *bp = direct ? x->B + p0 * x->rsb + jc + jr : bbuf + kc * jr;
                        DRV_T *cp = x->C + i0 * x->rsc + (jc + jr) * x->csc;
                        /* The first A panel meets this strip of an in-place B before any cache holds it
                         * (a weight, last touched by the previous step's update): prefetch it ahead. */
                        const int pf = direct && ip == ip0;
                        if (direct_a)
                            (pf && kd->ukr_da_pf ? kd->ukr_da_pf : kd->ukr_da)(
                                kc, x->A + i0 * x->rsa + p0, x->rsa, bp, direct ? x->rsb : npad, cp, x->rsc,
                                x->csc, (int)m, n, x->alpha, beta);
                        else
                            (pf && kd->ukr_pf ? kd->ukr_pf : kd->ukr)(kc, ap, bp, direct ? x->rsb : npad, cp,
                                                                     x->rsc, x->csc, (int)m, n, x->alpha, beta);
                    }
                }
            }
        }
    }
}

static void DRV_(task)(void *vctx, int64_t t, int thread_id) {
    (void)thread_id;
    const DRV_(ctx) *x = vctx;
    int64_t m0, m1, n0, n1;
    vae__gemm_split(x->M, x->tm, t / x->tn, 1, &m0, &m1);
    vae__gemm_split(x->N, x->tn, t % x->tn, x->kd->nr_pad, &n0, &n1);
    if (m0 < m1 && n0 < n1) DRV_(block)(x, m0, m1, n0, n1);
}

/* The K-split product (gemm_hint.h, VAE__GEMM_KSPLIT): task t computes C's whole M x N over K chunk t of 2; task 0
 * into C with the caller's beta, task 1 into P with beta 0; then C += P by row halves. P is the calling thread's
 * scratch, not the worker's: the pool may regrow a worker's buffers at the end of any job (threadpool.c,
 * scratch_level), here between the two jobs, when another user thread has asked for a larger slot 5. */
typedef struct DRV_(kctx) {
    DRV_(ctx) x;
    DRV_T *P; /* task 1's partial (M x N, row stride N) */
} DRV_(kctx);

static void DRV_(ktask)(void *vk, int64_t t, int thread_id) {
    (void)thread_id;
    DRV_(kctx) *k = vk;
    DRV_(ctx) y = k->x;
    const int64_t k0 = k->x.K * t / 2, k1 = k->x.K * (t + 1) / 2; /* the serial driver's chunk boundaries */
    y.A = k->x.A + k0 * k->x.csa;
    y.B = k->x.B + k0 * k->x.rsb;
    y.K = k1 - k0;
    y.nk = 1;
    if (t == 1) y.C = k->P, y.rsc = y.N, y.csc = 1, y.beta = 0;
    DRV_(block)(&y, 0, y.M, 0, y.N);
}

static void DRV_(kreduce)(void *vk, int64_t t, int thread_id) {
    (void)thread_id;
    const DRV_(kctx) *k = vk;
    const DRV_(ctx) *x = &k->x;
    for (int64_t i = x->M * t / 2; i < x->M * (t + 1) / 2; i++) {
        DRV_T *c = x->C + i * x->rsc;
        const DRV_T *p = k->P + i * x->N;
        if (x->csc == 1)
            for (int64_t j = 0; j < x->N; j++) c[j] = c[j] + p[j];
        else
            for (int64_t j = 0; j < x->N; j++) c[j * x->csc] = c[j * x->csc] + p[j];
    }
}

/* With alpha = 1 the serial driver's second chunk leaves C = C + acc (the kernel's beta = 1 path, rounded once),
 * which is what task 1's acc added to task 0's C gives. */
static void DRV_(ksplit)(const DRV_(ctx) * x) {
    DRV_(kctx) k = {.x = *x, .P = vae__thread_scratch(5, (size_t)(x->M * x->N) * sizeof(DRV_T))};
    if (k.P) {
        vae__parallel_pinned(2, DRV_(ktask), &k);
        vae__parallel_pinned(2, DRV_(kreduce), &k);
    } else {
        DRV_(block)(x, 0, x->M, 0, x->N); /* no scratch: the serial driver, on this thread (the same two chunks) */
    }
}

static void DRV_(run)(const DRV_KERNEL *kd, int64_t M, int64_t N, int64_t K, DRV_T alpha,
                      const DRV_T *A, int64_t rsa, int64_t csa, const DRV_T *B, int64_t rsb,
                      int64_t csb, DRV_T beta, DRV_T *C, int64_t rsc, int64_t csc) {
    DRV_(ctx)
    x = {.kd = kd,
         .M = M,
         .N = N,
         .K = K,
         .nk = (K + kd->kc - 1) / kd->kc,
         .alpha = alpha,
         .beta = beta,
         .A = A,
         .B = B,
         .C = C,
         .rsa = rsa,
         .csa = csa,
         .rsb = rsb,
         .csb = csb,
         .rsc = rsc,
         .csc = csc,
         .tm = 1,
         .tn = 1};
    /* Under the K-split hint a K that fits one chunk but is long enough to halve is summed in two chunks on every
     * thread count, so that 2 threads can split it (gemm_hint.h). */
    if (tl_hint == VAE__GEMM_KSPLIT && x.nk == 1 && K >= GEMM_KSPLIT_MIN_K) x.nk = 2;
    /* Inside a pool task (a conv block) the tasks would run one after the other on this thread: a grid would only
     * repeat the packing. */
    const int nt = vae__pool_in_task() ? 1 : vae_threads_get();
    if (tl_hint == VAE__GEMM_KSPLIT && nt == 2 && x.nk == 2 && alpha == 1 &&
        2.0 * (double)M * (double)N * (double)K >= GEMM_PARALLEL_FLOPS) {
        DRV_(ksplit)(&x);
        return;
    }
    vae__gemm_grid(M, N, K, kd->mr, kd->nr, kd->nr_pad, nt, &x.tm, &x.tn);
    if (x.tm * x.tn == 1)
        DRV_(block)(&x, 0, M, 0, N);
    else if (tl_hint != VAE__GEMM_FREE && x.tm * x.tn == nt)
        vae__parallel_pinned(x.tm * x.tn, DRV_(task), &x);
    else
        vae_parallel_for(x.tm * x.tn, DRV_(task), &x);
}
