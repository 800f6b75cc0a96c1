/* png.h - PNG writer and reader for 8-bit gray / gray+alpha / RGB / RGBA images, and a sample-grid
 * helper.
 *
 * Pixels are row-major with interleaved channels: pixels[(y * width + x) * channels + k]. The
 * writer picks a filter per row (None, Sub or Up, whichever has the smallest sum of absolute
 * values), compresses with vae_zlib_compress and writes atomically (tensor/atomic_file.h).
 * The reader accepts non-interlaced 8-bit images of colour types 0, 2, 4, 6 with all five filter
 * types, checks every chunk CRC and the zlib Adler-32, and rejects anything else with an error; it
 * never trusts a size field.
 */
#ifndef VAE_TENSOR_IO_PNG_H
#define VAE_TENSOR_IO_PNG_H

#include <stddef.h>
#include <stdint.h>

#include "tensor/error.h"

#define VAE_PNG_MAX_DIM   65536             /* largest width or height either direction accepts */
#define VAE_PNG_MAX_BYTES ((size_t)1 << 30) /* largest decoded pixel buffer */

typedef struct vae_png_image {
    int width, height, channels; /* channels: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA */
    uint8_t *pixels;             /* malloc'd, width * height * channels bytes */
} vae_png_image;

/* Encode pixels (channels 1..4) as a PNG file image in a malloc'd buffer. On failure returns
 * VAE_ERR_ARG (bad size or channel count), VAE_ERR_NULL or VAE_ERR_OOM; outputs unchanged. */
VAE_API vae_status vae_png_encode(const uint8_t *pixels, int width, int height, int channels,
                                  uint8_t **out, size_t *out_len, vae_error *err);

/* Write pixels (channels 1..4) to `path` as PNG, atomically. Fails like vae_png_encode, or with
 * VAE_ERR_IO naming the path; `path` is untouched on failure. */
VAE_API vae_status vae_png_write(const char *path, const uint8_t *pixels, int width, int height,
                                 int channels, vae_error *err);

/* Decode a PNG file image into *out. On failure returns VAE_ERR_FORMAT (bad signature, chunk
 * layout, filter or zlib data), VAE_ERR_CORRUPT (chunk CRC or Adler-32 mismatch),
 * VAE_ERR_UNSUPPORTED (bit depth other than 8, palette, interlace, unknown critical chunk) or
 * VAE_ERR_OOM, with a message saying what is wrong; *out unchanged. */
VAE_API vae_status vae_png_decode(const uint8_t *buf, size_t len, vae_png_image *out,
                                  vae_error *err);

/* Read and decode the PNG file `path`. Fails like vae_png_decode, or with VAE_ERR_IO; messages name
 * the path; *out unchanged on failure. */
VAE_API vae_status vae_png_read(const char *path, vae_png_image *out, vae_error *err);

/* Free the pixels of *img and zero it. Safe on NULL and on a zeroed struct. */
VAE_API void vae_png_free(vae_png_image *img);

/* Tile n images into a grid PNG: imgs is (n,h,w) when c == 1 or (n,h,w,c) when c == 3, values in
 * [0,1] (clamped, NaN -> 0, byte = round(255 * v)). ncols <= 0 picks ceil(sqrt(n)). Cells are
 * separated and surrounded by `pad` pixels of mid-gray (128); unused cells are gray too. On failure
 * returns VAE_ERR_ARG (bad sizes, grid too large), VAE_ERR_NULL, VAE_ERR_OOM or VAE_ERR_IO (naming
 * the path); `path` is untouched on failure. */
VAE_API vae_status vae_png_write_grid(const char *path, const float *imgs, int n, int h, int w,
                                      int c, int ncols, int pad, vae_error *err);

#endif
