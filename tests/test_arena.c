/* The step arena: 64-byte alignment, reuse after reset, merging of blocks after a step that outgrew the first,
 * the byte cap, used/peak accounting, calloc, poisoning in debug builds, NULL handling. */
#include <stdint.h>
#include <string.h>

#include "test.h"
#include "vae.h"

#define MiB ((size_t)1 << 20)

static int aligned(const void *p) {
    return ((uintptr_t)p & 63u) == 0;
}

static void test_alignment_and_reuse(void) {
    vae_arena *a = vae_arena_new(0);
    CHECK(a != NULL);
    if (!a) return;
    vae_error e = {0};
    size_t sizes[] = {1, 3, 64, 65, 100, 0, 4096, 2 * MiB, 7};
    void *ptrs[9];
    int ok = 1;
    for (int i = 0; i < 9; i++) {
        ptrs[i] = vae_arena_alloc(a, sizes[i], &e);
        if (!ptrs[i] || !aligned(ptrs[i]))
            ok = 0;
        else
            memset(ptrs[i], i, sizes[i]); /* writable over the whole request */
    }
    CHECK(ok && e.code == VAE_OK);
    /* distinct, non-overlapping blocks: each request keeps its own bytes */
    for (int i = 0; i < 9; i++)
        for (size_t k = 0; ok && k < sizes[i]; k += 97)
            ok = ((unsigned char *)ptrs[i])[k] == (unsigned char)i;
    CHECK(ok);
    /* used counts whole 64-byte units */
    size_t want = 0;
    for (int i = 0; i < 9; i++) want += (sizes[i] ? sizes[i] + 63 : 64) / 64 * 64;
    CHECK(vae_arena_used(a) == want && vae_arena_peak(a) == want);
    /* reset: same memory handed out again, no malloc (the 2 MiB request made more than one block, so the first
     * reset merges them; from the second reset on, nothing is allocated) */
    vae_arena_reset(a);
    CHECK(vae_arena_used(a) == 0 && vae_arena_peak(a) == want);
    size_t m = vae_arena_mallocs(a);
    void *first = vae_arena_alloc(a, 10, &e);
    vae_arena_reset(a);
    void *again = vae_arena_alloc(a, 10, &e);
    CHECK(first == again && vae_arena_mallocs(a) == m);
    for (int r = 0; r < 3; r++) {
        vae_arena_reset(a);
        for (int i = 0; i < 9; i++) ptrs[i] = vae_arena_alloc(a, sizes[i], &e);
    }
    CHECK(vae_arena_mallocs(a) == m && e.code == VAE_OK);
    vae_arena_free(a);
}

static void test_merge(void) {
    vae_arena *a = vae_arena_new(0);
    if (!a) return;
    vae_error e = {0};
    const size_t part = 600 * 1024; /* three parts outgrow the first 1 MiB block */
    unsigned char *p[3];
    for (int i = 0; i < 3; i++) p[i] = vae_arena_alloc(a, part, &e);
    CHECK(p[0] && p[1] && p[2] && e.code == VAE_OK);
    size_t m1 = vae_arena_mallocs(a);
    CHECK(m1 >= 4);             /* at least two blocks (block struct + memory each) */
    CHECK(p[1] != p[0] + part); /* the second part did not fit behind the first */
    vae_arena_reset(a);
    size_t m2 = vae_arena_mallocs(a);
    CHECK(m2 == m1 + 2); /* one merged block */
    for (int i = 0; i < 3; i++) p[i] = vae_arena_alloc(a, part, &e);
    CHECK(vae_arena_mallocs(a) == m2);
    CHECK(p[1] == p[0] + part && p[2] == p[1] + part); /* all in the merged block, back to back */
    memset(p[0], 1, 3 * part); /* and the merged block really is that large */
    /* further steps of the same size: no malloc, no merge */
    for (int s = 0; s < 3; s++) {
        vae_arena_reset(a);
        for (int i = 0; i < 3; i++) p[i] = vae_arena_alloc(a, part, &e);
    }
    CHECK(vae_arena_mallocs(a) == m2 && vae_arena_used(a) == 3 * part &&
          vae_arena_peak(a) == 3 * part);
    /* a bigger step grows once more, then is steady again */
    vae_arena_reset(a);
    for (int i = 0; i < 6; i++) CHECK(vae_arena_alloc(a, part, &e) != NULL);
    size_t m3 = vae_arena_mallocs(a);
    CHECK(m3 > m2 && vae_arena_peak(a) == 6 * part);
    vae_arena_reset(a);
    for (int i = 0; i < 6; i++) vae_arena_alloc(a, part, &e);
    vae_arena_reset(a);
    size_t m4 = vae_arena_mallocs(a);
    for (int i = 0; i < 6; i++) vae_arena_alloc(a, part, &e);
    CHECK(vae_arena_mallocs(a) == m4 && e.code == VAE_OK);
    vae_arena_free(a);
}

static void test_cap(void) {
    vae_arena *a = vae_arena_new(1024);
    if (!a) return;
    vae_error e = {0};
    CHECK(vae_arena_cap(a) == 1024);
    void *p = vae_arena_alloc(a, 900, &e); /* 960 after rounding */
    CHECK(p && e.code == VAE_OK && vae_arena_used(a) == 960);
    CHECK(vae_arena_alloc(a, 64, &e) != NULL && vae_arena_used(a) == 1024); /* exactly at the cap */
    CHECK(vae_arena_alloc(a, 1, &e) == NULL && e.code == VAE_ERR_OOM);
    CHECK(strstr(e.msg, "cap") && strstr(e.msg, "1024"));
    CHECK(vae_arena_used(a) == 1024); /* the failed request took nothing */
    /* the first error sticks in the record; the arena keeps working for requests that fit after a reset */
    CHECK(vae_arena_alloc(a, 5000, &e) == NULL && strstr(e.msg, "64 more bytes"));
    vae_error_clear(&e);
    vae_arena_reset(a);
    CHECK(vae_arena_alloc(a, 1024, &e) != NULL && e.code == VAE_OK);
    /* raising and removing the cap; lowering it under the current use keeps what was handed out */
    vae_arena_set_cap(a, 2048);
    CHECK(vae_arena_alloc(a, 1000, &e) != NULL && vae_arena_cap(a) == 2048);
    vae_arena_set_cap(a, 100);
    CHECK(vae_arena_alloc(a, 1, &e) == NULL && e.code == VAE_ERR_OOM);
    vae_error_clear(&e);
    vae_arena_set_cap(a, 0);
    CHECK(vae_arena_alloc(a, 3 * MiB, &e) != NULL && e.code == VAE_OK);
    /* impossible sizes fail cleanly, with or without a cap */
    CHECK(vae_arena_alloc(a, SIZE_MAX, &e) == NULL && e.code == VAE_ERR_OOM);
    vae_error_clear(&e);
    CHECK(vae_arena_alloc(a, SIZE_MAX / 2 - 1000, &e) == NULL && e.code == VAE_ERR_OOM);
    vae_error_clear(&e);
    CHECK(vae_arena_alloc(a, (size_t)1 << 60, &e) == NULL && e.code == VAE_ERR_OOM &&
          strstr(e.msg, "bytes"));
    vae_error_clear(&e);
    CHECK(vae_arena_alloc(a, 64, &e) != NULL); /* still fine */
    vae_arena_free(a);
}

static void test_accounting_calloc_poison(void) {
    vae_arena *a = vae_arena_new(0);
    if (!a) return;
    vae_error e = {0};
    CHECK(vae_arena_used(a) == 0 && vae_arena_peak(a) == 0 && vae_arena_mallocs(a) == 0);
    unsigned char *p = vae_arena_alloc(a, 200, &e); /* 256 */
    CHECK(p && vae_arena_mallocs(a) == 2 && vae_arena_used(a) == 256);
    vae_arena_alloc(a, 64, &e);
    CHECK(vae_arena_used(a) == 320 && vae_arena_peak(a) == 320);
    memset(p, 0x11, 200);
    vae_arena_reset(a);
    CHECK(vae_arena_used(a) == 0 && vae_arena_peak(a) == 320);
#ifdef VAE_DEBUG_POISON
    /* debug builds poison what the last step used, so a stale pointer reads garbage */
    int poisoned = 1;
    for (int i = 0; i < 200; i++) poisoned &= p[i] == 0xA5;
    CHECK(poisoned);
#endif
    vae_arena_alloc(a, 100, &e);
    CHECK(vae_arena_used(a) == 128 && vae_arena_peak(a) == 320);
    vae_arena_reset(a);
    unsigned char *z = vae_arena_calloc(a, 300, &e);
    int zero = z != NULL;
    for (int i = 0; zero && i < 300; i++) zero = z[i] == 0;
    CHECK(zero && z == p);
    vae_arena_free(a);
}

static void test_null(void) {
    vae_error e = {0};
    vae_arena_free(NULL);
    vae_arena_reset(NULL);
    vae_arena_set_cap(NULL, 10);
    CHECK(vae_arena_used(NULL) == 0 && vae_arena_peak(NULL) == 0 && vae_arena_cap(NULL) == 0);
    CHECK(vae_arena_mallocs(NULL) == 0);
    CHECK(vae_arena_alloc(NULL, 10, &e) == NULL && e.code == VAE_ERR_NULL);
    CHECK(vae_arena_calloc(NULL, 10, NULL) == NULL); /* a NULL error record is fine too */
    vae_arena *a = vae_arena_new(0);
    CHECK(a && vae_arena_alloc(a, 10, NULL) != NULL);
    vae_arena_set_cap(a, 1);
    CHECK(vae_arena_alloc(a, 10, NULL) == NULL);
    vae_arena_free(a);
    /* an arena that never allocated frees cleanly */
    vae_arena_free(vae_arena_new(5));
}

int main(void) {
    test_alignment_and_reuse();
    test_merge();
    test_cap();
    test_accounting_calloc_poison();
    test_null();
    return test_finish();
}
