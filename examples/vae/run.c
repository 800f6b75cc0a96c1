#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn/checkpoint.h"
#include "tensor/atomic_file.h"

int path_join(char *out, size_t outlen, const char *dir, const char *name, char *msg,
              size_t msglen) {
    int k = snprintf(out, outlen, "%s/%s", dir, name);
    if (k < 0 || (size_t)k >= outlen) {
        snprintf(msg, msglen, "path too long: %.60s...", dir);
        return -1;
    }
    return 0;
}

int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int write_file(const char *path, const void *data, size_t len, char *msg, size_t msglen) {
    vae_error err = {0};
    if (vae_write_file_atomic(path, data, len, &err) == VAE_OK) return 0;
    snprintf(msg, msglen, "%s", err.msg);
    return -1;
}

int make_dirs(const char *path, char *msg, size_t msglen) {
    char buf[RUN_PATH_MAX];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf) {
        snprintf(msg, msglen, "bad directory name");
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            snprintf(msg, msglen, "cannot create directory %s: %s", buf, strerror(errno));
            return -1;
        }
        buf[i] = c;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(msg, msglen, "%s is not a directory", path);
        return -1;
    }
    return 0;
}

int run_build_net(const run_config *cfg, vae_net *net, char *msg, size_t msglen) {
    vae_net_cfg nc;
    run_config_net_cfg(cfg, &nc);
    vae_rng rng;
    vae_rng_seed(&rng, (uint64_t)cfg->seed);
    vae_error err = {0};
    if (vae_net_init(net, &nc, &rng, &err)) {
        snprintf(msg, msglen, "%s", err.msg);
        return -1;
    }
    return 0;
}

int run_open(const char *run_dir, const char *checkpoint, run *r, char *msg, size_t msglen) {
    memset(r, 0, sizeof *r);
    run_config_default(&r->cfg);
    if (run_dir) {
        if (snprintf(r->dir, sizeof r->dir, "%s", run_dir) >= (int)sizeof r->dir ||
            path_join(r->ckpt, sizeof r->ckpt, run_dir, RUN_CHECKPOINT, msg, msglen)) {
            snprintf(msg, msglen, "path too long");
            return -1;
        }
    } else {
        if (snprintf(r->ckpt, sizeof r->ckpt, "%s", checkpoint) >= (int)sizeof r->ckpt) {
            snprintf(msg, msglen, "path too long");
            return -1;
        }
        const char *slash = strrchr(checkpoint, '/');
        if (slash)
            snprintf(r->dir, sizeof r->dir, "%.*s", (int)(slash - checkpoint), checkpoint);
        else
            snprintf(r->dir, sizeof r->dir, ".");
        if (!r->dir[0]) snprintf(r->dir, sizeof r->dir, "/");
    }
    vae_error err = {0};
    void *meta = NULL;
    size_t meta_len = 0;
    if (!file_exists(r->ckpt)) {
        snprintf(msg, msglen, "%s: no such file%s", r->ckpt,
                 run_dir ? " (is --run the output directory of vae train?)" : "");
        return -1;
    }
    if (vae_checkpoint_read_info(r->ckpt, NULL, &meta, &meta_len, &err)) {
        snprintf(msg, msglen, "%s", err.msg);
        return -1;
    }
    char why[512];
    if (run_config_load_plugins(meta, meta_len, why, sizeof why)) {
        free(meta);
        snprintf(msg, msglen, "%s: %s", r->ckpt, why);
        return -1;
    }
    int rc = run_config_from_text(meta, meta_len, &r->cfg, why, sizeof why);
    free(meta);
    if (rc) {
        snprintf(msg, msglen, "%s: not a vae run checkpoint: %s", r->ckpt, why);
        return -1;
    }
    if (r->cfg.x_dim < 1) {
        snprintf(msg, msglen, "%s: the run configuration has no feature count", r->ckpt);
        run_config_free(&r->cfg);
        return -1;
    }
    if (run_build_net(&r->cfg, &r->net, msg, msglen)) {
        run_config_free(&r->cfg);
        return -1;
    }
    if (vae_checkpoint_load(r->ckpt, r->net.params, NULL, NULL, NULL, &err)) {
        snprintf(msg, msglen, "%s", err.msg);
        run_close(r);
        return -1;
    }
    return 0;
}

void run_close(run *r) {
    vae_net_free(&r->net);
    run_config_free(&r->cfg);
}

/* "<name>.tmp-<pid>-<n>" of a process that is gone: left by a save killed between create and rename. */
static int stale_tmp(const char *name) {
    const char *t = strstr(name, ".tmp-");
    if (!t) return 0;
    char *e = NULL;
    long pid = strtol(t + 5, &e, 10);
    if (pid <= 0 || *e != '-' || e[1] < '0' || e[1] > '9') return 0;
    for (e++; *e; e++)
        if (*e < '0' || *e > '9') return 0;
    if (pid == (long)getpid()) return 0;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static void clean_stale_tmp(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    char path[RUN_PATH_MAX + 256], msg[128];
    while ((de = readdir(d)))
        if (stale_tmp(de->d_name) &&
            path_join(path, sizeof path, dir, de->d_name, msg, sizeof msg) == 0)
            unlink(path);
    closedir(d);
}

int run_lock_take(run_lock *lk, const char *dir, int create, char *msg, size_t msglen) {
    lk->fd = -1;
    lk->made = 0;
    if (snprintf(lk->dir, sizeof lk->dir, "%s", dir) >= (int)sizeof lk->dir) {
        snprintf(msg, msglen, "path too long: %.60s...", dir);
        return -1;
    }
    struct stat st;
    if (create && stat(dir, &st) != 0) {
        if (make_dirs(dir, msg, msglen)) return -1;
        lk->made = 1;
    }
    char path[RUN_PATH_MAX];
    if (path_join(path, sizeof path, dir, RUN_LOCK, msg, msglen)) return -1;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0) {
        snprintf(msg, msglen, "cannot open the run lock %s: %s", path, strerror(errno));
        return -1;
    }
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) != 0) {
        int e = errno;
        struct flock who;
        memset(&who, 0, sizeof who);
        who.l_type = F_WRLCK;
        who.l_whence = SEEK_SET;
        if ((e == EACCES || e == EAGAIN) && fcntl(fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK)
            snprintf(msg, msglen,
                     "%s is in use by process %ld (another vae train writes this run); wait for it "
                     "to finish or choose another --out",
                     dir, (long)who.l_pid);
        else
            snprintf(msg, msglen, "cannot lock %s: %s", path, strerror(e));
        close(fd);
        return -1;
    }
    /* for people: who holds it (the lock itself is what counts) */
    char pid[32];
    int k = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0 && write(fd, pid, (size_t)k) != k) { /* informational only */
    }
    lk->fd = fd;
    clean_stale_tmp(dir);
    return 0;
}

void run_lock_release(run_lock *lk, int failed) {
    if (lk->fd < 0) return;
    if (failed && lk->made) {
        char path[RUN_PATH_MAX], msg[128];
        if (path_join(path, sizeof path, lk->dir, RUN_LOCK, msg, sizeof msg) == 0) unlink(path);
        (void)rmdir(lk->dir); /* only succeeds when empty */
    }
    close(lk->fd);
    lk->fd = -1;
}
