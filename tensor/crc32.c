#include "crc32.h"

#include <pthread.h>

/* Slicing-by-4 tables for the reflected polynomial 0xEDB88320, built once (pthread_once) on first
 * use. */
static uint32_t crc_tab[4][256];
static pthread_once_t crc_tab_once = PTHREAD_ONCE_INIT;

static void crc_tab_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = crc_tab[0][i];
        for (int t = 1; t < 4; t++) {
            c = crc_tab[0][c & 0xFFu] ^ (c >> 8);
            crc_tab[t][i] = c;
        }
    }
}

uint32_t vae_crc32(uint32_t crc, const void *data, size_t n) {
    pthread_once(&crc_tab_once, crc_tab_init);
    const uint8_t *p = (const uint8_t *)data;
    uint32_t c = ~crc;
    while (n >= 4) {
        c ^= (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        c = crc_tab[3][c & 0xFFu] ^ crc_tab[2][(c >> 8) & 0xFFu] ^ crc_tab[1][(c >> 16) & 0xFFu] ^
            crc_tab[0][c >> 24];
        p += 4;
        n -= 4;
    }
    while (n--) c = crc_tab[0][(c ^ *p++) & 0xFFu] ^ (c >> 8);
    return ~c;
}

uint32_t vae_adler32(uint32_t a, const void *data, size_t n) {
    const uint32_t mod = 65521u;
    const uint8_t *p = (const uint8_t *)data;
    uint32_t s1 = a & 0xFFFFu, s2 = a >> 16;
    while (n > 0) {
        /* 5552 is the largest block for which s2 cannot overflow 32 bits before the reduction. */
        size_t blk = n < 5552 ? n : 5552;
        n -= blk;
        while (blk--) {
            s1 += *p++;
            s2 += s1;
        }
        s1 %= mod;
        s2 %= mod;
    }
    return s2 << 16 | s1;
}
