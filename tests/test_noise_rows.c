/* vae_ctx_set_noise_rows: the shards of a batch draw exactly the rows of the single-process draw, and the RNG
 * ends where the single-process draw leaves it (data-parallel training, examples/vae/ranks.h). */
#include <string.h>

#include "autograd/ops.h"
#include "test.h"

/* Draw shape (k, total, e) in one ctx and as shards [lo_s, lo_{s+1}) in another; compare values and RNG state. */
static void check_split(vae_dtype dt, int normal, int64_t k, int64_t total, int64_t e,
                        const int64_t *cut, int ncut) {
    vae_ctx *full = vae_ctx_new(0), *part = vae_ctx_new(0);
    vae_ctx_seed(full, 42);
    int64_t shape[3] = {k, total, e};
    int nd = k > 0 ? 3 : 2;
    const int64_t *sh = k > 0 ? shape : shape + 1;
    vae_tensor *ref = normal ? vae_randn(full, dt, nd, sh) : vae_rand(full, dt, nd, sh);
    int64_t kk = k > 0 ? k : 1, mism = 0, sz = dt == VAE_F64 ? 8 : 4;
    for (int s = 0; s + 1 < ncut; s++) {
        vae_ctx_seed(part, 42);
        vae_ctx_set_noise_rows(part, total, cut[s]);
        int64_t b = cut[s + 1] - cut[s], ps[3] = {k, b, e};
        vae_tensor *t = normal ? vae_randn(part, dt, nd, k > 0 ? ps : ps + 1)
                               : vae_rand(part, dt, nd, k > 0 ? ps : ps + 1);
        for (int64_t j = 0; j < kk; j++)
            mism += memcmp((char *)t->data + (size_t)(j * b * e * sz),
                           (char *)ref->data + (size_t)((j * total + cut[s]) * e * sz),
                           (size_t)(b * e * sz)) != 0;
        CHECK_MSG(memcmp(vae_ctx_rng(part), vae_ctx_rng(full), sizeof(vae_rng)) == 0,
                  "shard %d: the RNG state differs from the single-process draw", s);
    }
    CHECK_MSG(mism == 0, "%lld particle rows differ (k %lld, total %lld, e %lld, %s)",
              (long long)mism, (long long)k, (long long)total, (long long)e,
              normal ? "randn" : "rand");
    vae_ctx_free(full), vae_ctx_free(part);
}

int main(void) {
    const int64_t two[] = {0, 5, 10}, three[] = {0, 3, 7, 10}, one[] = {0, 10},
                  uneven[] = {0, 1, 9, 10};
    for (int normal = 0; normal <= 1; normal++)
        for (int f64 = 0; f64 <= 1; f64++) {
            vae_dtype dt = f64 ? VAE_F64 : VAE_F32;
            check_split(dt, normal, 3, 10, 4, two, 3);
            check_split(dt, normal, 3, 10, 4, three, 4);
            check_split(dt, normal, 0, 10, 7, uneven, 4);
            check_split(dt, normal, 1, 10, 5, one, 2);
        }
    /* off (total 0) and a shape that does not fit the window draw as usual */
    vae_ctx *a = vae_ctx_new(0), *b = vae_ctx_new(0);
    vae_ctx_seed(a, 7), vae_ctx_seed(b, 7);
    vae_ctx_set_noise_rows(b, 4, 2);
    vae_tensor *x = vae_randn(a, VAE_F32, 2, (int64_t[]){3, 5}),
               *y = vae_randn(b, VAE_F32, 2, (int64_t[]){3, 5});
    CHECK(memcmp(x->data, y->data, 15 * sizeof(float)) == 0);
    vae_ctx_set_noise_rows(b, 0, 0);
    x = vae_rand(a, VAE_F32, 2, (int64_t[]){2, 5}), y = vae_rand(b, VAE_F32, 2, (int64_t[]){2, 5});
    CHECK(memcmp(x->data, y->data, 10 * sizeof(float)) == 0);
    float v = ((float *)x->data)[3];
    CHECK(v >= 0 && v < 1);
    vae_ctx_free(a), vae_ctx_free(b);
    return test_finish();
}
