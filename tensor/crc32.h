/* crc32.h - CRC-32 (IEEE 802.3, as in zlib, gzip and PNG) and Adler-32 (zlib) checksums.
 *
 * Both are chainable with zlib semantics: start CRC-32 with 0 and Adler-32 with 1, then feed the
 * previous result back in, e.g. crc = vae_crc32(vae_crc32(0, a, na), b, nb) == vae_crc32(0, ab, na
 * + nb).
 */
#ifndef VAE_CRC32_H
#define VAE_CRC32_H

#include <stddef.h>
#include <stdint.h>

#include "tensor/error.h"

/* CRC-32 of n bytes continuing from `crc` (0 to start). Never fails; data may be NULL when n == 0.
 */
VAE_API uint32_t vae_crc32(uint32_t crc, const void *data, size_t n);

/* Adler-32 of n bytes continuing from `a` (1 to start). Never fails; data may be NULL when n == 0.
 */
VAE_API uint32_t vae_adler32(uint32_t a, const void *data, size_t n);

#endif
