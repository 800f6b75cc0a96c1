/* plot.c - layout shared by the PNG rasteriser and the SVG writer: margins from the text sizes,
 * "nice" tick steps (1, 2, 5 x 10^k) or decades on log axes, then lines clipped to the plot
 * rectangle (Liang-Barsky). */
#include "tensor/strbuf.h"
#include "plot.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/io/png.h"
#include "tensor/atomic_file.h"

#define MAX_TICKS        24
#define MAX_LEGEND_CHARS 40

/* matplotlib's "tab10" colours: distinct, and readable by most colour-blind viewers. */
static const uint32_t palette[10] = {0x1f77b4, 0xd62728, 0x2ca02c, 0xff7f0e, 0x9467bd,
                                     0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
#define COL_TEXT       0x202020u
#define COL_AXIS       0x404040u
#define COL_GRID       0xe4e4e4u
#define COL_LEGEND_BOX 0xb0b0b0u

typedef struct tick {
    double t; /* position in transformed (log10 or linear) space */
    char label[24];
} tick;

typedef struct layout {
    int w, h, s, cw, ch;       /* image size, font scale, character cell (6s x 8s) */
    int x0, y0, x1, y1;        /* plot rectangle, inclusive pixel bounds */
    double tx0, tx1, ty0, ty1; /* axis ranges in transformed space */
    int logx, logy;
    tick xt[MAX_TICKS], yt[MAX_TICKS];
    int nxt, nyt;
    int legend_out; /* the legend sits right of the plot rectangle: every inside corner would hide data */
} layout;

static uint32_t series_color(const vae_plot *p, int i) {
    return p->series[i].color ? p->series[i].color & 0xFFFFFFu : palette[i % 10];
}

static double series_x(const vae_plot_series *s, int i) {
    return s->x ? s->x[i] : (double)(i + 1);
}

/* Transformed coordinate; NAN when the point cannot be shown on this axis. */
static double tr(double v, int logscale) {
    if (!isfinite(v) || fabs(v) > 1e300) return NAN;
    if (logscale) return v > 0 ? log10(v) : NAN;
    return v;
}

static double px_x(const layout *L, double t) {
    return L->x0 + (t - L->tx0) / (L->tx1 - L->tx0) * (L->x1 - L->x0);
}
static double px_y(const layout *L, double t) {
    return L->y1 - (t - L->ty0) / (L->ty1 - L->ty0) * (L->y1 - L->y0);
}

/* Range [lo, hi] of one axis in transformed space: the fixed range if given, else the data's,
 * padded by `pad`. */
static void axis_range(const vae_plot *p, int is_x, int logscale, double pad, double *lo,
                       double *hi) {
    double fmin = is_x ? p->xmin : p->ymin, fmax = is_x ? p->xmax : p->ymax;
    double a = tr(fmin, logscale), b = tr(fmax, logscale);
    if (fmin < fmax && isfinite(a) && isfinite(b)) {
        *lo = a;
        *hi = b;
        return;
    }
    double mn = INFINITY, mx = -INFINITY;
    for (int k = 0; k < p->nseries; k++) {
        const vae_plot_series *s = &p->series[k];
        for (int i = 0; i < s->n; i++) {
            double tx = tr(series_x(s, i), p->log_x), ty = tr(s->y[i], p->log_y);
            if (isnan(tx) || isnan(ty)) continue;
            double t = is_x ? tx : ty, e = !is_x && s->yerr && s->yerr[i] > 0 ? s->yerr[i] : 0;
            double t1 = e > 0 ? tr(s->y[i] + e, p->log_y) : t,
                   t0 = e > 0 ? tr(s->y[i] - e, p->log_y) : t;
            if (isnan(t0)) t0 = t; /* a bar below 0 on a log axis does not stretch it */
            mn = t0 < mn ? t0 : mn;
            mx = t1 > mx ? t1 : mx;
        }
    }
    if (!(mn <= mx)) { /* no data */
        mn = 0;
        mx = 1;
    } else if (mx - mn < 1e-12 * (fabs(mn) + 1)) {
        double d = logscale ? 0.5 : (fabs(mn) > 0 ? fabs(mn) * 0.1 : 1);
        mn -= d;
        mx += d;
    } else {
        double d = (mx - mn) * pad;
        mn -= d;
        mx += d;
    }
    *lo = mn;
    *hi = mx;
}

static void fmt_linear(char *buf, size_t n, double v, double step) {
    if (fabs(v) < step * 1e-6) v = 0; /* no "-0" */
    int dec = (int)(-floor(log10(step) + 1e-9));
    double av = fabs(v);
    if (av >= 1e7 || dec > 6)
        snprintf(buf, n, "%.3g", v);
    else
        snprintf(buf, n, "%.*f", dec > 0 ? dec : 0, v);
}

static void fmt_decade(char *buf, size_t n, int e) {
    if (e >= -3 && e <= 5)
        snprintf(buf, n, "%g", pow(10.0, e));
    else
        snprintf(buf, n, "1e%d", e);
}

static double nice_step(double span, int target) {
    double raw = span / target, mag = pow(10.0, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

/* Ticks inside [lo, hi] (transformed space), about `target` of them. */
static int make_ticks(tick *t, double lo, double hi, int logscale, int target) {
    int n = 0;
    if (logscale && floor(hi) - ceil(lo) >= 1) { /* at least two decades: label powers of ten */
        int e0 = (int)ceil(lo), e1 = (int)floor(hi), k = 1; /* every decade */
        (void)target;
        for (int e = e0; e <= e1 && n < MAX_TICKS; e += k) {
            t[n].t = e;
            fmt_decade(t[n].label, sizeof t[n].label, e);
            n++;
        }
        return n;
    }
    double vlo = logscale ? pow(10.0, lo) : lo, vhi = logscale ? pow(10.0, hi) : hi;
    double step = nice_step(vhi - vlo, target);
    if (!(step > 0) || !isfinite(step)) return 0;
    for (double v = ceil(vlo / step) * step; v <= vhi + step * 1e-9 && n < MAX_TICKS; v += step) {
        if (logscale && v <= 0) continue;
        t[n].t = logscale ? log10(v) : v;
        fmt_linear(t[n].label, sizeof t[n].label, v, step);
        n++;
    }
    return n;
}

static int clampi(int v, int lo, int hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

static vae_status plot_check(const vae_plot *p, int width, int height, vae_error *err) {
    if (!p) return vae_error_set(err, VAE_ERR_NULL, "plot: NULL plot");
    if (width < VAE_PLOT_MIN_SIZE || height < VAE_PLOT_MIN_SIZE || width > VAE_PLOT_MAX_SIZE ||
        height > VAE_PLOT_MAX_SIZE)
        return vae_error_set(err, VAE_ERR_ARG, "plot: size %dx%d outside %d..%d", width, height,
                             VAE_PLOT_MIN_SIZE, VAE_PLOT_MAX_SIZE);
    if (p->nseries < 0) return vae_error_set(err, VAE_ERR_ARG, "plot: nseries %d < 0", p->nseries);
    if (p->nseries > 0 && !p->series)
        return vae_error_set(err, VAE_ERR_NULL, "plot: NULL series array");
    for (int i = 0; i < p->nseries; i++) {
        if (p->series[i].n < 0)
            return vae_error_set(err, VAE_ERR_ARG, "plot: series %d has n = %d", i, p->series[i].n);
        if (p->series[i].n > 0 && !p->series[i].y)
            return vae_error_set(err, VAE_ERR_NULL, "plot: series %d has no y values", i);
    }
    return VAE_OK;
}

static void plot_layout(const vae_plot *p, int w, int h, layout *L) {
    memset(L, 0, sizeof *L);
    L->w = w;
    L->h = h;
    L->s = (w >= 600 && h >= 400) ? 2 : 1;
    L->cw = 6 * L->s;
    L->ch = 8 * L->s;
    L->logx = p->log_x != 0;
    L->logy = p->log_y != 0;
    int tickl = 3 * L->s, gap = 2 * L->s;
    L->y0 = (p->title && p->title[0]) ? 2 * L->ch + gap : L->ch;
    L->y1 =
        h - 1 - (tickl + gap + L->ch + ((p->xlabel && p->xlabel[0]) ? L->ch + 2 * gap : 0) + gap);
    axis_range(p, 0, L->logy, 0.05, &L->ty0, &L->ty1);
    axis_range(p, 1, L->logx, 0.03, &L->tx0, &L->tx1);
    L->nyt =
        make_ticks(L->yt, L->ty0, L->ty1, L->logy, clampi((L->y1 - L->y0) / (L->ch * 4), 2, 10));
    int maxlab = 1;
    for (int i = 0; i < L->nyt; i++) {
        int k = (int)strlen(L->yt[i].label);
        maxlab = k > maxlab ? k : maxlab;
    }
    L->x0 =
        gap + ((p->ylabel && p->ylabel[0]) ? L->ch + 2 * gap : 0) + maxlab * L->cw + gap + tickl;
    L->x1 = w - 1 - 3 * L->cw;
    if (L->x1 - L->x0 < 16)
        L->x0 = L->x1 - 16 > 0 ? L->x1 - 16 : 0; /* tiny images: keep a plot area */
    if (L->y1 - L->y0 < 16) L->y0 = L->y1 - 16 > 0 ? L->y1 - 16 : 0;
    L->nxt =
        make_ticks(L->xt, L->tx0, L->tx1, L->logx, clampi((L->x1 - L->x0) / (L->cw * 8), 2, 10));
}

/* Clip segment (ax,ay)-(bx,by) to [x0,x1]x[y0,y1]; 0 when nothing is left (Liang-Barsky). */
static int clip_segment(double *ax, double *ay, double *bx, double *by, double x0, double y0,
                        double x1, double y1) {
    double dx = *bx - *ax, dy = *by - *ay, u0 = 0, u1 = 1;
    double pp[4] = {-dx, dx, -dy, dy}, qq[4] = {*ax - x0, x1 - *ax, *ay - y0, y1 - *ay};
    for (int i = 0; i < 4; i++) {
        if (pp[i] == 0) {
            if (qq[i] < 0) return 0;
            continue;
        }
        double r = qq[i] / pp[i];
        if (pp[i] < 0) {
            if (r > u1) return 0;
            if (r > u0) u0 = r;
        } else {
            if (r < u0) return 0;
            if (r < u1) u1 = r;
        }
    }
    double nax = *ax + u0 * dx, nay = *ay + u0 * dy;
    *bx = *ax + u1 * dx;
    *by = *ay + u1 * dy;
    *ax = nax;
    *ay = nay;
    return 1;
}

/* ----------------------------------------------------------------------------------------------------------
 */
/* Raster */

typedef struct canvas {
    uint8_t *rgb;
    int w, h;
    int cx0, cy0, cx1, cy1; /* clip rectangle, inclusive */
} canvas;

static void put_px(canvas *c, int x, int y, uint32_t col) {
    if (x < c->cx0 || x > c->cx1 || y < c->cy0 || y > c->cy1) return;
    uint8_t *p = c->rgb + ((size_t)y * (size_t)c->w + (size_t)x) * 3;
    p[0] = (uint8_t)(col >> 16);
    p[1] = (uint8_t)(col >> 8);
    p[2] = (uint8_t)col;
}

static void fill_rect(canvas *c, int x0, int y0, int x1, int y1, uint32_t col) {
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) put_px(c, x, y, col);
}

static void draw_line(canvas *c, int x0, int y0, int x1, int y1, int th, uint32_t col) {
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1,
        e = dx + dy;
    int lo = -(th - 1) / 2, hi = th / 2;
    for (;;) {
        fill_rect(c, x0 + lo, y0 + lo, x0 + hi, y0 + hi, col);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) e += dy, x0 += sx;
        if (e2 <= dx) e += dx, y0 += sy;
    }
}

/* Text with its top-left corner at (x, y); vertical text runs upwards from (x, y) = bottom-left. */
static void draw_text(canvas *c, int x, int y, const char *s, int scale, uint32_t col,
                      int vertical) {
    for (int i = 0; s[i] && i < 256; i++) {
        unsigned char ch = (unsigned char)s[i];
        const uint8_t *g = vae_font5x7[(ch >= 32 && ch < 127 ? ch : '?') - 32];
        for (int gy = 0; gy < 7; gy++)
            for (int gx = 0; gx < 5; gx++) {
                if (!((g[gy] >> (4 - gx)) & 1)) continue;
                int ox = i * 6 + gx;
                if (!vertical)
                    fill_rect(c, x + ox * scale, y + gy * scale, x + ox * scale + scale - 1,
                              y + gy * scale + scale - 1, col);
                else
                    fill_rect(c, x + gy * scale, y - (ox + 1) * scale + 1,
                              x + gy * scale + scale - 1, y - ox * scale, col);
            }
    }
}

static int text_len(const char *s, int cap) {
    int n = (int)strlen(s);
    return n < cap ? n : cap;
}

/* Legend size: number of entries, box width and height in pixels. */
static int legend_size(const vae_plot *p, const layout *L, int *bw, int *bh) {
    int n = 0, maxc = 0;
    for (int i = 0; i < p->nseries; i++)
        if (p->series[i].name && p->series[i].name[0]) {
            n++;
            int k = text_len(p->series[i].name, MAX_LEGEND_CHARS);
            maxc = k > maxc ? k : maxc;
        }
    int pad = 2 * L->s;
    *bw = pad * 3 + 3 * L->cw + maxc * L->cw;
    *bh = pad * 2 + n * (L->ch + L->s) - L->s;
    return n;
}

/* Samples along the drawn lines that fall inside the box (x0, y0, bw, bh). */
static long legend_hits(const vae_plot *p, const layout *L, int x0, int y0, int bw, int bh) {
    long hits = 0;
    for (int k = 0; k < p->nseries; k++) {
        const vae_plot_series *s = &p->series[k];
        double qx = NAN, qy = NAN;
        for (int i = 0; i < s->n; i++) {
            double tx = tr(series_x(s, i), L->logx), ty = tr(s->y[i], L->logy);
            double nx = isnan(tx) ? NAN : px_x(L, tx), ny = isnan(ty) ? NAN : px_y(L, ty);
            for (int j = 0; j <= 16 && !isnan(nx) && !isnan(ny); j++) {
                double u = j / 16.0, x = isnan(qx) ? nx : qx + u * (nx - qx),
                       y = isnan(qy) ? ny : qy + u * (ny - qy);
                hits += x >= x0 && x <= x0 + bw && y >= y0 && y <= y0 + bh;
            }
            qx = nx;
            qy = ny;
        }
    }
    return hits;
}

/* Legend geometry: inside the plot, in the corner whose box covers the fewest samples along the lines (ties:
 * top-right, top-left, bottom-...); right of the plot when the layout put it outside. Returns the entry count. */
static int legend_box(const vae_plot *p, const layout *L, int *bx0, int *by0, int *bx1, int *by1) {
    int bw, bh, n = legend_size(p, L, &bw, &bh), pad = 2 * L->s;
    if (!n) return 0;
    if (L->legend_out) {
        *bx0 = L->x1 + 1 + 2 * pad;
        *by0 = L->y0;
    } else {
        long best = -1;
        for (int corner = 0; corner < 4; corner++) {
            int x0 = corner % 2 == 0 ? L->x1 - pad - bw : L->x0 + pad,
                y0 = corner < 2 ? L->y0 + pad : L->y1 - pad - bh;
            long hits = legend_hits(p, L, x0, y0, bw, bh);
            if (best < 0 || hits < best) {
                best = hits;
                *bx0 = x0;
                *by0 = y0;
            }
        }
    }
    *bx1 = *bx0 + bw;
    *by1 = *by0 + bh;
    return n;
}

/* Every inside corner of the legend would hide data: give it a column right of the plot, if the image is wide
 * enough to keep a plot area of at least half its width. */
static void legend_layout(const vae_plot *p, layout *L) {
    int bw, bh, pad = 2 * L->s;
    if (!legend_size(p, L, &bw, &bh)) return;
    for (int corner = 0; corner < 4; corner++) {
        int x0 = corner % 2 == 0 ? L->x1 - pad - bw : L->x0 + pad,
            y0 = corner < 2 ? L->y0 + pad : L->y1 - pad - bh;
        if (legend_hits(p, L, x0, y0, bw, bh) == 0) return;
    }
    int x1 = L->x1 - bw - 3 * pad + 3 * L->cw; /* the right margin the legend replaces */
    if (x1 - L->x0 < L->w / 2) return;
    L->x1 = x1;
    L->legend_out = 1;
    L->nxt =
        make_ticks(L->xt, L->tx0, L->tx1, L->logx, clampi((L->x1 - L->x0) / (L->cw * 8), 2, 10));
}

vae_status vae_plot_render(const vae_plot *p, int width, int height, uint8_t *rgb, vae_error *err) {
    vae_status st = plot_check(p, width, height, err);
    if (st) return st;
    if (!rgb) return vae_error_set(err, VAE_ERR_NULL, "plot: NULL pixel buffer");
    layout *L = malloc(sizeof *L);
    if (!L) return vae_error_set(err, VAE_ERR_OOM, "plot: out of memory");
    plot_layout(p, width, height, L);
    legend_layout(p, L);
    canvas c = {rgb, width, height, 0, 0, width - 1, height - 1};
    memset(rgb, 255, (size_t)width * (size_t)height * 3);
    int s = L->s, tickl = 3 * s, gap = 2 * s;

    for (int i = 0; i < L->nyt; i++) { /* y grid, ticks, labels */
        int y = (int)lround(px_y(L, L->yt[i].t));
        fill_rect(&c, L->x0, y, L->x1, y, COL_GRID);
        fill_rect(&c, L->x0 - tickl, y, L->x0 - 1, y, COL_AXIS);
        int tw = (int)strlen(L->yt[i].label) * L->cw;
        draw_text(&c, L->x0 - tickl - gap - tw, y - 3 * s, L->yt[i].label, s, COL_TEXT, 0);
    }
    for (int i = 0; i < L->nxt; i++) { /* x grid, ticks, labels */
        int x = (int)lround(px_x(L, L->xt[i].t));
        fill_rect(&c, x, L->y0, x, L->y1, COL_GRID);
        fill_rect(&c, x, L->y1 + 1, x, L->y1 + tickl, COL_AXIS);
        int tw = (int)strlen(L->xt[i].label) * L->cw - s;
        draw_text(&c, x - tw / 2, L->y1 + tickl + gap, L->xt[i].label, s, COL_TEXT, 0);
    }
    if (p->title && p->title[0]) {
        int tw = text_len(p->title, 200) * L->cw * 1 - s;
        draw_text(&c, (width - tw) / 2, L->ch / 2, p->title, s, COL_TEXT, 0);
    }
    if (p->xlabel && p->xlabel[0]) {
        int tw = text_len(p->xlabel, 200) * L->cw - s;
        draw_text(&c, (L->x0 + L->x1 - tw) / 2, L->y1 + tickl + gap + L->ch + 2 * gap, p->xlabel, s,
                  COL_TEXT, 0);
    }
    if (p->ylabel && p->ylabel[0]) {
        int tw = text_len(p->ylabel, 200) * L->cw - s;
        draw_text(&c, gap, (L->y0 + L->y1 + tw) / 2, p->ylabel, s, COL_TEXT, 1);
    }

    /* series, clipped to the plot rectangle */
    c.cx0 = L->x0, c.cy0 = L->y0, c.cx1 = L->x1, c.cy1 = L->y1;
    for (int k = 0; k < p->nseries; k++) {
        const vae_plot_series *sr = &p->series[k];
        uint32_t col = series_color(p, k);
        double pxp = NAN, pyp = NAN;
        for (int i = 0; i < sr->n; i++) {
            double tx = tr(series_x(sr, i), L->logx), ty = tr(sr->y[i], L->logy);
            double qx = isnan(tx) ? NAN : px_x(L, tx), qy = isnan(ty) ? NAN : px_y(L, ty);
            if (isnan(qx) || isnan(qy)) {
                pxp = NAN;
                continue;
            }
            if (!isnan(pxp) && !sr->no_line) {
                double ax = pxp, ay = pyp, bx = qx, by = qy;
                if (clip_segment(&ax, &ay, &bx, &by, L->x0, L->y0, L->x1, L->y1))
                    draw_line(&c, (int)lround(ax), (int)lround(ay), (int)lround(bx),
                              (int)lround(by), s, col);
            }
            if (sr->yerr && sr->yerr[i] != 0 && qx >= L->x0 &&
                qx <= L->x1) { /* error bar, capped */
                double e = sr->yerr[i], lo = e < 0 ? NAN : tr(sr->y[i] - e, L->logy),
                       hi = tr(sr->y[i] + (e < 0 ? 0 : e), L->logy);
                int ylo = isnan(lo) ? L->y1 : clampi((int)lround(px_y(L, lo)), L->y0, L->y1),
                    yhi = isnan(hi) ? L->y0 : clampi((int)lround(px_y(L, hi)), L->y0, L->y1),
                    mx = (int)lround(qx), r = 2 * s;
                fill_rect(&c, mx - s / 2, yhi, mx + (s - 1) / 2, ylo, col);
                fill_rect(&c, mx - r, yhi, mx + r, yhi + (s - 1) / 2, col);
                fill_rect(&c, mx - r, ylo - (s - 1) / 2, mx + r, ylo, col);
            }
            if ((p->markers || sr->n == 1) && qx >= L->x0 && qx <= L->x1 && qy >= L->y0 &&
                qy <= L->y1) {
                int mx = (int)lround(qx), my = (int)lround(qy), r = s + 1;
                fill_rect(&c, mx - r, my - r, mx + r, my + r, col);
            }
            pxp = qx;
            pyp = qy;
        }
    }
    c.cx0 = 0, c.cy0 = 0, c.cx1 = width - 1, c.cy1 = height - 1;
    fill_rect(&c, L->x0 - 1, L->y0 - 1, L->x1 + 1, L->y0 - 1, COL_AXIS); /* frame */
    fill_rect(&c, L->x0 - 1, L->y1 + 1, L->x1 + 1, L->y1 + 1, COL_AXIS);
    fill_rect(&c, L->x0 - 1, L->y0 - 1, L->x0 - 1, L->y1 + 1, COL_AXIS);
    fill_rect(&c, L->x1 + 1, L->y0 - 1, L->x1 + 1, L->y1 + 1, COL_AXIS);

    int bx0, by0, bx1, by1;
    if (legend_box(p, L, &bx0, &by0, &bx1, &by1)) {
        if (!L->legend_out) c.cx0 = L->x0, c.cy0 = L->y0, c.cx1 = L->x1, c.cy1 = L->y1;
        fill_rect(&c, bx0, by0, bx1, by1, COL_LEGEND_BOX);
        fill_rect(&c, bx0 + 1, by0 + 1, bx1 - 1, by1 - 1, 0xFFFFFFu);
        int y = by0 + 2 * s, x = bx0 + 2 * s;
        for (int k = 0; k < p->nseries; k++) {
            const char *name = p->series[k].name;
            if (!name || !name[0]) continue;
            uint32_t col = series_color(p, k);
            fill_rect(&c, x, y + 3 * s - s / 2, x + 3 * L->cw - s,
                      y + 3 * s + (s - 1) / 2 + (s > 1 ? 0 : 0), col);
            char buf[MAX_LEGEND_CHARS + 1];
            snprintf(buf, sizeof buf, "%s", name);
            draw_text(&c, x + 3 * L->cw + 2 * s, y, buf, s, COL_TEXT, 0);
            y += L->ch + s;
        }
    }
    free(L);
    return VAE_OK;
}

vae_status vae_plot_write_png(const vae_plot *p, const char *path, int width, int height,
                              vae_error *err) {
    if (!path) return vae_error_set(err, VAE_ERR_NULL, "plot: NULL path");
    vae_status st = plot_check(p, width, height, err);
    if (st) return st;
    uint8_t *rgb = malloc((size_t)width * (size_t)height * 3);
    if (!rgb) return vae_error_set(err, VAE_ERR_OOM, "plot %s: out of memory", path);
    st = vae_plot_render(p, width, height, rgb, err);
    if (st == VAE_OK) st = vae_png_write(path, rgb, width, height, 3, err);
    free(rgb);
    return st;
}

/* ----------------------------------------------------------------------------------------------------------
 */
/* SVG */

/* XML-escaped text, printable ASCII only (others as '?'), at most `cap` characters. */
static void sb_text(vae_strbuf *b, const char *s, int cap) {
    for (int i = 0; s[i] && i < cap; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '<')
            vae_strbuf_printf(b, "&lt;");
        else if (ch == '>')
            vae_strbuf_printf(b, "&gt;");
        else if (ch == '&')
            vae_strbuf_printf(b, "&amp;");
        else if (ch == '"')
            vae_strbuf_printf(b, "&quot;");
        else
            vae_strbuf_printf(b, "%c", ch >= 32 && ch < 127 ? ch : '?');
    }
}

static void svg_text(vae_strbuf *b, double x, double y, const char *anchor, const char *s, int cap,
                     int fs, int vertical) {
    vae_strbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%d\" text-anchor=\"%s\"", x, y,
                      fs, anchor);
    if (vertical) vae_strbuf_printf(b, " transform=\"rotate(-90 %.1f %.1f)\"", x, y);
    vae_strbuf_printf(b, ">");
    sb_text(b, s, cap);
    vae_strbuf_printf(b, "</text>\n");
}

vae_status vae_plot_write_svg(const vae_plot *p, const char *path, int width, int height,
                              vae_error *err) {
    if (!path) return vae_error_set(err, VAE_ERR_NULL, "plot: NULL path");
    vae_status st = plot_check(p, width, height, err);
    if (st) return st;
    layout *L = malloc(sizeof *L);
    if (!L) return vae_error_set(err, VAE_ERR_OOM, "plot %s: out of memory", path);
    plot_layout(p, width, height, L);
    legend_layout(p, L);
    int s = L->s, fs = 10 * s, tickl = 3 * s, gap = 2 * s;
    vae_strbuf b = {0};
    vae_strbuf_printf(
        &b,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 "
        "%d %d\" "
        "font-family=\"monospace\" fill=\"#202020\">\n"
        "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
        "<defs><clipPath id=\"plotarea\"><rect x=\"%d\" y=\"%d\" width=\"%d\" "
        "height=\"%d\"/></clipPath></defs>\n",
        width, height, width, height, L->x0, L->y0, L->x1 - L->x0 + 1, L->y1 - L->y0 + 1);
    for (int i = 0; i < L->nyt; i++) {
        double y = px_y(L, L->yt[i].t);
        vae_strbuf_printf(
            &b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>\n", L->x0,
            y, L->x1, y);
        vae_strbuf_printf(
            &b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#404040\"/>\n",
            L->x0 - tickl, y, L->x0, y);
        svg_text(&b, L->x0 - tickl - gap, y + 3.5 * s, "end", L->yt[i].label, 24, fs, 0);
    }
    for (int i = 0; i < L->nxt; i++) {
        double x = px_x(L, L->xt[i].t);
        vae_strbuf_printf(
            &b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e4e4e4\"/>\n", x,
            L->y0, x, L->y1);
        vae_strbuf_printf(
            &b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#404040\"/>\n", x,
            L->y1, x, L->y1 + tickl);
        svg_text(&b, x, L->y1 + tickl + gap + 7 * s, "middle", L->xt[i].label, 24, fs, 0);
    }
    if (p->title && p->title[0])
        svg_text(&b, width / 2.0, L->ch / 2 + 7 * s, "middle", p->title, 200, fs, 0);
    if (p->xlabel && p->xlabel[0])
        svg_text(&b, (L->x0 + L->x1) / 2.0, L->y1 + tickl + 3 * gap + L->ch + 7 * s, "middle",
                 p->xlabel, 200, fs, 0);
    if (p->ylabel && p->ylabel[0])
        svg_text(&b, gap + 7 * s, (L->y0 + L->y1) / 2.0, "middle", p->ylabel, 200, fs, 1);
    vae_strbuf_printf(
        &b,
        "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#404040\"/>\n",
        L->x0 - 1, L->y0 - 1, L->x1 - L->x0 + 2, L->y1 - L->y0 + 2);
    vae_strbuf_printf(&b,
                      "<g clip-path=\"url(#plotarea)\" fill=\"none\" stroke-width=\"%d\" "
                      "stroke-linejoin=\"round\">\n",
                      s);
    for (int k = 0; k < p->nseries; k++) {
        const vae_plot_series *sr = &p->series[k];
        uint32_t col = series_color(p, k);
        int open = 0;
        for (int i = 0; i <= sr->n; i++) {
            double tx = i < sr->n ? tr(series_x(sr, i), L->logx) : NAN;
            double ty = i < sr->n ? tr(sr->y[i], L->logy) : NAN;
            if (isnan(tx) || isnan(ty)) {
                if (open) vae_strbuf_printf(&b, "\"/>\n");
                open = 0;
                continue;
            }
            if (!open) vae_strbuf_printf(&b, "<polyline stroke=\"#%06x\" points=\"", (unsigned)col);
            vae_strbuf_printf(&b, "%s%.2f,%.2f", open ? " " : "", px_x(L, tx), px_y(L, ty));
            open = 1;
        }
        for (int i = 0; sr->yerr && i < sr->n; i++) { /* error bars, capped, as in the PNG */
            double tx = tr(series_x(sr, i), L->logx), ty = tr(sr->y[i], L->logy);
            double e = sr->yerr[i];
            if (isnan(tx) || isnan(ty) || e == 0 || isnan(e)) continue;
            double lo = e < 0 ? NAN : tr(sr->y[i] - e, L->logy),
                   hi = tr(sr->y[i] + (e < 0 ? 0 : e), L->logy);
            double ylo = isnan(lo) ? L->y1 : fmin(fmax(px_y(L, lo), L->y0), L->y1),
                   yhi = isnan(hi) ? L->y0 : fmin(fmax(px_y(L, hi), L->y0), L->y1),
                   mx = px_x(L, tx), r = 2 * s;
            vae_strbuf_printf(&b,
                              "<path stroke=\"#%06x\" d=\"M%.1f %.1fV%.1fM%.1f %.1fH%.1fM%.1f "
                              "%.1fH%.1f\"/>\n",
                              (unsigned)col, mx, yhi, ylo, mx - r, yhi, mx + r, mx - r, ylo, mx + r);
        }
        if (p->markers || sr->n == 1)
            for (int i = 0; i < sr->n; i++) {
                double tx = tr(series_x(sr, i), L->logx), ty = tr(sr->y[i], L->logy);
                if (isnan(tx) || isnan(ty)) continue;
                vae_strbuf_printf(
                    &b,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%d\" fill=\"#%06x\" "
                    "stroke=\"none\"/>\n",
                    px_x(L, tx) - (s + 1), px_y(L, ty) - (s + 1), 2 * s + 3, 2 * s + 3,
                    (unsigned)col);
            }
    }
    vae_strbuf_printf(&b, "</g>\n");
    int bx0, by0, bx1, by1;
    if (legend_box(p, L, &bx0, &by0, &bx1, &by1)) {
        vae_strbuf_printf(&b,
                          "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"white\" "
                          "stroke=\"#b0b0b0\"/>\n",
                          bx0, by0, bx1 - bx0, by1 - by0);
        int y = by0 + 2 * s, x = bx0 + 2 * s;
        for (int k = 0; k < p->nseries; k++) {
            const char *name = p->series[k].name;
            if (!name || !name[0]) continue;
            vae_strbuf_printf(&b,
                              "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#%06x\" "
                              "stroke-width=\"%d\"/>\n",
                              x, y + 3 * s, x + 3 * L->cw - s, y + 3 * s,
                              (unsigned)series_color(p, k), s);
            svg_text(&b, x + 3 * L->cw + 2 * s, y + 7 * s, "start", name, MAX_LEGEND_CHARS, fs, 0);
            y += L->ch + s;
        }
    }
    vae_strbuf_printf(&b, "</svg>\n");
    free(L);
    if (b.oom) {
        free(b.buf);
        return vae_error_set(err, VAE_ERR_OOM, "plot %s: out of memory", path);
    }
    st = vae_write_file_atomic(path, b.buf, b.len, err);
    free(b.buf);
    return st;
}
