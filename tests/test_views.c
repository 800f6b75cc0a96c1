/* Views: aliasing of the root storage, writes through views, reshape view-vs-copy, slicing (negative indices,
 * steps), expand (stride 0, read-only), squeeze/unsqueeze, contiguous, detach, and the debug printer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "vae.h"

static int vals_are(const vae_tensor *t, int64_t n, const double *want) {
    if (!t || vae_numel(t) != n) return 0;
    for (int64_t i = 0; i < n; i++)
        if (vae_get_flat(t, i) != want[i]) return 0;
    return 1;
}

static int shape_is(const vae_tensor *t, int nd, const int64_t *sh) {
    if (!t || t->ndim != nd) return 0;
    for (int i = 0; i < nd; i++)
        if (t->shape[i] != sh[i]) return 0;
    return 1;
}

/* (2,3,4) holding 0..23 in row-major order */
static vae_tensor *iota3(vae_ctx *c, vae_dtype dt) {
    return vae_reshape(c, vae_arange(c, dt, 0, 24, 1), VAE_SHAPE(2, 3, 4));
}

static void test_roots(vae_ctx *c) {
    vae_tensor *r = vae_arange(c, VAE_F32, 0, 24, 1);
    CHECK(r && r->root == r);
    vae_tensor *v1 = vae_reshape(c, r, VAE_SHAPE(2, 3, 4));
    vae_tensor *v2 = vae_permute(c, v1, (int[]){2, 0, 1});
    vae_tensor *v3 = vae_slice(c, v2, 0, 1, 4, 2);
    vae_tensor *v4 = vae_transpose(c, v3, 0, -1);
    vae_tensor *v5 = vae_unsqueeze(c, v4, 1);
    vae_tensor *v6 = vae_squeeze(c, v5, 1);
    vae_tensor *v7 = vae_expand(c, vae_unsqueeze(c, v6, 0), VAE_SHAPE(5, 3, 2, 2));
    vae_tensor *v8 = vae_detach(c, v3);
    vae_tensor *chain[] = {v1, v2, v3, v4, v5, v6, v7, v8};
    for (int i = 0; i < 8; i++) {
        CHECK_MSG(chain[i] && chain[i]->data == r->data, "view %d shares the root's data", i + 1);
        CHECK_MSG(chain[i] && chain[i]->root == r, "view %d points at the root, not at its source",
                  i + 1);
    }
    /* detach of a root points at that root */
    vae_tensor *d = vae_detach(c, r);
    CHECK(d && d != r && d->root == r && d->data == r->data);
    /* the tensor/ layer does the same */
    vae_tensor a, b;
    vae_error e = {0};
    CHECK(vae_view_transpose(v2, 0, 1, &a, &e) == VAE_OK && a.root == r && a.data == r->data);
    CHECK(vae_view_slice(&a, 1, 0, 2, 1, &b, &e) == VAE_OK && b.root == r);
    vae_tensor *vo =
        vae_tensor_view_of(vae_ctx_arena(c), &e, &b, b.ndim, b.shape, b.stride, b.offset);
    CHECK(vo && vo->root == r && vo->data == r->data);
    CHECK(e.code == VAE_OK);
    /* a caller buffer's views keep the CALLER flag and the wrap as root */
    double buf[6] = {0, 1, 2, 3, 4, 5};
    vae_tensor *w = vae_wrap(c, VAE_F64, VAE_SHAPE(2, 3), buf);
    vae_tensor *wt = vae_slice(c, vae_transpose(c, w, 0, 1), 0, 1, 3, 1);
    CHECK(wt && wt->root == w && wt->data == (void *)buf && (wt->flags & VAE_TF_CALLER));
}

static void test_writes(vae_ctx *c) {
    vae_tensor *x = iota3(c, VAE_F64);
    vae_tensor *p = vae_permute(c, x, (int[]){2, 0, 1}); /* (4,2,3): p[k,i,j] = x[i,j,k] */
    CHECK(shape_is(p, VAE_SHAPE(4, 2, 3)));
    /* flat index of p[3,1,2] = (3*2+1)*3+2 = 23 -> x[1,2,3] */
    vae_set_flat(p, 23, -1);
    CHECK(vae_get(x, (int64_t[]){1, 2, 3}) == -1);
    vae_set_flat(p, 1, -2); /* p[0,0,1] -> x[0,1,0] */
    CHECK(vae_get(x, (int64_t[]){0, 1, 0}) == -2);
    /* a sliced view with a step along the middle axis: s[i,j,k] = x[i, 1+... ] */
    vae_tensor *s = vae_slice(c, x, 2, 1, 4, 2); /* (2,3,2): k in {1,3} */
    CHECK(shape_is(s, VAE_SHAPE(2, 3, 2)));
    vae_set_flat(s, 5, 100); /* s[0,2,1] -> x[0,2,3] */
    CHECK(vae_get(x, (int64_t[]){0, 2, 3}) == 100);
    /* reshaped view of a slice (viewable: the sliced axis is innermost) */
    vae_tensor *rs = vae_reshape(c, s, VAE_SHAPE(6, 2));
    CHECK(rs && rs->data == x->data);
    vae_set_flat(rs, 6, 200); /* rs[3,0] = s[1,0,0] -> x[1,0,1] */
    CHECK(vae_get(x, (int64_t[]){1, 0, 1}) == 200);
    /* the root reads back every write, and reads through the views agree with the root */
    CHECK(vae_get_flat(p, 23) == -1 && vae_get_flat(s, 5) == 100 && vae_get_flat(rs, 6) == 200);
    /* f32 storage too */
    vae_tensor *y = iota3(c, VAE_F32);
    vae_tensor *yt = vae_transpose(c, y, 0, 2); /* (4,3,2) */
    vae_set_flat(yt, 1, 0.5);                   /* yt[0,0,1] -> y[1,0,0] */
    CHECK(vae_get(y, (int64_t[]){1, 0, 0}) == 0.5);
}

static void test_reshape(vae_ctx *c) {
    vae_tensor *x = iota3(c, VAE_F32);
    vae_tensor *r = vae_reshape(c, x, VAE_SHAPE(4, -1));
    CHECK(shape_is(r, VAE_SHAPE(4, 6)) && r->data == x->data && vae_is_contiguous(r));
    r = vae_reshape(c, x, VAE_SHAPE(1, 24, 1));
    CHECK(r && r->data == x->data && vae_get_flat(r, 23) == 23);
    vae_tensor *z = vae_reshape(c, x, 0, NULL); /* to 0-d is impossible: 24 elements */
    CHECK(z == NULL && vae_ctx_status(c) == VAE_ERR_SHAPE);
    vae_ctx_clear_error(c);
    /* permute (0,2,1) then merge the first two dims: still a view */
    vae_tensor *p = vae_permute(c, x, (int[]){0, 2, 1}); /* (2,4,3) strides (12,1,4) */
    vae_tensor *pv = vae_reshape(c, vae_slice(c, x, 2, 0, 2, 1), VAE_SHAPE(6, 2));
    CHECK(pv && pv->data == x->data && pv->root == x->root);
    CHECK(vals_are(pv, 12, (double[]){0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21}));
    /* merging dims that are not adjacent in memory forces a copy with the right values */
    vae_tensor *pc = vae_reshape(c, p, VAE_SHAPE(2, 12));
    CHECK(pc && pc->data != x->data && pc->root != x->root && vae_is_contiguous(pc));
    double want[24];
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 4; k++)
            for (int j = 0; j < 3; j++) want[i * 12 + k * 3 + j] = i * 12 + j * 4 + k;
    CHECK(vals_are(pc, 24, want));
    vae_tensor *t = vae_transpose(c, vae_reshape(c, x, VAE_SHAPE(4, 6)), 0, 1);
    vae_tensor *tc = vae_reshape(c, t, VAE_SHAPE(-1));
    CHECK(tc && tc->data != x->data && vae_get_flat(tc, 1) == 6 && vae_get_flat(tc, 4) == 1);
    /* splitting a transposed dim is a view */
    vae_tensor *ts = vae_reshape(c, t, VAE_SHAPE(2, 3, 4));
    CHECK(ts && ts->data == x->data && vae_get(ts, (int64_t[]){1, 0, 1}) == 9);
    /* the tensor/ layer reports "copy needed" without an error */
    vae_tensor out;
    vae_error e = {0};
    CHECK(vae_view_reshape(p, VAE_SHAPE(2, 12), &out, NULL, &e) == VAE_ERR_UNSUPPORTED &&
          e.code == VAE_OK);
    int64_t res[2];
    CHECK(vae_view_reshape(x, VAE_SHAPE(-1, 8), &out, res, &e) == VAE_OK && res[0] == 3 &&
          res[1] == 8);
    /* empty tensors reshape freely */
    vae_tensor *em = vae_reshape(c, vae_zeros(c, VAE_F32, VAE_SHAPE(0, 3)), VAE_SHAPE(3, 0, 5));
    CHECK(shape_is(em, VAE_SHAPE(3, 0, 5)));
}

static void test_slice(vae_ctx *c) {
    vae_tensor *x = vae_arange(c, VAE_F64, 0, 10, 1);
    CHECK(vals_are(vae_slice(c, x, 0, -7, -1, 2), 3, (double[]){3, 5, 7}));
    CHECK(vals_are(vae_slice(c, x, -1, -100, 100, 3), 4, (double[]){0, 3, 6, 9}));
    CHECK(vals_are(vae_slice(c, x, 0, -3, 10, 1), 3, (double[]){7, 8, 9}));
    CHECK(vals_are(vae_slice(c, x, 0, 2, -1, 100), 1, (double[]){2}));
    vae_tensor *e1 = vae_slice(c, x, 0, 8, 2, 1), *e2 = vae_slice(c, x, 0, 12, 20, 1);
    CHECK(e1 && vae_numel(e1) == 0 && e2 && vae_numel(e2) == 0);
    /* a huge step takes the first element only (and must not overflow) */
    CHECK(vals_are(vae_slice(c, x, 0, 1, INT64_MAX, INT64_MAX), 1, (double[]){1}));
    vae_tensor *m = vae_reshape(c, vae_arange(c, VAE_F64, 0, 40, 1), VAE_SHAPE(4, 10));
    vae_tensor *mc = vae_slice(c, m, 0, -3, INT64_MAX, INT64_MAX);
    CHECK(shape_is(mc, VAE_SHAPE(1, 10)) && vae_get_flat(mc, 2) == 12);
    /* slice of a slice: offsets and strides compose */
    vae_tensor *s1 = vae_slice(c, m, 1, 1, 10, 2);  /* columns 1,3,5,7,9 */
    vae_tensor *s2 = vae_slice(c, s1, 1, -4, 5, 2); /* of those: 3, 7 */
    vae_tensor *s3 = vae_slice(c, s2, 0, 1, 4, 2);  /* rows 1, 3 */
    CHECK(shape_is(s3, VAE_SHAPE(2, 2)) && vals_are(s3, 4, (double[]){13, 17, 33, 37}));
    CHECK(s3 && s3->root == m->root && s3->stride[1] == 4 && s3->stride[0] == 20);
    /* gradient of a sliced view lands in the right places */
    vae_tensor *g = vae_arange(c, VAE_F64, 0, 6, 1);
    vae_requires_grad(c, g, 1);
    vae_tensor *gs = vae_slice(c, g, 0, -5, INT64_MAX, 3); /* elements 1 and 4 */
    CHECK(vae_backward(c, vae_sum_all(c, vae_mul_scalar(c, gs, 2))) == VAE_OK);
    CHECK(g->grad && vals_are(g->grad, 6, (double[]){0, 2, 0, 0, 2, 0}));
    vae_ctx_reset(c);
}

static void test_expand_squeeze(vae_ctx *c) {
    vae_tensor *x = vae_from_data(c, VAE_F32, VAE_SHAPE(3, 1), VAE_F64, (double[]){1, 2, 3});
    vae_tensor *e = vae_expand(c, x, VAE_SHAPE(2, 3, 4));
    CHECK(shape_is(e, VAE_SHAPE(2, 3, 4)) && e->data == x->data);
    CHECK(e && e->stride[0] == 0 && e->stride[2] == 0 && e->stride[1] == x->stride[0]);
    CHECK(e && (e->flags & VAE_TF_READONLY) && !(x->flags & VAE_TF_READONLY));
    CHECK(e && vae_get(e, (int64_t[]){1, 2, 3}) == 3 && vae_get(e, (int64_t[]){0, 0, 2}) == 1);
    /* -1 keeps a size; expanding to the same shape is not read-only */
    vae_tensor *same = vae_expand(c, x, VAE_SHAPE(-1, 1));
    CHECK(shape_is(same, VAE_SHAPE(3, 1)) && !(same->flags & VAE_TF_READONLY));
    /* a view of a read-only view stays read-only; its contiguous copy is writable */
    vae_tensor *et = vae_transpose(c, e, 0, 2);
    CHECK(et && (et->flags & VAE_TF_READONLY));
    vae_tensor *ec = vae_contiguous(c, e);
    CHECK(ec && ec != e && ec->data != x->data && !(ec->flags & VAE_TF_READONLY) &&
          vae_is_contiguous(ec));
    CHECK(ec && vae_get_flat(ec, 23) == 3 && vae_get_flat(ec, 4) == 2);
    /* squeeze / unsqueeze */
    vae_tensor *sq = vae_squeeze(c, x, -1);
    CHECK(shape_is(sq, VAE_SHAPE(3)) && sq->stride[0] == 1 && vals_are(sq, 3, (double[]){1, 2, 3}));
    vae_tensor *u0 = vae_unsqueeze(c, sq, 0), *u1 = vae_unsqueeze(c, sq, -1),
               *um = vae_unsqueeze(c, x, 1);
    CHECK(shape_is(u0, VAE_SHAPE(1, 3)) && shape_is(u1, VAE_SHAPE(3, 1)) &&
          shape_is(um, VAE_SHAPE(3, 1, 1)));
    CHECK(u0 && !(u0->flags & VAE_TF_READONLY) && vae_is_contiguous(u0) && u0->data == x->data);
    vae_tensor *b = vae_unsqueeze(c, vae_unsqueeze(c, vae_scalar(c, VAE_F64, 7), 0), 0);
    CHECK(shape_is(b, VAE_SHAPE(1, 1)) && vae_item(b) == 7);
    CHECK(vae_item(vae_squeeze(c, vae_squeeze(c, b, 0), 0)) == 7);
}

static void test_contiguous_detach(vae_ctx *c) {
    vae_tensor *x = vae_reshape(c, vae_arange(c, VAE_F64, 0, 6, 1), VAE_SHAPE(2, 3));
    CHECK(vae_contiguous(c, x) == x);
    vae_tensor *t = vae_transpose(c, x, 0, 1);
    CHECK(t && !vae_is_contiguous(t));
    vae_tensor *tc = vae_contiguous(c, t);
    CHECK(tc && tc != t && tc->data != x->data && vae_is_contiguous(tc) && tc->offset == 0);
    const double want[6] = {0, 3, 1, 4, 2, 5};
    CHECK(tc && memcmp(tc->data, want, sizeof want) == 0); /* raw storage is row-major */
    /* f32 storage, a sliced start offset */
    vae_tensor *f =
        vae_slice(c, vae_reshape(c, vae_arange(c, VAE_F32, 0, 12, 1), VAE_SHAPE(3, 4)), 1, 1, 4, 2);
    vae_tensor *fc = vae_contiguous(c, f);
    const float wantf[6] = {1, 3, 5, 7, 9, 11};
    CHECK(fc && fc != f && memcmp(fc->data, wantf, sizeof wantf) == 0);

    /* detach: same storage, no grad, stops the gradient */
    vae_tensor *w = vae_from_data(c, VAE_F64, VAE_SHAPE(3), VAE_F64, (double[]){1, 2, 3});
    vae_requires_grad(c, w, 1);
    vae_tensor *d = vae_detach(c, w);
    CHECK(d && d->data == w->data && !(d->flags & VAE_TF_REQUIRES_GRAD) && d->grad == NULL &&
          d->node == NULL);
    int64_t len = vae_tape_length(c);
    vae_tensor *y = vae_mul(c, w, d); /* d/dw (w * stop(w)) = stop(w) = w */
    vae_tensor *yd = vae_mul(c, d, d);
    CHECK(yd && !(yd->flags & VAE_TF_REQUIRES_GRAD) && vae_tape_length(c) == len + 1);
    CHECK(vae_backward(c, vae_sum_all(c, y)) == VAE_OK);
    CHECK(w->grad && vals_are(w->grad, 3, (double[]){1, 2, 3}));
    CHECK(d->grad == NULL);
    /* a detached op output does not require grad either and is a leaf */
    vae_ctx_reset(c);
    vae_tensor *w2 = vae_ones(c, VAE_F64, VAE_SHAPE(2));
    vae_requires_grad(c, w2, 1);
    vae_tensor *dd = vae_detach(c, vae_exp(c, w2));
    CHECK(dd && !(dd->flags & VAE_TF_REQUIRES_GRAD) && dd->node == NULL);
    CHECK(vae_requires_grad(c, dd, 1) == VAE_OK); /* a detached tensor is a leaf again */
    vae_ctx_reset(c);
}

/* Print t to a temporary file and compare with want. */
static void check_print(const vae_tensor *t, int max_items, const char *want) {
    FILE *f = tmpfile();
    CHECK(f != NULL);
    if (!f) return;
    vae_tensor_fprint(f, t, max_items);
    char buf[512] = {0};
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    CHECK_MSG(strcmp(buf, want) == 0, "printed \"%s\", want \"%s\"", buf, want);
}

static void test_print(vae_ctx *c) {
    vae_tensor *x = vae_reshape(c, vae_arange(c, VAE_F32, 1, 7, 1), VAE_SHAPE(2, 3));
    check_print(x, 0, "tensor f32 (2,3) [[1, 2, 3], [4, 5, 6]]\n");
    vae_tensor *h = vae_mul_scalar(c, vae_transpose(c, vae_cast(c, x, VAE_F64), 0, 1), 0.5);
    check_print(vae_transpose(c, h, 0, 1), 0,
                "tensor f64 (2,3) (strided) [[0.5, 1, 1.5], [2, 2.5, 3]]\n");
    check_print(vae_arange(c, VAE_F64, 0, 10, 1), 4, "tensor f64 (10,) [0, 1, ..., 8, 9]\n");
    check_print(vae_scalar(c, VAE_F32, -2.25), 0, "tensor f32 () -2.25\n");
    check_print(vae_zeros(c, VAE_F32, VAE_SHAPE(0)), 0, "tensor f32 (0,) []\n");
    check_print(vae_from_data(c, VAE_F64, VAE_SHAPE(2), VAE_F64, (double[]){1.0 / 3, 1e-7}), 0,
                "tensor f64 (2,) [0.333333, 1e-07]\n");
    vae_tensor_fprint(NULL, x, 0); /* harmless */
    FILE *f = tmpfile();
    if (f) {
        vae_tensor_fprint(f, NULL, 0);
        CHECK(ftell(f) == 0);
        fclose(f);
    }
}

int main(void) {
    vae_ctx *c = vae_ctx_new(0);
    CHECK(c != NULL);
    if (!c) return test_finish();
    void (*groups[])(vae_ctx *) = {test_roots, test_writes,         test_reshape,
                                   test_slice, test_expand_squeeze, test_contiguous_detach,
                                   test_print};
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        vae_ctx_reset(c);
        groups[g](c);
        CHECK_MSG(vae_ctx_status(c) == VAE_OK, "group %zu left an error: %s", g,
                  vae_ctx_message(c));
        vae_ctx_clear_error(c);
    }
    vae_ctx_free(c);
    return test_finish();
}
