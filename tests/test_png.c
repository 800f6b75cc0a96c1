/* PNG writer/reader round trips (gray, RGB, grid), damaged files rejected cleanly, and the plot
 * renderer. */
#include "test.h"
#include "tensor/io/inflate.h"
#include "examples/vae/plot.h"
#include "tensor/io/png.h"
#include "tensor/crc32.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[64];

static void tpath(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "%s/%s", tmpdir, name);
}

static void roundtrip(int w, int h, int c, int pattern) {
    size_t n = (size_t)w * (size_t)h * (size_t)c;
    uint8_t *pix = malloc(n);
    uint32_t r = 12345u + (uint32_t)pattern;
    for (size_t i = 0; i < n; i++) {
        r = r * 1664525u + 1013904223u;
        size_t x = (i / (size_t)c) % (size_t)w, y = i / ((size_t)c * (size_t)w);
        pix[i] = pattern == 0   ? (uint8_t)(r >> 24)
                 : pattern == 1 ? (uint8_t)((x * 7 + y * 3 + i % (size_t)c) & 255)
                                : (uint8_t)((x / 5 + y / 3) % 2 ? 255 : 0);
    }
    char path[128];
    tpath(path, sizeof path, "rt.png");
    vae_error e = {0};
    CHECK_MSG(vae_png_write(path, pix, w, h, c, &e) == VAE_OK, "%s", e.msg);
    vae_png_image img = {0};
    CHECK_MSG(vae_png_read(path, &img, &e) == VAE_OK, "%s", e.msg);
    CHECK_MSG(img.width == w && img.height == h && img.channels == c && img.pixels &&
                  memcmp(img.pixels, pix, n) == 0,
              "%dx%dx%d pattern %d differs", w, h, c, pattern);
    vae_png_free(&img);
    free(pix);
}

/* Build a PNG by hand with the given filter byte on every row (the writer only uses 0-2). */
static size_t handmade(uint8_t *out, const uint8_t *pix, int w, int h, int c, int filter) {
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    size_t stride = (size_t)w * (size_t)c, rawn = (size_t)h * (stride + 1);
    uint8_t *raw = malloc(rawn);
    for (int y = 0; y < h; y++) {
        const uint8_t *row = pix + (size_t)y * stride, *up = y ? row - stride : NULL;
        uint8_t *d = raw + (size_t)y * (stride + 1);
        d[0] = (uint8_t)filter;
        for (size_t i = 0; i < stride; i++) {
            int a = i >= (size_t)c ? row[i - (size_t)c] : 0, b = up ? up[i] : 0,
                cc = (up && i >= (size_t)c) ? up[i - (size_t)c] : 0, pred = 0;
            if (filter == 1)
                pred = a;
            else if (filter == 2)
                pred = b;
            else if (filter == 3)
                pred = (a + b) / 2;
            else if (filter == 4) {
                int p = a + b - cc, pa = abs(p - a), pb = abs(p - b), pc = abs(p - cc);
                pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : cc;
            }
            d[1 + i] = (uint8_t)(row[i] - pred);
        }
    }
    uint8_t *z;
    size_t zn;
    vae_error e = {0};
    vae_zlib_compress(raw, rawn, &z, &zn, &e);
    free(raw);
    size_t pos = 0;
    memcpy(out, sig, 8);
    pos = 8;
    uint8_t ihdr[13] = {0, 0, 0, (uint8_t)w, 0, 0, 0, (uint8_t)h, 8, (uint8_t)(c == 1 ? 0 : 2),
                        0, 0, 0};
    const struct {
        const char *t;
        const uint8_t *d;
        size_t n;
    } ch[3] = {{"IHDR", ihdr, 13}, {"IDAT", z, zn}, {"IEND", NULL, 0}};
    for (int k = 0; k < 3; k++) {
        uint8_t *p = out + pos;
        p[0] = (uint8_t)(ch[k].n >> 24), p[1] = (uint8_t)(ch[k].n >> 16),
        p[2] = (uint8_t)(ch[k].n >> 8), p[3] = (uint8_t)ch[k].n;
        memcpy(p + 4, ch[k].t, 4);
        if (ch[k].n) memcpy(p + 8, ch[k].d, ch[k].n);
        uint32_t crc = vae_crc32(0, p + 4, ch[k].n + 4);
        p[8 + ch[k].n] = (uint8_t)(crc >> 24), p[9 + ch[k].n] = (uint8_t)(crc >> 16),
              p[10 + ch[k].n] = (uint8_t)(crc >> 8), p[11 + ch[k].n] = (uint8_t)crc;
        pos += ch[k].n + 12;
    }
    free(z);
    return pos;
}

static void test_filters(void) {
    enum { W = 13, H = 9 };
    uint8_t pix[W * H * 3], buf[4096];
    for (int i = 0; i < W * H * 3; i++) pix[i] = (uint8_t)(i * 37 + (i / 7) * 11);
    for (int c = 1; c <= 3; c += 2)
        for (int f = 0; f <= 4; f++) {
            size_t n = handmade(buf, pix, W, H, c, f);
            vae_png_image img = {0};
            vae_error e = {0};
            CHECK_MSG(vae_png_decode(buf, n, &img, &e) == VAE_OK, "filter %d: %s", f, e.msg);
            CHECK_MSG(img.pixels && img.channels == c &&
                          memcmp(img.pixels, pix, (size_t)(W * H * c)) == 0,
                      "filter %d c %d decodes wrong", f, c);
            vae_png_free(&img);
        }
}

static void expect_reject(const uint8_t *buf, size_t n, vae_status want, const char *what) {
    vae_png_image img;
    memset(&img, 0x5A, sizeof img);
    vae_error e = {0};
    vae_status st = vae_png_decode(buf, n, &img, &e);
    CHECK_MSG(st == want, "%s: got %s (%s), want %s", what, vae_status_name(st), e.msg,
              vae_status_name(want));
    CHECK_MSG(((unsigned char *)&img)[0] == 0x5A, "%s: output changed", what);
    if (st == VAE_OK) vae_png_free(&img);
}

static void test_damaged(void) {
    uint8_t pix[20 * 10 * 3];
    for (size_t i = 0; i < sizeof pix; i++) pix[i] = (uint8_t)(i * 13);
    uint8_t *png;
    size_t n;
    vae_error e = {0};
    CHECK(vae_png_encode(pix, 20, 10, 3, &png, &n, &e) == VAE_OK);
    uint8_t *bad = malloc(n);
    memcpy(bad, png, n);
    bad[8 + 8 + 5] ^= 1; /* inside IHDR data: CRC no longer matches */
    expect_reject(bad, n, VAE_ERR_CORRUPT, "bad IHDR CRC");
    memcpy(bad, png, n);
    bad[n - 12 - 5] ^= 0x10; /* last byte of IDAT's CRC */
    expect_reject(bad, n, VAE_ERR_CORRUPT, "bad IDAT CRC");
    memcpy(bad, png, n);
    bad[0] = 0x88;
    expect_reject(bad, n, VAE_ERR_FORMAT, "bad signature");
    expect_reject(png, n - 12, VAE_ERR_FORMAT, "missing IEND");
    expect_reject(png, 30, VAE_ERR_FORMAT, "truncated IHDR");
    int all_fail = 1;
    for (size_t k = 0; k < n; k++) { /* every truncation is rejected */
        vae_png_image img;
        vae_error e2 = {0};
        if (vae_png_decode(png, k, &img, &e2) == VAE_OK) all_fail = 0, vae_png_free(&img);
    }
    CHECK(all_fail);
    int flips_caught = 0, flips = 0;
    for (size_t k = 8; k < n; k++, flips++) { /* every flipped byte is rejected, never a crash */
        memcpy(bad, png, n);
        bad[k] ^= 0xA5;
        vae_png_image img;
        vae_error e2 = {0};
        if (vae_png_decode(bad, n, &img, &e2) != VAE_OK)
            flips_caught++;
        else
            vae_png_free(&img);
    }
    CHECK_MSG(flips_caught == flips, "%d of %d corrupted bytes caught", flips_caught, flips);
    /* a valid PNG with an unsupported header: 16-bit depth (fix the CRC so only the depth is wrong)
     */
    memcpy(bad, png, n);
    bad[8 + 8 + 8] = 16;
    uint32_t crc = vae_crc32(0, bad + 12, 17);
    bad[29] = (uint8_t)(crc >> 24), bad[30] = (uint8_t)(crc >> 16), bad[31] = (uint8_t)(crc >> 8),
    bad[32] = (uint8_t)crc;
    expect_reject(bad, n, VAE_ERR_UNSUPPORTED, "16-bit depth");
    free(bad);
    free(png);
    vae_png_image img;
    CHECK(vae_png_read("/nonexistent/x.png", &img, &e) == VAE_ERR_IO &&
          strstr(e.msg, "/nonexistent/x.png"));
    vae_error_clear(&e);
    char path[128];
    tpath(path, sizeof path, "bad.png");
    CHECK(vae_png_write(path, pix, 0, 10, 3, &e) == VAE_ERR_ARG && access(path, F_OK) != 0);
    vae_error_clear(&e);
    CHECK(vae_png_write(path, pix, 20, 10, 5, &e) == VAE_ERR_ARG);
    vae_png_free(NULL);
}

static void test_grid(void) {
    enum { N = 7, H = 5, W = 4 };
    float imgs[N * H * W * 3];
    for (int i = 0; i < N * H * W * 3; i++)
        imgs[i] = (float)((i * 7) % 23) / 20.0f - 0.05f; /* some < 0 and > 1 */
    imgs[3] = NAN;
    for (int c = 1; c <= 3; c += 2) {
        char path[128];
        tpath(path, sizeof path, "grid.png");
        vae_error e = {0};
        int ncols = 3, pad = 2;
        CHECK_MSG(vae_png_write_grid(path, imgs, N, H, W, c, ncols, pad, &e) == VAE_OK, "%s",
                  e.msg);
        vae_png_image img = {0};
        CHECK_MSG(vae_png_read(path, &img, &e) == VAE_OK, "%s", e.msg);
        int gw = ncols * W + (ncols + 1) * pad, gh = 3 * H + 4 * pad;
        CHECK(img.width == gw && img.height == gh && img.channels == c);
        int bad = 0;
        for (int y = 0; y < gh && img.pixels; y++)
            for (int x = 0; x < gw; x++)
                for (int k = 0; k < c; k++) {
                    int cx = (x - pad) / (W + pad), cy = (y - pad) / (H + pad);
                    int ix = (x - pad) % (W + pad), iy = (y - pad) % (H + pad), i = cy * ncols + cx;
                    int want = 128;
                    if (x >= pad && y >= pad && ix < W && iy < H && i < N) {
                        float v = imgs[((i * H + iy) * W + ix) * c + k];
                        v = v > 0 ? (v < 1 ? v : 1) : 0;
                        want = (int)(v * 255.0f + 0.5f);
                    }
                    bad +=
                        img.pixels[((size_t)y * (size_t)gw + (size_t)x) * (size_t)c + (size_t)k] !=
                        want;
                }
        CHECK_MSG(bad == 0, "grid c=%d: %d pixels differ", c, bad);
        vae_png_free(&img);
    }
    vae_error e = {0};
    char path[128];
    tpath(path, sizeof path, "grid2.png");
    CHECK(vae_png_write_grid(path, imgs, 0, H, W, 1, 0, 1, &e) == VAE_ERR_ARG);
    vae_error_clear(&e);
    CHECK(vae_png_write_grid(path, imgs, N, H, W, 2, 0, 1, &e) == VAE_ERR_ARG);
    vae_error_clear(&e);
    CHECK(vae_png_write_grid(path, imgs, N, 40000, 40000, 1, 0, 1, &e) == VAE_ERR_ARG);
    CHECK(access(path, F_OK) != 0);
    vae_error_clear(&e);
    CHECK_MSG(vae_png_write_grid(path, imgs, N, H, W, 1, 0, 0, &e) == VAE_OK, "%s",
              e.msg); /* auto columns: 3 */
    vae_png_image img = {0};
    CHECK(vae_png_read(path, &img, &e) == VAE_OK && img.width == 3 * W && img.height == 3 * H);
    vae_png_free(&img);
}

static void test_plot(void) {
    double ep[20], tr[20], va[20], k[6], snr1[6], snr2[6];
    for (int i = 0; i < 20; i++) {
        ep[i] = i + 1;
        tr[i] = -200 + 100 * (1 - exp(-i / 5.0));
        va[i] = tr[i] - 3 - 0.1 * i;
    }
    va[7] = NAN; /* a gap */
    for (int i = 0; i < 6; i++) {
        k[i] = pow(4, i);
        snr1[i] = 3.0 / sqrt(k[i]);
        snr2[i] = 0.5 * sqrt(k[i]);
    }
    vae_plot_series s[2] = {{.name = "train ELBO", .x = ep, .y = tr, .n = 20},
                            {.name = "valid ELBO", .y = va, .n = 20}};
    vae_plot p = {.title = "Learning curve (MNIST, z=20)",
                  .xlabel = "epoch",
                  .ylabel = "nats",
                  .series = s,
                  .nseries = 2,
                  .markers = 1};
    char path[128];
    tpath(path, sizeof path, "curve.png");
    vae_error e = {0};
    CHECK_MSG(vae_plot_write_png(&p, path, 640, 480, &e) == VAE_OK, "%s", e.msg);
    vae_png_image img = {0};
    CHECK_MSG(vae_png_read(path, &img, &e) == VAE_OK, "%s", e.msg);
    CHECK(img.width == 640 && img.height == 480 && img.channels == 3);
    size_t nonwhite = 0, blue = 0, red = 0;
    for (size_t i = 0; img.pixels && i < (size_t)640 * 480; i++) {
        const uint8_t *q = img.pixels + 3 * i;
        nonwhite += !(q[0] == 255 && q[1] == 255 && q[2] == 255);
        blue += q[0] == 0x1f && q[1] == 0x77 && q[2] == 0xb4;
        red += q[0] == 0xd6 && q[1] == 0x27 && q[2] == 0x28;
    }
    CHECK_MSG(nonwhite > 5000 && blue > 300 && red > 300, "nonwhite %zu blue %zu red %zu", nonwhite,
              blue, red);
    vae_png_free(&img);
    const char *keep = getenv("VAE_KEEP_PLOTS");
    if (keep) vae_plot_write_png(&p, "curve_demo.png", 640, 480, &e);

    double snr1_se[6] = {0.1, 0, 0.05, 0.02, -1, 0.01}; /* one without a bar, one upper bound */
    vae_plot_series s2[2] = {{.name = "REINFORCE", .x = k, .y = snr1, .yerr = snr1_se, .n = 6},
                             {.name = "reparam.", .x = k, .y = snr2, .n = 6, .color = 0x2ca02c}};
    vae_plot q = {.title = "SNR vs K",
                  .xlabel = "K",
                  .ylabel = "SNR",
                  .series = s2,
                  .nseries = 2,
                  .log_x = 1,
                  .log_y = 1,
                  .markers = 1};
    tpath(path, sizeof path, "snr.png");
    CHECK_MSG(vae_plot_write_png(&q, path, 320, 240, &e) == VAE_OK, "%s", e.msg);
    CHECK(vae_png_read(path, &img, &e) == VAE_OK && img.width == 320 && img.height == 240);
    vae_png_free(&img);
    if (keep) vae_plot_write_png(&q, "snr_demo.png", 640, 480, &e);
    tpath(path, sizeof path, "snr.svg");
    CHECK_MSG(vae_plot_write_svg(&q, path, 640, 480, &e) == VAE_OK, "%s", e.msg);
    uint8_t *svg;
    size_t svgn;
    CHECK(vae_read_file(path, &svg, &svgn, 0, &e) == VAE_OK);
    char *text = malloc(svgn + 1); /* the file's bytes are not NUL-terminated */
    CHECK(text != NULL);
    if (!text) return;
    memcpy(text, svg, svgn);
    text[svgn] = 0;
    CHECK(svgn > 200 && memcmp(text, "<svg", 4) == 0 && strstr(text, "REINFORCE") &&
          strstr(text, "</svg>"));
    int bars = 0; /* one capped bar per point with a non-zero half-width: 5 of the 6 */
    for (const char *q = text; (q = strstr(q, "<path stroke=\"#")) != NULL; q++) bars++;
    free(text);
    CHECK_MSG(bars == 5, "SVG error bars: %d, want 5", bars);
    free(svg);
    if (keep) vae_plot_write_svg(&q, "snr_demo.svg", 640, 480, &e);

    /* degenerate input: no series, one point, all-NaN, negative values on a log axis -> still a
     * valid image */
    double one = 5, nan1[3] = {NAN, NAN, NAN}, neg[3] = {-1, 0, -3};
    vae_plot_series s3[3] = {{.name = "one", .y = &one, .n = 1},
                             {.name = "nan", .y = nan1, .n = 3},
                             {.name = "neg", .y = neg, .n = 3}};
    vae_plot d = {.series = s3, .nseries = 3, .log_y = 1};
    uint8_t *rgb = malloc(100 * 80 * 3);
    CHECK_MSG(vae_plot_render(&d, 100, 80, rgb, &e) == VAE_OK, "%s", e.msg);
    d.nseries = 0;
    CHECK(vae_plot_render(&d, 100, 80, rgb, &e) == VAE_OK);
    vae_error_clear(&e);
    CHECK(vae_plot_render(&d, 10, 80, rgb, &e) == VAE_ERR_ARG);
    vae_error_clear(&e);
    d.nseries = -1;
    CHECK(vae_plot_render(&d, 100, 80, rgb, &e) == VAE_ERR_ARG);
    vae_error_clear(&e);
    vae_plot_series s4 = {.name = "x", .n = 3};
    vae_plot d2 = {.series = &s4, .nseries = 1};
    CHECK(vae_plot_render(&d2, 100, 80, rgb, &e) == VAE_ERR_NULL);
    free(rgb);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vae_test_png_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    static const int sizes[][2] = {{1, 1}, {2, 3}, {17, 5}, {28, 28}, {64, 48}, {301, 7}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (int c = 1; c <= 4; c++)
            for (int pat = 0; pat < 3; pat++) roundtrip(sizes[i][0], sizes[i][1], c, pat);
    test_filters();
    test_damaged();
    test_grid();
    test_plot();
    const char *names[] = {"rt.png",  "grid.png", "grid2.png", "curve.png",
                           "snr.png", "snr.svg",  "bad.png"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[128];
        tpath(path, sizeof path, names[i]);
        remove(path);
    }
    rmdir(tmpdir);
    return test_finish();
}
