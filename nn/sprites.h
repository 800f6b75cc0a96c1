/* sprites.h - built-in procedural sprites in the pattern of dSprites (Matthey et al. 2017).
 *
 * Five generating factors, each a level index:
 *   shape        3   square, ellipse, heart
 *   scale        6   0.5, 0.6, ..., 1.0 of the largest size (radius S/4 of the circle enclosing
 *                    the shape)
 *   orientation 40   angle 2*pi*k/40, k = 0..39 (counter-clockwise; the square repeats every 10,
 *                    the ellipse every 20, like dSprites)
 *   pos_x       32   centre x spread evenly over [S/4 + 1, 3S/4 - 1]
 *   pos_y       32   centre y likewise (row 0 at the top)
 * 3*6*40*32*32 = 737280 combinations, indexed in that order with pos_y fastest (as dSprites).
 * Every shape fits in its enclosing circle, so every sprite lies inside the frame with at least one
 * blank pixel on each side. Images are S x S grey levels in [0, 1]: the fraction of 4x4 sub-pixel
 * samples inside the shape (anti-aliased, so sub-pixel positions stay distinguishable). Rendering is
 * deterministic and needs no stored data.
 */
#ifndef VAE_NN_SPRITES_H
#define VAE_NN_SPRITES_H

#include <stdint.h>

#include "nn/dataset.h"
#include "tensor/error.h"

/* Factor order in factor tuples and in vae_dataset.factors rows. */
typedef enum vae_sprites_factor {
    VAE_SPRITES_FACTOR_SHAPE,
    VAE_SPRITES_FACTOR_SCALE,
    VAE_SPRITES_FACTOR_ORIENTATION,
    VAE_SPRITES_FACTOR_POS_X,
    VAE_SPRITES_FACTOR_POS_Y,
    VAE_SPRITES_FACTOR_COUNT_
} vae_sprites_factor;

#define VAE_SPRITES_NFACTORS 5 /* == VAE_SPRITES_FACTOR_COUNT_ */

#define VAE_SPRITES_COUNT    737280 /* 3*6*40*32*32 */
#define VAE_SPRITES_SIZE     32     /* default image side S */
#define VAE_SPRITES_MIN_SIZE 8
#define VAE_SPRITES_MAX_SIZE 1024

/* Number of levels of each factor, in factor order {3, 6, 40, 32, 32}. */
VAE_API extern const int64_t vae_sprites_factor_sizes[VAE_SPRITES_NFACTORS];
/* Factor names {"shape", "scale", "orientation", "pos_x", "pos_y"}. */
VAE_API extern const char *const vae_sprites_factor_names[VAE_SPRITES_NFACTORS];

/* Factor levels of combination `index` (0 <= index < VAE_SPRITES_COUNT). Fails with VAE_ERR_ARG
 * otherwise; `factors` is then unchanged. */
VAE_API vae_status vae_sprites_factors(int64_t index, int64_t factors[VAE_SPRITES_NFACTORS],
                                       vae_error *err);

/* Index of a factor tuple. Fails with VAE_ERR_ARG on a level out of range; *index is then
 * unchanged. */
VAE_API vae_status vae_sprites_index(const int64_t factors[VAE_SPRITES_NFACTORS], int64_t *index,
                                     vae_error *err);

/* Render a factor tuple into img (S, S), overwriting every pixel. Fails with VAE_ERR_ARG on a level
 * out of range or S outside [VAE_SPRITES_MIN_SIZE, VAE_SPRITES_MAX_SIZE], VAE_ERR_NULL on NULL; img
 * is then untouched. */
VAE_API vae_status vae_sprites_render(const int64_t factors[VAE_SPRITES_NFACTORS], float *img,
                                      int S, vae_error *err);

/* Render combination `index`; fails like vae_sprites_factors / vae_sprites_render. */
VAE_API vae_status vae_sprites_render_index(int64_t index, float *img, int S, vae_error *err);

/* A data set of n distinct combinations drawn uniformly without replacement (seeded; 1 <= n <=
 * 737280), in random order, rendered at S x S (c = 1). Factors (n, 5), their names and sizes are
 * stored; labels = shape. Fails with VAE_ERR_ARG on n or S out of range, VAE_ERR_OOM; `out` is then
 * unchanged. */
VAE_API vae_status vae_sprites_dataset(int64_t n, uint64_t seed, int S, vae_dataset *out,
                                       vae_error *err);

#endif
