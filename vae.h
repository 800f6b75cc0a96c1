/* vae.h - umbrella header: include this one file to use the whole library.
 *
 * Errors: the library never prints, exits or aborts; every failure is reported to the caller through exactly one
 * channel, chosen by the call's arguments:
 *   - A call that takes a context (vae_ctx *) reports into the context: an expression builder (vae_add,
 *     vae_net_encode, vae_objective_build, ...) returns NULL, a statement (vae_backward, vae_evaluate,
 *     vae_study_run, ...) returns the status, and in both cases the first error sticks in the context with a message
 *     naming the op and the shapes: read it with vae_ctx_status(ctx) and vae_ctx_error(ctx)->msg. A NULL input gives
 *     NULL quietly, so a whole expression is checked once at the end.
 *   - A call without a context (file formats, data sets, parameter stores, checkpoints, models, registries) takes a
 *     vae_error * and/or returns a vae_status: the code is returned and the message is stored in the vae_error
 *     (which may be NULL when only the code matters).
 * In both cases a failed call leaves its outputs unchanged; each function's header comment says what it does on
 * failure. Only functions declared VAE_API are exported from libvae.so. */
#ifndef VAE_H
#define VAE_H
#include "tensor/error.h"
#include "tensor/rng.h"
#include "tensor/strbuf.h"
#include "tensor/arena.h"
#include "tensor/tensor.h"
#include "tensor/view.h"
#include "tensor/crc32.h"
#include "tensor/npy.h"
#include "tensor/atomic_file.h"
#include "tensor/gemm.h"
#include "tensor/io/inflate.h"
#include "tensor/io/idx.h"
#include "tensor/io/amat.h"
#include "tensor/io/csv.h"
#include "tensor/io/png.h"
#include "autograd/context.h"
#include "autograd/op_table.h"
#include "autograd/ops.h"
#include "autograd/gradcheck.h"
#include "autograd/profile.h"
#include "tensor/cpu.h"
#include "tensor/threadpool.h"
#include "nn/params.h"
#include "nn/init.h"
#include "nn/linear.h"
#include "nn/mlp.h"
#include "nn/conv.h"
#include "nn/optim.h"
#include "nn/schedule.h"
#include "nn/checkpoint.h"
#include "nn/export.h"
#include "nn/dataset.h"
#include "nn/sprites.h"
#include "models/dist.h"
#include "models/dist_builtin.h"
#include "models/kl.h"
#include "models/likelihood.h"
#include "models/plugin.h"
#include "models/vae_net.h"
#include "models/bayes_decoder.h"
#include "models/estimators.h"
#include "models/flow_prior.h"
#include "models/discrete.h"
#include "models/model.h"
#include "models/objective.h"
#include "models/eval.h"
#include "models/study.h"
#include "models/mig.h"
#endif
