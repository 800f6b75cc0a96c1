/* vae.h - umbrella header: include this one file to use the whole library. */
#ifndef VAE_H
#define VAE_H
#include "tensor/error.h"
#include "tensor/rng.h"
#include "tensor/arena.h"
#include "tensor/tensor.h"
#include "tensor/view.h"
#include "tensor/gemm.h"
#include "autograd/context.h"
#include "autograd/op_table.h"
#include "autograd/ops.h"
#include "autograd/gradcheck.h"
#include "models/dist.h"
#include "models/dist_builtin.h"
#include "models/kl.h"
#include "models/likelihood.h"
#endif
