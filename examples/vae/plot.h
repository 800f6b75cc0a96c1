/* plot.h - small line plots (learning curves, estimator-variance studies) rendered to PNG or SVG.
 *
 * A plot has a title, labelled axes with tick values, any number of named series drawn in distinct
 * colours with a legend, and optional log scales. Points with a non-finite coordinate (or <= 0 on a
 * log axis) are skipped and break the line. Text uses a built-in 5x7 bitmap font (printable ASCII;
 * other bytes draw as '?').
 *
 *   double tr[] = {-120, -105, -99}, va[] = {-118, -107, -102};
 *   vae_plot_series s[2] = {{.name = "train", .y = tr, .n = 3}, {.name = "valid", .y = va, .n =
 * 3}}; vae_plot p = {.title = "ELBO", .xlabel = "epoch", .ylabel = "nats", .series = s, .nseries =
 * 2}; vae_plot_write_png(&p, "curve.png", 640, 480, &err);
 */
#ifndef VAE_IO_PLOT_H
#define VAE_IO_PLOT_H

#include <stdint.h>

#include "tensor/error.h"

#define VAE_PLOT_MIN_SIZE 64
#define VAE_PLOT_MAX_SIZE 8192

typedef struct vae_plot_series {
    const char *name; /* legend label; NULL or "" leaves the series out of the legend */
    const double *x;  /* n x values, or NULL for 1, 2, ..., n (epochs) */
    const double *y;  /* n y values */
    const double
        *yerr;   /* n half-widths of an error bar at each point (PNG and SVG), or NULL; a negative
                           value draws a bar from the point down to the axis (an upper bound) */
    int no_line; /* nonzero: markers only, no line between the points */
    int n;
    uint32_t color; /* 0xRRGGBB, or 0 for the palette colour of the series index */
} vae_plot_series;

typedef struct vae_plot {
    const char *title, *xlabel, *ylabel; /* each may be NULL */
    const vae_plot_series *series;
    int nseries;
    int log_x, log_y;              /* nonzero: base-10 log axis */
    int markers;                   /* nonzero: a small square at every point */
    double xmin, xmax, ymin, ymax; /* a fixed axis range when min < max, else fitted to the data */
} vae_plot;

/* The font: glyph c - 32 for printable ASCII c, 7 rows top first, bit 4 = leftmost pixel. */
extern const uint8_t vae_font5x7[95][7];

/* Render the plot into rgb (width * height * 3 bytes, row-major). On failure returns VAE_ERR_ARG
 * (size outside 64..8192, negative counts) or VAE_ERR_NULL (missing series data) and leaves rgb
 * untouched. */
vae_status vae_plot_render(const vae_plot *p, int width, int height, uint8_t *rgb, vae_error *err);

/* Render and write an RGB PNG atomically. Fails like vae_plot_render, or with VAE_ERR_OOM /
 * VAE_ERR_IO (naming the path); `path` is untouched on failure. */
vae_status vae_plot_write_png(const vae_plot *p, const char *path, int width, int height,
                              vae_error *err);

/* Write the same plot as SVG (same layout, monospace text), atomically. Fails like
 * vae_plot_write_png. */
vae_status vae_plot_write_svg(const vae_plot *p, const char *path, int width, int height,
                              vae_error *err);

#endif
