/* Broken plugins for test_plugin.sh: built with -DFAIL_INIT its entry point fails with a message;
 * built without, it has no entry point at all. */
#include "vae.h"

#ifdef FAIL_INIT
VAE_API vae_status VAE_PLUGIN_INIT(vae_error *err) {
    return vae_error_set(err, VAE_ERR_ARG, "this plugin refuses to start");
}
#else
VAE_API int not_an_entry_point(void);
VAE_API int not_an_entry_point(void) {
    return 42;
}
#endif
