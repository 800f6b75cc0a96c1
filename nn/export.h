/* export.h - every parameter as a NumPy .npy file, for analysis outside the library.
 *
 * Parameter `name` goes to DIR/<safe>.npy, where <safe> is the name with every byte outside [A-Za-z0-9._-] replaced
 * by '_' and a leading '.' replaced by '_' (no hidden files, no "..", no path separators): "enc.0.weight" stays
 * "enc.0.weight.npy". Arrays keep the parameter's shape and dtype ('<f4' or '<f8'), C order.
 */
#ifndef VAE_EXPORT_H
#define VAE_EXPORT_H

#include <stddef.h>

#include "nn/params.h"

/* Write the file-system-safe form of `name` (rules above) into buf of size n (always NUL-terminated when n > 0;
 * longer names are cut). Never fails. */
VAE_API void vae_export_safe_name(const char *name, char *buf, size_t n);

/* Write every parameter of p to DIR/<safe name>.npy, creating DIR (one level) when missing; each file is written
 * atomically. Fails with VAE_ERR_ARG before writing anything when two names map to the same file, VAE_ERR_IO when
 * DIR cannot be created or a file cannot be written (files written before the failure stay), VAE_ERR_NULL. */
VAE_API vae_status vae_params_export_npy(const vae_params *p, const char *dir, vae_error *err);

#endif
