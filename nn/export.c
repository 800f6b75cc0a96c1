/* .npy export of a parameter store through tensor/npy.h. */
#include "export.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tensor/npy.h"

void vae_export_safe_name(const char *name, char *buf, size_t n) {
    if (n == 0) return;
    size_t k = 0;
    for (; name && name[k] && k + 1 < n; k++) {
        char c = name[k];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        buf[k] = ok && !(k == 0 && c == '.') ? c : '_';
    }
    buf[k] = 0;
}

vae_status vae_params_export_npy(const vae_params *p, const char *dir, vae_error *err) {
    if (!p || !dir) return vae_error_set(err, VAE_ERR_NULL, "export_npy: NULL argument");
    int n = vae_params_count(p);
    char(*safe)[VAE_PARAMS_MAX_NAME + 1] = malloc(sizeof *safe * (size_t)(n ? n : 1));
    size_t plen = strlen(dir) + VAE_PARAMS_MAX_NAME + 8;
    char *path = malloc(plen);
    vae_status st = VAE_OK;
    if (!safe || !path) {
        st = vae_error_set(err, VAE_ERR_OOM, "export_npy: out of memory");
        goto done;
    }
    for (int i = 0; i < n && !st; i++) {
        vae_export_safe_name(vae_params_get(p, i)->name, safe[i], sizeof safe[i]);
        for (int j = 0; j < i && !st; j++)
            if (strcmp(safe[i], safe[j]) == 0)
                st = vae_error_set(err, VAE_ERR_ARG,
                                   "export_npy: '%s' and '%s' would both be written to %s.npy",
                                   vae_params_get(p, j)->name, vae_params_get(p, i)->name, safe[i]);
    }
    if (st) goto done;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        st = vae_error_set(err, VAE_ERR_IO, "export_npy: cannot create directory '%s': %s", dir,
                           strerror(errno));
        goto done;
    }
    vae_npy_dtype dt = vae_params_dtype(p) == VAE_F64 ? VAE_NPY_F8 : VAE_NPY_F4;
    for (int i = 0; i < n && !st; i++) {
        const vae_tensor *t = vae_params_get(p, i);
        snprintf(path, plen, "%s/%s.npy", dir, safe[i]);
        /* parameters are contiguous views of the value buffer: their memory is already in C order */
        st = vae_npy_write(path, dt, t->ndim, t->shape, vae_tensor_ptr(t), err);
    }
done:
    free(safe);
    free(path);
    return st;
}
