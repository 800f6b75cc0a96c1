#include "error.h"

#include <stdio.h>
#include <string.h>

const char *vae_status_name(vae_status s) {
    static const char *names[VAE_ERR_COUNT_] = {
        "ok",     "shape",   "dtype",   "arg",      "oom", "null",  "io",
        "format", "corrupt", "version", "mismatch", "nan", "state", "unsupported",
    };
    if ((int)s < 0 || s >= VAE_ERR_COUNT_) return "unknown";
    return names[s];
}

vae_status vae_error_setv(vae_error *err, vae_status code, const char *fmt, va_list ap) {
    if (!err || err->code != VAE_OK) return code;
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    return code;
}

vae_status vae_error_set(vae_error *err, vae_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vae_error_setv(err, code, fmt, ap);
    va_end(ap);
    return code;
}

void vae_error_clear(vae_error *err) {
    if (!err) return;
    err->code = VAE_OK;
    err->msg[0] = '\0';
}

char *vae_shape_str(char *buf, int buflen, int ndim, const int64_t *shape) {
    int n = snprintf(buf, (size_t)buflen, "(");
    for (int i = 0; i < ndim && n < buflen; i++)
        n += snprintf(buf + n, (size_t)(buflen - n), i ? ",%lld" : "%lld", (long long)shape[i]);
    if (n < buflen) snprintf(buf + n, (size_t)(buflen - n), "%s", ndim == 1 ? ",)" : ")");
    return buf;
}
