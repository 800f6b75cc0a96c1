/* vae.h - umbrella header: include this one file to use the whole library. */
#ifndef VAE_H
#define VAE_H
#include "tensor/error.h"
#include "tensor/rng.h"
#include "tensor/cpu.h"
#include "tensor/threadpool.h"
#include "tensor/gemm.h"
#endif
