/* The atomic file writer: a commit writes exactly the bytes; abort and every failure (missing
 * directory, target is a directory, unwritable directory, a write error) leave the target as it was
 * and no temporary file behind; a child SIGKILLed mid-write or at random moments leaves the old or
 * the new file at the target, never a mix. */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "tensor/atomic_file.h"

static char dir[64];

static char *path_in(const char *name) {
    static char buf[4][512];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, sizeof buf[0], "%s/%s", dir, name);
    return b;
}

/* Files in `d` whose name holds ".tmp": temporaries a writer left behind. */
static int count_tmp_in(const char *d) {
    DIR *h = opendir(d);
    int k = 0;
    for (struct dirent *e; h && (e = readdir(h));) k += strstr(e->d_name, ".tmp") != NULL;
    if (h) closedir(h);
    return k;
}

static void remove_tmp_in(const char *d) {
    DIR *h = opendir(d);
    char p[600];
    for (struct dirent *e; h && (e = readdir(h));)
        if (strstr(e->d_name, ".tmp")) {
            snprintf(p, sizeof p, "%s/%s", d, e->d_name);
            unlink(p);
        }
    if (h) closedir(h);
}

/* 1 when the file at path holds exactly the n bytes at want. */
static int file_is(const char *path, const void *want, size_t n) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char *got = malloc(n + 1);
    size_t k = got ? fread(got, 1, n + 1, f) : 0;
    fclose(f);
    int same = got && k == n && memcmp(got, want, n) == 0;
    free(got);
    return same;
}

static void put(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_commit(void) {
    vae_error err = {0};
    unsigned char bytes[3000];
    for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (unsigned char)(i * 37 + (i >> 8));
    bytes[5] = 0; /* binary data: a NUL and '\n' bytes must pass unchanged */
    bytes[6] = '\n';
    const char *p = path_in("bin");
    CHECK_MSG(vae_write_file_atomic(p, bytes, sizeof bytes, &err) == VAE_OK, "%s", err.msg);
    CHECK(file_is(p, bytes, sizeof bytes) && count_tmp_in(dir) == 0);
    /* replacing a longer file with a shorter one leaves no tail of the old */
    CHECK(vae_write_file_atomic(p, "abc", 3, &err) == VAE_OK && file_is(p, "abc", 3));
    CHECK(vae_write_file_atomic(p, NULL, 0, &err) == VAE_OK && file_is(p, "", 0));
    CHECK(vae_write_file_atomic(p, NULL, 1, &err) == VAE_ERR_NULL && file_is(p, "", 0));
    vae_error_clear(&err);

    /* streaming through af.f */
    vae_atomic_file af;
    CHECK(vae_atomic_open(&af, p, &err) == VAE_OK && af.f != NULL);
    /* nothing reaches the target before the commit */
    CHECK(count_tmp_in(dir) == 1 && file_is(p, "", 0));
    fprintf(af.f, "x=%d\n", 42);
    fwrite("yz", 1, 2, af.f);
    CHECK(vae_atomic_commit(&af, &err) == VAE_OK && af.f == NULL);
    CHECK(file_is(p, "x=42\nyz", 7) && count_tmp_in(dir) == 0);
    vae_atomic_abort(&af); /* after a commit: harmless, the file stays */
    CHECK(file_is(p, "x=42\nyz", 7));
    CHECK(vae_atomic_commit(&af, &err) == VAE_ERR_STATE); /* nothing open */
    vae_error_clear(&err);

    /* two writers of one target at once get their own temporaries; the last commit wins */
    vae_atomic_file a, b;
    CHECK(vae_atomic_open(&a, p, &err) == VAE_OK && vae_atomic_open(&b, p, &err) == VAE_OK);
    CHECK(a.tmp && b.tmp && strcmp(a.tmp, b.tmp) != 0 && count_tmp_in(dir) == 2);
    fputs("first", a.f);
    fputs("second", b.f);
    CHECK(vae_atomic_commit(&a, &err) == VAE_OK && file_is(p, "first", 5));
    CHECK(vae_atomic_commit(&b, &err) == VAE_OK && file_is(p, "second", 6));
    CHECK(count_tmp_in(dir) == 0);

    /* a relative path: the temporary goes beside it, in the current directory */
    char cwd[512];
    CHECK(getcwd(cwd, sizeof cwd) != NULL && chdir(dir) == 0);
    CHECK(vae_write_file_atomic("rel", "r", 1, &err) == VAE_OK && file_is("rel", "r", 1));
    CHECK(count_tmp_in(".") == 0 && unlink("rel") == 0 && chdir(cwd) == 0);
    unlink(p);
}

static void test_abort(void) {
    vae_error err = {0};
    const char *p = path_in("keep");
    put(p, "old");
    vae_atomic_file af;
    CHECK(vae_atomic_open(&af, p, &err) == VAE_OK);
    fputs("new new new", af.f);
    vae_atomic_abort(&af);
    CHECK(af.f == NULL && af.tmp == NULL && af.path == NULL);
    CHECK(file_is(p, "old", 3) && count_tmp_in(dir) == 0);
    vae_atomic_abort(&af); /* twice */
    vae_atomic_abort(NULL);
    vae_atomic_file zero = {0};
    vae_atomic_abort(&zero);
    CHECK(file_is(p, "old", 3) && err.code == VAE_OK);
    unlink(p);
}

static void test_failures(void) {
    vae_error err = {0};
    vae_atomic_file af;
    /* the target's directory does not exist: nothing is created, *af is zeroed */
    memset(&af, 0x5A, sizeof af);
    CHECK(vae_atomic_open(&af, path_in("no/such/x"), &err) == VAE_ERR_IO);
    CHECK(af.f == NULL && af.tmp == NULL && af.path == NULL);
    CHECK_MSG(strstr(err.msg, "no/such/x") && strstr(err.msg, "No such file"), "%s", err.msg);
    vae_atomic_abort(&af);
    vae_error_clear(&err);
    CHECK(vae_write_file_atomic(path_in("no/such/x"), "a", 1, &err) == VAE_ERR_IO);
    vae_error_clear(&err);

    /* the target is a directory: the rename fails; the directory and its contents stay */
    char d[512], p[512];
    snprintf(d, sizeof d, "%s", path_in("isdir"));
    CHECK(mkdir(d, 0755) == 0);
    put(path_in("isdir/inside"), "in");
    CHECK(vae_write_file_atomic(d, "x", 1, &err) == VAE_ERR_IO);
    CHECK_MSG(strstr(err.msg, "rename onto") && strstr(err.msg, "isdir"), "%s", err.msg);
    struct stat sb;
    CHECK(stat(d, &sb) == 0 && S_ISDIR(sb.st_mode) && file_is(path_in("isdir/inside"), "in", 2));
    CHECK(count_tmp_in(dir) == 0 && count_tmp_in(d) == 0);
    vae_error_clear(&err);

    /* a write error (the descriptor under the stream is gone): reported at commit, target intact */
    snprintf(p, sizeof p, "%s", path_in("target"));
    put(p, "old");
    CHECK(vae_atomic_open(&af, p, &err) == VAE_OK);
    fputs("doomed", af.f);
    close(fileno(af.f));
    CHECK(vae_atomic_commit(&af, &err) == VAE_ERR_IO && af.f == NULL);
    CHECK_MSG(strstr(err.msg, "target") != NULL, "%s", err.msg);
    CHECK(file_is(p, "old", 3) && count_tmp_in(dir) == 0);
    vae_error_clear(&err);

    /* an unwritable directory (root may write anywhere: skipped there) */
    if (geteuid() == 0) {
        printf("unwritable-directory case skipped: running as root\n");
    } else {
        char ro[512], q[512];
        snprintf(ro, sizeof ro, "%s", path_in("ro"));
        snprintf(q, sizeof q, "%s", path_in("ro/f"));
        CHECK(mkdir(ro, 0755) == 0);
        put(q, "old");
        CHECK(chmod(ro, 0555) == 0);
        CHECK(vae_write_file_atomic(q, "new", 3, &err) == VAE_ERR_IO);
        CHECK_MSG(strstr(err.msg, "ro/f") && strstr(err.msg, "denied"), "%s", err.msg);
        CHECK(file_is(q, "old", 3) && count_tmp_in(ro) == 0);
        vae_error_clear(&err);
        chmod(ro, 0755);
        unlink(q);
        rmdir(ro);
    }
    unlink(p);
    unlink(path_in("isdir/inside"));
    rmdir(d);
}

enum { BIG = 8 << 20 };

/* The child's new content: BIG bytes, none equal to the old file's 'o', so a mix is visible. */
static unsigned char *new_content(void) {
    unsigned char *b = malloc(BIG);
    for (size_t i = 0; b && i < BIG; i++) b[i] = (unsigned char)('a' + i % 23);
    return b;
}

static void test_kill(void) {
    vae_error err = {0};
    const char *p = path_in("big");
    unsigned char *old = malloc(BIG / 2), *fresh = new_content();
    CHECK(old && fresh);
    if (!old || !fresh) return;
    memset(old, 'o', BIG / 2);
    CHECK(vae_write_file_atomic(p, old, BIG / 2, &err) == VAE_OK);

    /* Deterministic: the child writes half, tells the parent, and waits to be killed. */
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        vae_atomic_file af;
        if (vae_atomic_open(&af, p, NULL)) _exit(2);
        fwrite(fresh, 1, BIG / 2, af.f);
        fflush(af.f);
        if (write(fds[1], "h", 1) != 1) _exit(3);
        for (;;) pause();
    }
    CHECK(pid > 0);
    char c = 0;
    CHECK(read(fds[0], &c, 1) == 1 && c == 'h');
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    close(fds[0]);
    close(fds[1]);
    CHECK(WIFSIGNALED(status) && file_is(p, old, BIG / 2));
    CHECK(count_tmp_in(dir) == 1); /* a kill is the one way a temporary file survives */
    remove_tmp_in(dir);

    /* At random moments, the fsync and rename included: the old file or the new one, whole. */
    const int delays_us[] = {0, 300, 1000, 3000, 8000, 20000, 50000};
    int olds = 0, news = 0;
    for (size_t i = 0; i < sizeof delays_us / sizeof delays_us[0]; i++) {
        pid = fork();
        if (pid == 0) _exit(vae_write_file_atomic(p, fresh, BIG, NULL) == VAE_OK ? 0 : 1);
        CHECK(pid > 0);
        struct timespec ts = {0, (long)delays_us[i] * 1000};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        int is_old = file_is(p, old, BIG / 2), is_new = file_is(p, fresh, BIG);
        CHECK_MSG(is_old || is_new, "after a kill at %d us the target is neither file",
                  delays_us[i]);
        olds += is_old;
        news += is_new;
        if (is_new) CHECK(vae_write_file_atomic(p, old, BIG / 2, &err) == VAE_OK);
        remove_tmp_in(dir);
    }
    printf("kill test: old file kept %d times, new file complete %d times\n", olds, news);
    unlink(p);
    free(old);
    free(fresh);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/vae_atomic_test_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_commit();
    test_abort();
    test_failures();
    test_kill();
    CHECK(count_tmp_in(dir) == 0);
    CHECK(rmdir(dir) == 0); /* every test cleaned up after itself */
    return test_finish();
}
