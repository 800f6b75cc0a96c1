/* csv.h - CSV files of real-valued measurements.
 *
 * Comma-separated cells with optional spaces or tabs around them; LF or CRLF line ends; blank lines
 * skipped. The first row is a header when any of its cells is not a number (a header cell may be
 * wrapped in double quotes; quoted commas are not supported). Every data cell must be a finite
 * number in C-locale strtod syntax; every row must have the same number of cells. Errors name the
 * file, line and column: `csv: data.csv:17:3: "abc" is not a number`.
 */
#ifndef VAE_TENSOR_IO_CSV_H
#define VAE_TENSOR_IO_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "tensor/error.h"

typedef struct vae_csv {
    int64_t rows, cols;
    double *data;  /* (rows, cols) row-major, malloc'd */
    char **header; /* (cols) column names, or NULL when the file has no header row */
} vae_csv;

/* Parse `len` bytes of CSV text; `name` is used in messages. Errors, all VAE_ERR_FORMAT with
 * "NAME:LINE:COL": a cell that is not a number, an empty cell, NaN or infinity (or a value out of
 * double range), a row with a different cell count (ragged), a NUL byte, no data rows (empty file
 * or header only); VAE_ERR_OOM. `out` is unchanged on failure. */
VAE_API vae_status vae_csv_parse(const char *text, size_t len, const char *name, vae_csv *out,
                                 vae_error *err);

/* Read a CSV file (gunzipped when it starts with 1f 8b) and parse it as vae_csv_parse does; a
 * missing file gives VAE_ERR_IO. `out` is unchanged on failure. */
VAE_API vae_status vae_csv_read(const char *path, vae_csv *out, vae_error *err);

/* Release data and header and zero the struct. NULL is harmless. */
VAE_API void vae_csv_free(vae_csv *c);

#endif
