/* vae_strbuf: appends grow the buffer, the text stays NUL-terminated, free zeroes it. */
#include "test.h"
#include "tensor/strbuf.h"

#include <string.h>

int main(void) {
    vae_strbuf s = {0};
    vae_strbuf_printf(&s, "model %s\n", "iwae");
    CHECK(s.buf && strcmp(s.buf, "model iwae\n") == 0 && s.len == 11 && !s.oom);
    /* grow well past the first allocation: 1000 lines of 10 bytes */
    for (int i = 0; i < 1000; i++) vae_strbuf_printf(&s, "line %04d\n", i);
    CHECK(s.len == 11 + 10000 && s.cap > s.len && strlen(s.buf) == s.len);
    CHECK(strncmp(s.buf + 11 + 9990, "line 0999\n", 10) == 0);
    vae_strbuf_printf(&s, "%s", ""); /* an empty append changes nothing */
    CHECK(s.len == 10011 && !s.oom);
    vae_strbuf_free(&s);
    CHECK(s.buf == NULL && s.len == 0 && s.cap == 0 && !s.oom);
    vae_strbuf_free(&s); /* twice is harmless */
    vae_strbuf_free(NULL);
    vae_strbuf_printf(NULL, "x");
    /* after a failure appends do nothing and the text before it stays */
    vae_strbuf t = {0};
    vae_strbuf_printf(&t, "kept");
    t.oom = 1;
    vae_strbuf_printf(&t, "dropped");
    CHECK(strcmp(t.buf, "kept") == 0 && t.len == 4);
    vae_strbuf_free(&t);
    return test_finish();
}
