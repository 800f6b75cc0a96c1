/* run.h - a trained run: its directory, its checkpoint, the configuration stored in it and the
 * model rebuilt from it.
 *
 * Output directory of `vae train` (see the README): checkpoint.vae, log.jsonl, pictures. Every
 * other subcommand opens a run with --run DIR (DIR/checkpoint.vae) or --checkpoint FILE.
 */
#ifndef VAE_CLI_RUN_H
#define VAE_CLI_RUN_H

#include <stddef.h>

#include "models/vae_net.h"
#include "run_config.h"

#define RUN_PATH_MAX   4096
#define RUN_CHECKPOINT "checkpoint.vae"

typedef struct run {
    char dir[RUN_PATH_MAX];  /* the run directory ("." when opened by --checkpoint with no directory
                                part) */
    char ckpt[RUN_PATH_MAX]; /* the checkpoint file */
    run_config cfg;
    vae_net net;
} run;

/* Build "dir/name" into out; -1 (with a reason in msg) when it does not fit. */
int path_join(char *out, size_t outlen, const char *dir, const char *name, char *msg,
              size_t msglen);
/* mkdir -p; 0 or -1 with the reason in msg. */
int make_dirs(const char *path, char *msg, size_t msglen);
int file_exists(const char *path);
/* Replace path with the len bytes at data, atomically (vae_write_file_atomic); 0, or -1 with the
 * reason in msg and path untouched. */
int write_file(const char *path, const void *data, size_t len, char *msg, size_t msglen);

/* Build the model for cfg (weights initialized from cfg->seed). 0, or -1 with the reason in msg
 * (net zeroed). */
int run_build_net(const run_config *cfg, vae_net *net, char *msg, size_t msglen);

/* Open a run: exactly one of run_dir / checkpoint is non-NULL. Reads and validates the checkpoint,
 * parses its configuration, builds the model and loads the weights. 0, or -1 with a one-line reason
 * in msg (r zeroed). */
int run_open(const char *run_dir, const char *checkpoint, run *r, char *msg, size_t msglen);
void run_close(run *r);

/* One writer per run directory: an advisory fcntl lock on DIR/RUN_LOCK held by `vae train` for the whole run
 * (the kernel drops it when the process ends, however it ends). */
#define RUN_LOCK "train.lock"
typedef struct run_lock {
    int fd;   /* -1 when not held */
    int made; /* 1 when run_lock_take created the directory */
    char dir[RUN_PATH_MAX];
} run_lock;

/* Take the lock of run directory `dir` (created first, with its parents, when `create` is 1): 0, or -1 with a
 * one-line reason in msg, naming the process that holds it ("... is in use by process 1234 ..."). Once held,
 * stale temporary files of a killed save ("<name>.tmp-<pid>-<n>" of a process that no longer runs) are
 * removed from the directory. */
int run_lock_take(run_lock *lk, const char *dir, int create, char *msg, size_t msglen);
/* Release the lock; with `failed` set and a directory that run_lock_take created, remove the lock file and the
 * directory again when nothing else was written into it. Harmless when not held. */
void run_lock_release(run_lock *lk, int failed);

#endif
