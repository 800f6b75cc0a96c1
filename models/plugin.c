/* Loading plugins: dlopen + dlsym + a call of the entry point (see plugin.h). */
#define _XOPEN_SOURCE 700 /* realpath */
#include "models/plugin.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PLUGINS 64

/* What is loaded: the dlopen handle (to spot the same file under another path) and its path. */
static void *handles[MAX_PLUGINS];
static char paths[MAX_PLUGINS][VAE_PLUGIN_PATH_MAX];
static int nloaded;

vae_status vae_plugin_load(const char *path, vae_error *err) {
    if (!path || !path[0]) return vae_error_set(err, VAE_ERR_NULL, "plugin: no path given");
    char abs[PATH_MAX];
    if (!realpath(path, abs))
        return vae_error_set(err, VAE_ERR_IO, "plugin %s: %s", path, strerror(errno));
    if (strlen(abs) >= VAE_PLUGIN_PATH_MAX)
        return vae_error_set(err, VAE_ERR_ARG, "plugin %s: path longer than %d bytes", path,
                             VAE_PLUGIN_PATH_MAX - 1);
    dlerror();
    void *h = dlopen(abs, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        return vae_error_set(err, VAE_ERR_IO, "plugin %s: cannot load: %s", path,
                             why ? why : "unknown reason");
    }
    for (int i = 0; i < nloaded; i++)
        if (handles[i] == h) {
            dlclose(h); /* drop the extra reference; already initialized */
            return VAE_OK;
        }
    if (nloaded == MAX_PLUGINS) {
        dlclose(h);
        return vae_error_set(err, VAE_ERR_OOM, "plugin %s: %d plugins are loaded already", path,
                             MAX_PLUGINS);
    }
    /* ISO C has no conversion from void * to a function pointer; POSIX guarantees this one */
    vae_plugin_init_fn init;
    void *sym = dlsym(h, VAE_PLUGIN_INIT_NAME);
    memcpy(&init, &sym, sizeof init);
    if (!sym) {
        dlclose(h);
        return vae_error_set(err, VAE_ERR_FORMAT,
                             "plugin %s: no entry point %s() (see models/plugin.h)", path,
                             VAE_PLUGIN_INIT_NAME);
    }
    /* kept loaded from here on: the init may register descriptors that live in the object */
    handles[nloaded] = h;
    memcpy(paths[nloaded], abs, strlen(abs) + 1);
    nloaded++;
    vae_error e = {0};
    vae_status s = init(&e);
    if (s != VAE_OK)
        return vae_error_set(err, s, "plugin %s: %s() failed: %s", path, VAE_PLUGIN_INIT_NAME,
                             e.msg[0] ? e.msg : vae_status_name(s));
    return VAE_OK;
}

int vae_plugin_list(const char **out, int max) {
    for (int i = 0; out && i < max && i < nloaded; i++) out[i] = paths[i];
    return nloaded;
}
