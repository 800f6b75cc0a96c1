#include "arena.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/scratch.h"

#define ARENA_ALIGN     64
#define ARENA_MIN_BLOCK ((size_t)1 << 20)

typedef struct block {
    struct block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    unsigned char *mem;
} block;

struct vae_arena {
    block *first, *cur;
    size_t used, peak, cap, mallocs;
    uint32_t id, gen; /* stamps of the tensors allocated now: which arena, how many resets ago */
};

/* Arena ids: distinct for the arenas of a process (wrapping after 4e9 arenas is harmless: a stale check then
 * merely compares generations of two arenas that share an id). */
static atomic_uint arena_ids = 1;

void vae__arena_stamp(const vae_arena *a, uint32_t *id, uint32_t *gen) {
    *id = a ? a->id : 0;
    *gen = a ? a->gen : 0;
}

static block *block_new(vae_arena *a, size_t size) {
    block *b = malloc(sizeof *b);
    if (!b) return NULL;
    b->mem = aligned_alloc(ARENA_ALIGN, (size + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN);
    if (!b->mem) {
        free(b);
        return NULL;
    }
    a->mallocs += 2;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

vae_arena *vae_arena_new(size_t cap_bytes) {
    vae_arena *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->cap = cap_bytes;
    a->id = atomic_fetch_add(&arena_ids, 1);
    if (a->id == 0) a->id = atomic_fetch_add(&arena_ids, 1); /* 0 means "no arena" */
    return a;
}

void vae_arena_free(vae_arena *a) {
    if (!a) return;
    for (block *b = a->first, *n; b; b = n) {
        n = b->next;
        free(b->mem);
        free(b);
    }
    free(a);
}

void *vae_arena_alloc(vae_arena *a, size_t bytes, vae_error *err) {
    if (!a) {
        vae_error_set(err, VAE_ERR_NULL, "arena_alloc: NULL arena");
        return NULL;
    }
    if (bytes == 0) bytes = 1;
    if (bytes > SIZE_MAX / 2) {
        vae_error_set(err, VAE_ERR_OOM, "arena_alloc: request of %zu bytes is too large", bytes);
        return NULL;
    }
    size_t need = (bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    if (a->cap && a->used + need > a->cap) {
        vae_error_set(
            err, VAE_ERR_OOM,
            "arena_alloc: %zu more bytes would pass the arena cap of %zu bytes (%zu in use)", need,
            a->cap, a->used);
        return NULL;
    }
    /* Walk forward through kept blocks; a block too small for this request is skipped. */
    block *b = a->cur;
    while (b && b->size - b->used < need) b = b->next;
    if (!b) {
        size_t last = a->cur ? a->cur->size : 0;
        size_t size = need > ARENA_MIN_BLOCK ? need : ARENA_MIN_BLOCK;
        if (size < 2 * last && last < SIZE_MAX / 4) size = 2 * last;
        b = block_new(a, size);
        if (!b) {
            vae_error_set(err, VAE_ERR_OOM, "arena_alloc: malloc of %zu bytes failed", size);
            return NULL;
        }
        /* Append at the end of the chain so that kept blocks keep their order. */
        if (!a->first)
            a->first = b;
        else {
            block *t = a->cur ? a->cur : a->first;
            while (t->next) t = t->next;
            t->next = b;
        }
    }
    a->cur = b;
    void *p = b->mem + b->used;
    b->used += need;
    a->used += need;
    if (a->used > a->peak) a->peak = a->used;
    return p;
}

void *vae_arena_calloc(vae_arena *a, size_t bytes, vae_error *err) {
    void *p = vae_arena_alloc(a, bytes, err);
    if (p) memset(p, 0, bytes);
    return p;
}

void vae_arena_reset(vae_arena *a) {
    if (!a) return;
    size_t total = 0;
    int nblocks = 0;
    for (block *b = a->first; b; b = b->next) {
#ifdef VAE_DEBUG_POISON
        memset(b->mem, 0xA5, b->used);
#endif
        total += b->size;
        b->used = 0;
        nblocks++;
    }
    /* Several blocks mean the last step outgrew the first: merge them into one so the next step fits without
     * walking or mallocing. If that malloc fails, keep the old blocks (still correct, just fragmented). */
    if (nblocks > 1) {
        block *merged = block_new(a, total);
        if (merged) {
            for (block *b = a->first, *n; b; b = n) {
                n = b->next;
                free(b->mem);
                free(b);
            }
            a->first = merged;
        }
    }
    a->cur = a->first;
    a->used = 0;
    a->gen++;
}

size_t vae_arena_used(const vae_arena *a) {
    return a ? a->used : 0;
}
size_t vae_arena_peak(const vae_arena *a) {
    return a ? a->peak : 0;
}
size_t vae_arena_cap(const vae_arena *a) {
    return a ? a->cap : 0;
}
void vae_arena_set_cap(vae_arena *a, size_t cap_bytes) {
    if (a) a->cap = cap_bytes;
}
size_t vae_arena_mallocs(const vae_arena *a) {
    return a ? a->mallocs : 0;
}
