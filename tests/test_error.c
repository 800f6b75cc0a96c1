/* Error record: first error sticks, shapes are formatted NumPy-style. */
#include "test.h"
#include "tensor/error.h"

#include <string.h>

int main(void) {
    vae_error e = {0};
    CHECK(e.code == VAE_OK);
    CHECK(vae_error_set(&e, VAE_ERR_SHAPE, "matmul: %s", "first") == VAE_ERR_SHAPE);
    vae_error_set(&e, VAE_ERR_ARG, "second");
    CHECK(e.code == VAE_ERR_SHAPE);
    CHECK(strcmp(e.msg, "matmul: first") == 0);
    vae_error_clear(&e);
    CHECK(e.code == VAE_OK && e.msg[0] == 0);
    char buf[64];
    int64_t s[2] = {64, 400};
    CHECK(strcmp(vae_shape_str(buf, sizeof buf, 2, s), "(64,400)") == 0);
    CHECK(strcmp(vae_shape_str(buf, sizeof buf, 1, s), "(64,)") == 0);
    CHECK(strcmp(vae_shape_str(buf, sizeof buf, 0, s), "()") == 0);
    CHECK(strcmp(vae_status_name(VAE_ERR_OOM), "oom") == 0);
    vae_error_set(NULL, VAE_ERR_ARG, "ignored"); /* NULL record is harmless */
    return test_finish();
}
