#include "nn/sprites.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/dataset_internal.h"

const int64_t vae_sprites_factor_sizes[VAE_SPRITES_NFACTORS] = {3, 6, 40, 32, 32};
const char *const vae_sprites_factor_names[VAE_SPRITES_NFACTORS] = {"shape", "scale", "orientation",
                                                                    "pos_x", "pos_y"};

_Static_assert(VAE_SPRITES_NFACTORS == VAE_SPRITES_FACTOR_COUNT_, "factor count");

#define SPRITES_PI  3.14159265358979323846
#define SPRITES_SUB 4 /* sub-pixel samples per axis */

static int levels_ok(const int64_t f[VAE_SPRITES_NFACTORS], vae_error *err) {
    for (int i = 0; i < VAE_SPRITES_NFACTORS; i++)
        if (f[i] < 0 || f[i] >= vae_sprites_factor_sizes[i]) {
            vae_error_set(err, VAE_ERR_ARG, "sprites: %s level %lld outside [0, %lld)",
                          vae_sprites_factor_names[i], (long long)f[i],
                          (long long)vae_sprites_factor_sizes[i]);
            return 0;
        }
    return 1;
}

vae_status vae_sprites_factors(int64_t index, int64_t factors[VAE_SPRITES_NFACTORS],
                               vae_error *err) {
    if (!factors) return vae_error_set(err, VAE_ERR_NULL, "sprites: NULL factors");
    if (index < 0 || index >= VAE_SPRITES_COUNT)
        return vae_error_set(err, VAE_ERR_ARG, "sprites: index %lld outside [0, %d)",
                             (long long)index, VAE_SPRITES_COUNT);
    for (int i = VAE_SPRITES_NFACTORS - 1; i >= 0; i--) {
        factors[i] = index % vae_sprites_factor_sizes[i];
        index /= vae_sprites_factor_sizes[i];
    }
    return VAE_OK;
}

vae_status vae_sprites_index(const int64_t factors[VAE_SPRITES_NFACTORS], int64_t *index,
                             vae_error *err) {
    if (!factors || !index) return vae_error_set(err, VAE_ERR_NULL, "sprites: NULL argument");
    if (!levels_ok(factors, err)) return VAE_ERR_ARG;
    int64_t k = 0;
    for (int i = 0; i < VAE_SPRITES_NFACTORS; i++) k = k * vae_sprites_factor_sizes[i] + factors[i];
    *index = k;
    return VAE_OK;
}

/* Is canonical point (u, w) (w pointing up, shape inside the unit circle) inside the shape? */
static int inside(int shape, double u, double w) {
    switch (shape) {
    case 0: /* square with corners on the unit circle */
        return fabs(u) <= 0.70710678118654752 && fabs(w) <= 0.70710678118654752;
    case 1: /* ellipse with semi-axes 1 and 0.5 */
        return u * u + 4.0 * w * w <= 1.0;
    default: { /* heart (x^2 + y^2 - 1)^3 <= x^2 y^3; its enclosing circle has centre (0, 0.25),
                  radius < 1.27 */
        double x = 1.27 * u, y = 1.27 * w + 0.25;
        double q = x * x + y * y - 1.0;
        return q * q * q <= x * x * y * y * y;
    }
    }
}

vae_status vae_sprites_render(const int64_t factors[VAE_SPRITES_NFACTORS], float *img, int S,
                              vae_error *err) {
    if (!factors || !img) return vae_error_set(err, VAE_ERR_NULL, "sprites: NULL argument");
    if (S < VAE_SPRITES_MIN_SIZE || S > VAE_SPRITES_MAX_SIZE)
        return vae_error_set(err, VAE_ERR_ARG, "sprites: image size %d outside [%d, %d]", S,
                             VAE_SPRITES_MIN_SIZE, VAE_SPRITES_MAX_SIZE);
    if (!levels_ok(factors, err)) return VAE_ERR_ARG;
    int shape = (int)factors[VAE_SPRITES_FACTOR_SHAPE];
    double rmax = 0.25 * S;
    double r = rmax * (0.5 + 0.1 * (double)factors[VAE_SPRITES_FACTOR_SCALE]);
    double theta = 2.0 * SPRITES_PI * (double)factors[VAE_SPRITES_FACTOR_ORIENTATION] / 40.0;
    double lo = rmax + 1.0, span = S - 2.0 * lo; /* centres in [lo, S - lo] */
    double cx = lo + span * (double)factors[VAE_SPRITES_FACTOR_POS_X] / 31.0;
    double cy = lo + span * (double)factors[VAE_SPRITES_FACTOR_POS_Y] / 31.0;
    double ct = cos(theta), st = sin(theta);
    memset(img, 0, (size_t)S * (size_t)S * sizeof *img);
    int i0 = (int)floor(cy - r) - 1, i1 = (int)ceil(cy + r) + 1;
    int j0 = (int)floor(cx - r) - 1, j1 = (int)ceil(cx + r) + 1;
    if (i0 < 0) i0 = 0;
    if (j0 < 0) j0 = 0;
    if (i1 > S) i1 = S;
    if (j1 > S) j1 = S;
    const double inv_r = 1.0 / r, step = 1.0 / SPRITES_SUB;
    for (int i = i0; i < i1; i++)
        for (int j = j0; j < j1; j++) {
            int hits = 0;
            for (int a = 0; a < SPRITES_SUB; a++)
                for (int b = 0; b < SPRITES_SUB; b++) {
                    double dx = (j + (b + 0.5) * step - cx) * inv_r;
                    double dy = (cy - (i + (a + 0.5) * step)) * inv_r; /* up */
                    /* rotate by -theta into the shape's frame */
                    double u = ct * dx + st * dy, w = -st * dx + ct * dy;
                    hits += inside(shape, u, w);
                }
            img[(size_t)i * (size_t)S + (size_t)j] = (float)hits / (SPRITES_SUB * SPRITES_SUB);
        }
    return VAE_OK;
}

vae_status vae_sprites_render_index(int64_t index, float *img, int S, vae_error *err) {
    int64_t f[VAE_SPRITES_NFACTORS];
    vae_status st = vae_sprites_factors(index, f, err);
    if (st != VAE_OK) return st;
    return vae_sprites_render(f, img, S, err);
}

vae_status vae_sprites_dataset(int64_t n, uint64_t seed, int S, vae_dataset *out, vae_error *err) {
    if (!out) return vae_error_set(err, VAE_ERR_NULL, "sprites: NULL output");
    if (n < 1 || n > VAE_SPRITES_COUNT)
        return vae_error_set(err, VAE_ERR_ARG, "sprites: n = %lld outside [1, %d]", (long long)n,
                             VAE_SPRITES_COUNT);
    if (S < VAE_SPRITES_MIN_SIZE || S > VAE_SPRITES_MAX_SIZE)
        return vae_error_set(err, VAE_ERR_ARG, "sprites: image size %d outside [%d, %d]", S,
                             VAE_SPRITES_MIN_SIZE, VAE_SPRITES_MAX_SIZE);
    vae_dataset ds = {0};
    vae_status st = vae_dataset_alloc(&ds, n, (int64_t)S * S, err);
    if (st != VAE_OK) return st;
    uint8_t *taken = calloc(VAE_SPRITES_COUNT / 8, 1);
    int64_t *pick = malloc((size_t)n * sizeof *pick);
    ds.factors = malloc((size_t)n * VAE_SPRITES_NFACTORS * sizeof *ds.factors);
    ds.labels = malloc((size_t)n * sizeof *ds.labels);
    if (!taken || !pick || !ds.factors || !ds.labels) {
        st = vae_error_set(err, VAE_ERR_OOM, "sprites: cannot allocate %lld sprites", (long long)n);
        goto done;
    }
    st = vae__dataset_set_factor_meta(&ds, VAE_SPRITES_NFACTORS, vae_sprites_factor_names,
                                      vae_sprites_factor_sizes, err);
    if (st != VAE_OK) goto done;
    /* Floyd's sampling of n distinct indices, then a shuffle so that the order is uniform too. */
    vae_rng rng;
    vae_rng_seed(&rng, seed);
    int64_t m = 0;
    for (int64_t j = VAE_SPRITES_COUNT - n; j < VAE_SPRITES_COUNT; j++) {
        int64_t t = (int64_t)vae_rng_below(&rng, (uint64_t)j + 1);
        if (taken[t >> 3] & (1u << (t & 7))) t = j;
        taken[t >> 3] |= (uint8_t)(1u << (t & 7));
        pick[m++] = t;
    }
    vae_rng_shuffle_i64(&rng, pick, n);
    for (int64_t i = 0; i < n; i++) {
        int64_t *f = ds.factors + i * VAE_SPRITES_NFACTORS;
        vae_sprites_factors(pick[i], f, NULL);
        vae_sprites_render(f, ds.x + i * ds.d, S, NULL);
        ds.labels[i] = f[VAE_SPRITES_FACTOR_SHAPE];
    }
    ds.h = ds.w = S;
    ds.c = 1;
    ds.nfactors = VAE_SPRITES_NFACTORS;
    snprintf(ds.name, sizeof ds.name, "sprites");
    *out = ds;
    memset(&ds, 0, sizeof ds);
done:
    free(taken);
    free(pick);
    vae_dataset_free(&ds);
    return st;
}
