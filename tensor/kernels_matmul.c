/* Batched matmul over gemm. Batch dims that can be folded into a matrix dim become one big gemm (IWAE's (K,B,Z)
 * activations against shared (Z,H) weights, and the summed weight gradient), which is much faster than many small
 * ones; otherwise one gemm per batch index, in batch order. */
#include "gemm.h"
#include "kernels.h"

/* Batch dims 0..nb-1 fold into a matrix dim (size `len`, stride `st`) when they chain contiguously onto it. */
static int folds(const vae_tensor *t, int nb, int64_t len, int64_t st) {
    int64_t expect = st * len;
    for (int d = nb - 1; d >= 0; d--) {
        if (t->shape[d] == 1) continue;
        if (t->stride[d] != expect) return 0;
        expect *= t->shape[d];
    }
    return 1;
}

static int batch_zero(const vae_tensor *t, int nb) {
    for (int d = 0; d < nb; d++)
        if (t->shape[d] != 1 && t->stride[d] != 0) return 0;
    return 1;
}

static void gemm(const vae_tensor *C, int64_t M, int64_t N, int64_t K, const void *a, int64_t rsa,
                 int64_t csa, const void *b, int64_t rsb, int64_t csb, double beta, void *c,
                 int64_t rsc, int64_t csc) {
    if (C->dtype == VAE_F64)
        vae_dgemm(M, N, K, 1.0, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc);
    else
        vae_sgemm(M, N, K, 1.0f, a, rsa, csa, b, rsb, csb, (float)beta, c, rsc, csc);
}

void vae_k_matmul(const vae_tensor *A, const vae_tensor *B, vae_tensor *C, double beta) {
    int nd = C->ndim, nb = nd - 2;
    int64_t M = C->shape[nd - 2], N = C->shape[nd - 1], K = A->shape[nd - 1];
    int64_t rsa = A->stride[nd - 2], csa = A->stride[nd - 1];
    int64_t rsb = B->stride[nd - 2], csb = B->stride[nd - 1];
    int64_t rsc = C->stride[nd - 2], csc = C->stride[nd - 1];
    int64_t nbatch = 1;
    for (int d = 0; d < nb; d++) nbatch *= C->shape[d];
    size_t es = vae_dtype_size(C->dtype);
    const char *a0 = (const char *)A->data + A->offset * (int64_t)es;
    const char *b0 = (const char *)B->data + B->offset * (int64_t)es;
    char *c0 = (char *)C->data + C->offset * (int64_t)es;
    if (nbatch == 0 || M == 0 || N == 0) return;
    if (nbatch == 1) {
        gemm(C, M, N, K, a0, rsa, csa, b0, rsb, csb, beta, c0, rsc, csc);
        return;
    }
    /* Shared B: fold the batch into M when A's and C's batch dims chain onto their rows. */
    if (batch_zero(B, nb) && folds(A, nb, M, rsa) && folds(C, nb, M, rsc)) {
        gemm(C, M * nbatch, N, K, a0, rsa, csa, b0, rsb, csb, beta, c0, rsc, csc);
        return;
    }
    /* Accumulating into one C: fold the batch into K when A's batch chains onto its columns and B's onto its
     * rows (the weight gradient sum_b x_b^T g_b). */
    if (batch_zero(C, nb) && beta == 1.0 && folds(A, nb, K, csa) && folds(B, nb, K, rsb)) {
        gemm(C, M, N, K * nbatch, a0, rsa, csa, b0, rsb, csb, 1.0, c0, rsc, csc);
        return;
    }
    int64_t idx[VAE_MAX_DIMS] = {0};
    for (int64_t t = 0; t < nbatch; t++) {
        int64_t oa = 0, ob = 0, oc = 0;
        for (int d = 0; d < nb; d++) {
            oa += idx[d] * A->stride[d];
            ob += idx[d] * B->stride[d];
            oc += idx[d] * C->stride[d];
        }
        gemm(C, M, N, K, a0 + oa * (int64_t)es, rsa, csa, b0 + ob * (int64_t)es, rsb, csb, beta,
             c0 + oc * (int64_t)es, rsc, csc);
        for (int d = nb - 1; d >= 0; d--) {
            if (++idx[d] < C->shape[d]) break;
            idx[d] = 0;
        }
    }
}
