/* libFuzzer harness for the hostile-input parsers: gunzip, zlib, raw inflate, .npy and PNG. Not
 * built by meson. Build and run (from the repository root):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_POSIX_C_SOURCE=200809L -I. tests/fuzz/fuzz_formats.c \
 *     tensor/error.c tensor/crc32.c tensor/atomic_file.c tensor/npy.c tensor/io/inflate.c tensor/io/deflate.c \
 *     tensor/io/png.c -lm -lpthread -o fuzz_formats && ./fuzz_formats -max_total_time=60
 * The first input byte picks the decoder; the rest is the input. */
#include <stdint.h>
#include <stdlib.h>

#include "tensor/io/inflate.h"
#include "tensor/io/png.h"
#include "tensor/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int which = data[0] % 5;
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
    } else {
        vae_png_image img = {0};
        if (vae_png_decode(data, size, &img, &e) == VAE_OK) vae_png_free(&img);
    }
    if (st == VAE_OK)
        free(out);
    else if (e.code == VAE_OK)
        abort(); /* a failure must always carry its message */
    return 0;
}
