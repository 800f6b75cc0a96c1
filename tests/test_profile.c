/* The per-op profile (autograd/profile.h): exact call counts per op over several steps, forward and backward time
 * where the op ran, nothing counted while detached, an op that builds on another (conv2d copying a transposed
 * weight with vae_contiguous) counted once each and within the call's wall time, named phases and their overflow
 * row, rows sorted by time, and the text table (truncation, the length it needs). */
#include <string.h>

#include "test.h"
#include "vae.h"

/* One step: L = sum(relu(reshape(x @ W, (20)))), x (4, 3), W (3, 5), W requires grad. */
static void step(vae_ctx *c, double *wbuf) {
    static const double xv[12] = {1, -2, 0.5, 3, 0.25, -1, 2, 2, -0.5, 1, 1, 1};
    vae_ctx_reset(c);
    vae_tensor *x = vae_from_data(c, VAE_F64, 2, (int64_t[]){4, 3}, VAE_F64, xv);
    vae_tensor *W = vae_wrap(c, VAE_F64, VAE_SHAPE(3, 5), wbuf);
    vae_requires_grad(c, W, 1);
    vae_tensor *y = vae_reshape(c, vae_matmul(c, x, W), 1, (int64_t[]){20}); /* a view */
    vae_tensor *L = vae_sum_all(c, vae_relu(c, y));
    CHECK(vae_backward(c, L) == VAE_OK);
}

static const vae_profile_row *row(const vae_profile_row *rows, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcmp(rows[i].name, name)) return &rows[i];
    return NULL;
}

static void test_counts(void) {
    vae_ctx *c = vae_ctx_new(0);
    vae_profile *p = vae_profile_new();
    CHECK(c && p);
    if (!c || !p) return;
    double wbuf[15];
    for (int i = 0; i < 15; i++) wbuf[i] = 0.1 * (i - 7);
    step(c, wbuf); /* not attached: not counted */
    vae_ctx_set_profile(c, p);
    for (int s = 0; s < 3; s++) step(c, wbuf);
    vae_ctx_set_profile(c, NULL);
    step(c, wbuf);
    vae_profile_row rows[64];
    int n = vae_profile_rows(p, rows, 64);
    const vae_profile_row *mm = row(rows, n, "matmul"), *re = row(rows, n, "relu"),
                          *su = row(rows, n, "sum"), *rs = row(rows, n, "reshape");
    CHECK(n == 4 && mm && re && su && rs);
    if (rs) CHECK(rs->calls == 3 && rs->fwd_ns == 0 && rs->bwd_ns > 0); /* a view: backward calls */
    if (mm && re && su) {
        CHECK(mm->calls == 3 && re->calls == 3 && su->calls == 3);
        CHECK(mm->kind == 0 && mm->fwd_ns > 0 && mm->bwd_ns > 0);
        CHECK(re->fwd_ns > 0 && re->bwd_ns > 0 && su->bwd_ns > 0);
    }
    for (int i = 1; i < n; i++)
        CHECK(rows[i - 1].fwd_ns + rows[i - 1].bwd_ns >= rows[i].fwd_ns + rows[i].bwd_ns);
    /* ops without gradients count their forward only */
    vae_ctx_set_profile(c, p);
    vae_ctx_reset(c);
    vae_tensor *a = vae_ones(c, VAE_F32, VAE_SHAPE(8, 8));
    vae_tensor *e = vae_exp(c, vae_transpose(c, a, 0, 1));
    CHECK(e != NULL);
    vae_ctx_set_profile(c, NULL);
    n = vae_profile_rows(p, rows, 64);
    const vae_profile_row *ex = row(rows, n, "exp");
    CHECK(ex && ex->calls == 1 && ex->bwd_ns == 0);
    /* nested: conv2d copies its non-contiguous weight (a contiguous op) before its own work */
    vae_profile_clear(p);
    vae_ctx_set_profile(c, p);
    vae_ctx_reset(c);
    vae_tensor *img = vae_ones(c, VAE_F32, VAE_SHAPE(2, 3, 9, 9));
    vae_tensor *wt =
        vae_transpose(c, vae_ones(c, VAE_F32, VAE_SHAPE(3, 4, 3, 3)), 0, 1); /* (4, 3, 3, 3) view */
    const int64_t t0 = vae_profile_now_ns();
    vae_tensor *y = vae_conv2d(c, img, wt, NULL, 1, 0);
    const int64_t wall = vae_profile_now_ns() - t0;
    vae_ctx_set_profile(c, NULL);
    CHECK(y && y->shape[1] == 4);
    n = vae_profile_rows(p, rows, 64);
    const vae_profile_row *cv = row(rows, n, "conv2d"), *cp = row(rows, n, "contiguous");
    CHECK(n == 2 && cv && cp);
    if (cv && cp) {
        CHECK(cv->calls == 1 && cp->calls == 1 && cv->fwd_ns > 0 && cp->fwd_ns > 0);
        CHECK(cv->fwd_ns + cp->fwd_ns <= wall);
    }
    vae_profile_clear(p);
    CHECK(vae_profile_rows(p, rows, 64) == 0);
    vae_profile_free(p);
    vae_ctx_free(c);
}

static void test_phases_and_format(void) {
    vae_profile *p = vae_profile_new();
    CHECK(p != NULL);
    if (!p) return;
    vae_profile_add(p, "optimizer", 3000000);
    vae_profile_add(p, "optimizer", 1000000);
    vae_profile_add(p, "data", 1000000);
    for (int i = 0; i < 20; i++) { /* 15 names at most: the rest go to "other" */
        char name[16];
        snprintf(name, sizeof name, "ph%d", i);
        vae_profile_add(p, name, 10);
    }
    vae_profile_row rows[64];
    const int n = vae_profile_rows(p, rows, 64);
    CHECK(n == 16);
    CHECK(!strcmp(rows[0].name, "optimizer") && rows[0].calls == 2 && rows[0].fwd_ns == 4000000 &&
          rows[0].kind == 1);
    const vae_profile_row *other = row(rows, n, "other");
    CHECK(other && other->calls == 7 && other->fwd_ns == 70); /* ph13 .. ph19 */
    char buf[2048];
    const int len = vae_profile_format(p, 2, buf, sizeof buf);
    CHECK(len > 0 && (size_t)len < sizeof buf && (size_t)len == strlen(buf));
    CHECK(strstr(buf, "optimizer") && strstr(buf, "2.0000")); /* 4 ms over 2 steps */
    char small[40];
    CHECK(vae_profile_format(p, 2, small, sizeof small) == len &&
          strlen(small) == sizeof small - 1);
    CHECK(vae_profile_format(p, 2, NULL, 0) == len);
    vae_profile_free(p);
    vae_profile_free(NULL);
    vae_ctx_set_profile(NULL, NULL);
    CHECK(vae_profile_rows(NULL, rows, 64) == 0);
}

int main(void) {
    test_counts();
    test_phases_and_format();
    return test_finish();
}
