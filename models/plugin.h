/* plugin.h - load a user's shared object that registers likelihoods (and objectives) at run time.
 *
 * The contract. A plugin is a shared object (cc -shared -fPIC $(pkg-config --cflags vae) x.c -o x.so)
 * that defines, with default visibility,
 *
 *     vae_status VAE_PLUGIN_INIT(vae_error *err);      (the symbol "vae_plugin_init")
 *
 * vae_plugin_load calls it once, right after loading the object. The function registers what the
 * plugin offers (vae_likelihood_register, and objectives once that registry exists), returns
 * VAE_OK, or returns an error code with a message in err (vae_error_set) when it cannot. Descriptors
 * it registers are kept by pointer, so they must live in the plugin (statics): the object is never
 * unloaded once its init has been called. The plugin's undefined symbols resolve against the
 * libvae that the host program is linked with; it need not link -lvae itself.
 *
 * Loading the same file twice (by any path) calls its init only the first time. Plugins run the
 * code they contain: load only files you trust. Not thread-safe: load before starting threads.
 */
#ifndef VAE_PLUGIN_H
#define VAE_PLUGIN_H

#include "tensor/error.h"

#define VAE_PLUGIN_INIT      vae_plugin_init
#define VAE_PLUGIN_INIT_NAME "vae_plugin_init"
#define VAE_PLUGIN_PATH_MAX  1024 /* longest plugin path (resolved, absolute) */

/* The type of a plugin's entry point. */
typedef vae_status (*vae_plugin_init_fn)(vae_error *err);

/* A plugin's entry point, declared for its own file: define it as
 *     VAE_API vae_status VAE_PLUGIN_INIT(vae_error *err) { ... } */
VAE_API vae_status VAE_PLUGIN_INIT(vae_error *err);

/* Load the shared object at `path` (resolved to an absolute path first), look up its entry point
 * VAE_PLUGIN_INIT_NAME and call it. Returns VAE_OK (also when this file was loaded before: nothing is
 * done again); VAE_ERR_NULL for a NULL or empty path; VAE_ERR_IO when the file does not exist or
 * cannot be loaded (the message names the path and the loader's reason); VAE_ERR_FORMAT when it has
 * no entry point (the object is unloaded); the init's own code, with its message after the path,
 * when the init fails (the object stays loaded: it may have registered some of its names); VAE_ERR_OOM
 * when 64 plugins are loaded already. */
VAE_API vae_status vae_plugin_load(const char *path, vae_error *err);

/* Store up to max absolute paths of the plugins loaded so far, in load order, in out (may be NULL
 * when max is 0); returns how many are loaded. The strings live until the process ends. */
VAE_API int vae_plugin_list(const char **out, int max);

#endif
