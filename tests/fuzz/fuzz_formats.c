/* libFuzzer harness for the hostile-input parsers: gunzip (whole and prefix), zlib, raw inflate, .npy, PNG,
 * IDX, .amat and CSV. Not built by meson: tests/fuzz/run.sh builds it with clang and runs it on the seed corpus
 * tests/fuzz/corpus/ (CI runs it briefly from .ci/run; `tests/fuzz/run.sh 600` for a longer pass).
 * The first input byte picks the decoder; the rest is the input. */
#include <stdint.h>
#include <stdlib.h>

#include "tensor/io/amat.h"
#include "tensor/io/csv.h"
#include "tensor/io/idx.h"
#include "tensor/io/inflate.h"
#include "tensor/io/io_internal.h"
#include "tensor/io/png.h"
#include "tensor/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int which = data[0] % 9;
    data++, size--;
    vae_error e = {0};
    uint8_t *out = NULL;
    size_t n = 0;
    vae_status st = VAE_OK;
    if (which == 0)
        st = vae_gunzip(data, size, &out, &n, 1 << 24, &e);
    else if (which == 1)
        st = vae_zlib_decompress(data, size, &out, &n, 1 << 24, &e);
    else if (which == 2)
        st = vae_inflate(data, size, &out, &n, 1 << 24, &e);
    else if (which == 3) {
        vae_npy a = {0};
        if (vae_npy_parse(data, size, &a, &e) == VAE_OK) vae_npy_free(&a);
    } else if (which == 4) {
        vae_png_image img = {0};
        if (vae_png_decode(data, size, &img, &e) == VAE_OK) vae_png_free(&img);
    } else if (which == 5) {
        vae_idx x = {0};
        if (vae_idx_parse(data, size, "fuzz", size && (data[0] & 1) ? 1 : 3, &x, &e) == VAE_OK)
            vae_idx_free(&x);
    } else if (which == 6) {
        vae_amat a = {0};
        if (vae_amat_parse((const char *)data, size, "fuzz", 0, &a, &e) == VAE_OK)
            vae_amat_free(&a);
    } else if (which == 7) {
        vae_csv c = {0};
        if (vae_csv_parse((const char *)data, size, "fuzz", &c, &e) == VAE_OK) vae_csv_free(&c);
    } else {
        int complete = 0;
        st = vae__gunzip_prefix(data, size, 4096, &out, &n, &complete, &e);
        if (st == VAE_OK && n > 4096) abort(); /* the prefix never passes its bound */
    }
    if (st == VAE_OK)
        free(out);
    else if (e.code == VAE_OK)
        abort(); /* a failure must always carry its message */
    return 0;
}
