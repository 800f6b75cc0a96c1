/* inflate.h - DEFLATE (RFC 1951), zlib (RFC 1950) and gzip (RFC 1952) decoding, a small zlib
 * encoder, and a whole-file reader with transparent gunzip (the atomic writer is in
 * tensor/atomic_file.h).
 *
 * The decoders treat their input as hostile: every length, distance, code table and checksum is
 * checked, the output never grows past `max_out` bytes, and a bad stream gives an error naming what
 * is wrong, never a crash. On success *out is a malloc'd buffer (non-NULL even when empty) that the
 * caller frees; on failure *out and *out_len are left unchanged.
 */
#ifndef VAE_TENSOR_IO_INFLATE_H
#define VAE_TENSOR_IO_INFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "tensor/error.h"

/* Output cap used when a caller passes max_out == 0. */
#define VAE_INFLATE_DEFAULT_MAX ((size_t)1 << 30)

/* Decode a raw DEFLATE stream (stored, fixed and dynamic Huffman blocks) that must span exactly
 * `in_len` bytes (bits after the final block in its last byte are ignored). max_out caps the output
 * (0 = 1 GiB). On failure returns VAE_ERR_FORMAT (malformed stream), VAE_ERR_OOM (max_out exceeded
 * or malloc failed) or VAE_ERR_NULL, with outputs unchanged. */
VAE_API vae_status vae_inflate(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len,
                               size_t max_out, vae_error *err);

/* Decode a zlib stream (2-byte header, DEFLATE data, Adler-32). Fails like vae_inflate, plus
 * VAE_ERR_CORRUPT on an Adler-32 mismatch and VAE_ERR_UNSUPPORTED for a preset dictionary; outputs
 * unchanged on failure. */
VAE_API vae_status vae_zlib_decompress(const uint8_t *in, size_t in_len, uint8_t **out,
                                       size_t *out_len, size_t max_out, vae_error *err);

/* Decode a gzip file: one or more concatenated members (header with FEXTRA/FNAME/FCOMMENT/FHCRC,
 * DEFLATE data, CRC-32 and ISIZE), optionally followed by zero padding. Fails like vae_inflate,
 * plus VAE_ERR_CORRUPT on a CRC-32, header-CRC or ISIZE mismatch; outputs unchanged on failure. */
VAE_API vae_status vae_gunzip(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len,
                              size_t max_out, vae_error *err);

/* Compress n bytes into a zlib stream (fixed-Huffman DEFLATE with hash-chain LZ77, falling back to
 * stored blocks when that is smaller). On failure (VAE_ERR_OOM, VAE_ERR_NULL) outputs are
 * unchanged. */
VAE_API vae_status vae_zlib_compress(const uint8_t *in, size_t n, uint8_t **out, size_t *out_len,
                                     vae_error *err);

/* Read the whole file `path` into a malloc'd buffer; a file that starts with the gzip magic 1f 8b
 * is gunzipped transparently. The (decompressed) size may not exceed max_len (0 = 1 GiB). On
 * failure returns VAE_ERR_IO (open or read failed), VAE_ERR_OOM (too large) or a vae_gunzip error,
 * with a message naming the path; outputs unchanged. */
VAE_API vae_status vae_read_file(const char *path, uint8_t **data, size_t *len, size_t max_len,
                                 vae_error *err);

#endif
