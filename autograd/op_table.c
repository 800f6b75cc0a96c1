#include "internal.h"

static const char *const op_names[] = {
#define VAE_X_NAME(e, name, arity, bw) name,
    VAE_OPS(VAE_X_NAME)
#undef VAE_X_NAME
};
static const int op_arity[] = {
#define VAE_X_AR(e, name, arity, bw) arity,
    VAE_OPS(VAE_X_AR)
#undef VAE_X_AR
};
const vae__backward_fn vae__backward_table[] = {
#define VAE_X_BW(e, name, arity, bw) vae__bw_##bw,
    VAE_OPS(VAE_X_BW)
#undef VAE_X_BW
};

_Static_assert(sizeof op_names / sizeof op_names[0] == VAE_OP_COUNT_, "op name table out of sync");
_Static_assert(sizeof op_arity / sizeof op_arity[0] == VAE_OP_COUNT_, "op arity table out of sync");
_Static_assert(sizeof vae__backward_table / sizeof vae__backward_table[0] == VAE_OP_COUNT_,
               "op backward table out of sync");

const char *vae_op_name(int op) {
    return (op >= 0 && op < VAE_OP_COUNT_) ? op_names[op] : "?";
}
int vae_op_arity(int op) {
    return (op >= 0 && op < VAE_OP_COUNT_) ? op_arity[op] : 0;
}
