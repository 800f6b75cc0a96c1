/* cli_check - small checks for tests/test_cli.sh, so the shell test needs no Python:
 *   cli_check png FILE...          every file decodes with the project's PNG reader
 *   cli_check npy FILE             print the array's shape as "d0,d1,..."
 *   cli_check json FILE            every line is one valid JSON object; print the line count
 *   cli_check keys FILE KEY...     the last line of FILE (a JSON object) has every KEY as a member
 *   cli_check num FILE LINE KEY    print member KEY of line LINE (1-based) of FILE as %.17g
 *   cli_check mig                  MIG self-test: 1 for a disentangled code, 0 for an entangled one
 *   cli_check legacy               run configurations from before --objective (model, samples, beta,
 *                                  ... and no objective key) load, and map onto the same objective
 *   cli_check setcfg FILE KEY VAL  rewrite line KEY of the run configuration in checkpoint FILE as
 *                                  "KEY VAL", with the length and both CRCs recomputed (a CRC-valid
 *                                  checkpoint that claims something impossible)
 *   cli_check config FILE          the run configuration in checkpoint FILE parses; 3000 mutations
 * of it (byte flips, cuts, dropped and duplicated lines, huge numbers) are each accepted or
 * rejected with a message, never crash (run under ASan/UBSan in CI) Exit 0 when the check passes, 1
 * otherwise (with a message on stderr).
 */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/io/png.h"
#include "examples/vae/json.h"
#include "models/mig.h"
#include "examples/vae/run_config.h"
#include "nn/checkpoint.h"
#include "tensor/crc32.h"
#include "tensor/npy.h"

/* ---- a strict JSON recognizer (RFC 8259 grammar, no semantic checks) ---- */
static const char *ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    return p;
}
static const char *value(const char *p, int depth);
static const char *string(const char *p) {
    if (*p != '"') return NULL;
    for (p++; *p != '"'; p++) {
        if ((unsigned char)*p < 0x20) return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!isxdigit((unsigned char)p[i])) return NULL;
                p += 4;
            } else if (!strchr("\"\\/bfnrt", *p) || !*p)
                return NULL;
        }
    }
    return p + 1;
}
static const char *number(const char *p) {
    if (*p == '-') p++;
    if (!isdigit((unsigned char)*p)) return NULL;
    if (*p == '0')
        p++;
    else
        while (isdigit((unsigned char)*p)) p++;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p)) return NULL;
        while (isdigit((unsigned char)*p)) p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!isdigit((unsigned char)*p)) return NULL;
        while (isdigit((unsigned char)*p)) p++;
    }
    return p;
}
static const char *container(const char *p, int depth, char close, int object) {
    p = ws(p + 1);
    if (*p == close) return p + 1;
    for (;;) {
        if (object) {
            p = string(p);
            if (!p) return NULL;
            p = ws(p);
            if (*p != ':') return NULL;
            p = ws(p + 1);
        }
        p = value(p, depth + 1);
        if (!p) return NULL;
        p = ws(p);
        if (*p == close) return p + 1;
        if (*p != ',') return NULL;
        p = ws(p + 1);
    }
}
static const char *value(const char *p, int depth) {
    if (depth > 64) return NULL;
    p = ws(p);
    switch (*p) {
    case '{':
        return container(p, depth, '}', 1);
    case '[':
        return container(p, depth, ']', 0);
    case '"':
        return string(p);
    case 't':
        return strncmp(p, "true", 4) ? NULL : p + 4;
    case 'f':
        return strncmp(p, "false", 5) ? NULL : p + 5;
    case 'n':
        return strncmp(p, "null", 4) ? NULL : p + 4;
    default:
        return number(p);
    }
}
static int is_json_object(const char *line) {
    const char *p = ws(line);
    if (*p != '{') return 0;
    p = value(p, 0);
    return p && *ws(p) == '\0';
}

static char *read_line(FILE *f) {
    size_t cap = 1024, len = 0;
    char *b = malloc(cap);
    int c;
    if (!b) return NULL;
    while ((c = fgetc(f)) != EOF && c != '\n') {
        if (len + 2 > cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) {
                free(b);
                return NULL;
            }
            b = nb;
        }
        b[len++] = (char)c;
    }
    if (c == EOF && len == 0) {
        free(b);
        return NULL;
    }
    b[len] = '\0';
    return b;
}

/* Line `want` (1-based; 0 = last) of a file, malloc'd. */
static char *nth_line(const char *path, int want) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *line, *keep = NULL;
    for (int i = 1; (line = read_line(f)); i++) {
        if (want == 0 || i == want) {
            free(keep);
            keep = line;
            if (want) break;
        } else
            free(line);
    }
    fclose(f);
    return keep;
}

static int mig_selftest(void) {
    enum { N = 2000, Z = 3, NF = 2 };
    static float mu[N * Z];
    static int64_t fac[N * NF];
    int64_t sizes[NF] = {4, 5};
    for (int i = 0; i < N; i++) {
        fac[i * NF] = i % 4, fac[i * NF + 1] = (i / 4) % 5;
        mu[i * Z] = (float)fac[i * NF], mu[i * Z + 1] = (float)fac[i * NF + 1],
               mu[i * Z + 2] = 0.5f;
    }
    double m1, m2;
    if (vae_mig(mu, N, Z, fac, NF, sizes, 20, NULL, &m1, NULL)) return 1;
    for (int i = 0; i < N; i++)
        mu[i * Z + 2] = mu[i * Z]; /* a second latent copies factor 0: its gap closes */
    double per[NF];
    if (vae_mig(mu, N, Z, fac, NF, sizes, 20, per, &m2, NULL)) return 1;
    printf("mig disentangled %.4f, duplicated %.4f (factor 0 %.4f, factor 1 %.4f)\n", m1, m2,
           per[0], per[1]);
    return fabs(m1 - 1) < 1e-9 && fabs(per[0]) < 1e-9 && fabs(per[1] - 1) < 1e-9 ? 0 : 1;
}

/* Text of run configurations written before the objective spec existed, and the spec each must load as. */
static int legacy_configs(void) {
    static const char *const cases[][2] = {
        {"model iwae\nsamples 7\nestimator dreg\n", "iwae:k=7"},
        {"model vae\nsamples 2\nmc_kl 1\n", "vae:l=2,mc-kl=1"},
        {"model vae\n", "vae"},
        {"model beta-vae\nbeta 4\nkl_warmup 100\n", "beta-vae:beta=4,warmup=100"},
        {"model beta-vae\ncap_gamma 1000\ncap_max 25\ncap_steps 100000\n",
         "beta-vae:gamma=1000,cmax=25,csteps=100000"},
        {"model vae\nfree_bits 0.5\n", "beta-vae:free-bits=0.5"}, /* the old vae kind honoured it */
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[512], msg[320], spec[256];
        snprintf(text, sizeof text, "vae-run 1\ndata sprites\n%s", cases[i][0]);
        run_config c;
        vae_objective_cfg o;
        if (run_config_from_text(text, strlen(text), &c, msg, sizeof msg) ||
            run_config_objective(&c, 0, &o, msg, sizeof msg)) {
            fprintf(stderr, "cli_check: legacy case %zu: %s\n", i, msg);
            bad = 1;
            continue;
        }
        vae_objective_spec(&o, spec, sizeof spec);
        if (strcmp(spec, cases[i][1]) != 0) {
            fprintf(stderr, "cli_check: legacy case %zu: %s, expected %s\n", i, spec, cases[i][1]);
            bad = 1;
        }
        /* written again, the configuration carries the spec and not the legacy keys */
        char *out;
        size_t len;
        run_config d;
        vae_rng_seed(&c.rng_ctx, 1); /* a saved run always has generator states */
        vae_rng_seed(&c.rng_data, 2);
        msg[0] = 0;
        if (run_config_to_text(&c, &out, &len) == 0) {
            if (strstr(out, "\nsamples ") || run_config_from_text(out, len, &d, msg, sizeof msg) ||
                strcmp(d.objective, cases[i][1]) != 0) {
                fprintf(stderr, "cli_check: legacy case %zu: rewritten text is wrong: %s\n", i,
                        msg);
                bad = 1;
            }
            run_config_free(&d);
            free(out);
        }
        run_config_free(&c);
    }
    return bad;
}

static int config_fuzz(const char *path) {
    void *meta = NULL;
    size_t len = 0;
    vae_error err = {0};
    if (vae_checkpoint_read_info(path, NULL, &meta, &len, &err)) {
        fprintf(stderr, "cli_check: %s\n", err.msg);
        return 1;
    }
    run_config c;
    char msg[320];
    if (run_config_from_text(meta, len, &c, msg, sizeof msg)) {
        fprintf(stderr, "cli_check: %s\n", msg);
        free(meta);
        return 1;
    }
    run_config_free(&c);
    static const char *const junk[] = {"99999999999999999999",
                                       "-1",
                                       "nan",
                                       "1e400",
                                       "",
                                       " ",
                                       "\n",
                                       ",",
                                       "0x10",
                                       "latent 0\n",
                                       "hidden 1,2,3,4,5,6,7,8,9\n",
                                       "col_mean 1\n",
                                       "vae-run 2\n"};
    vae_rng r;
    vae_rng_seed(&r, 7);
    char *buf = malloc(2 * len + 64);
    int accepted = 0;
    for (int it = 0; it < 3000 && buf; it++) {
        size_t n = len;
        memcpy(buf, meta, len);
        int kind = (int)vae_rng_below(&r, 4);
        if (kind == 0) { /* flip a few bytes */
            for (int k = 0; k < 3; k++) buf[vae_rng_below(&r, n)] = (char)vae_rng_below(&r, 256);
        } else if (kind == 1) { /* cut */
            n = (size_t)vae_rng_below(&r, n + 1);
        } else { /* splice junk over a random position */
            const char *j = junk[vae_rng_below(&r, sizeof junk / sizeof *junk)];
            size_t at = (size_t)vae_rng_below(&r, n), jl = strlen(j);
            if (kind == 3) { /* duplicate a prefix instead */
                size_t take = (size_t)vae_rng_below(&r, n < 64 ? n : 64);
                memmove(buf + at + take, buf + at, n - at);
                memcpy(buf + at, meta, take);
                n += take;
            } else {
                memmove(buf + at + jl, buf + at, n - at);
                memcpy(buf + at, j, jl);
                n += jl;
            }
        }
        msg[0] = '\0';
        if (run_config_from_text(buf, n, &c, msg, sizeof msg) == 0) {
            accepted++;
            run_config_free(&c);
        } else if (!msg[0]) {
            fprintf(stderr, "cli_check: a rejected configuration has no message\n");
            free(buf), free(meta);
            return 1;
        }
    }
    printf("config: %d of 3000 mutations accepted\n", accepted);
    free(buf);
    free(meta);
    return 0;
}

/* ---- setcfg: a checkpoint whose configuration line KEY says VAL, CRCs and length made valid again ---- */
static void put_le(unsigned char *b, uint64_t v, int n) {
    for (int i = 0; i < n; i++) b[i] = (unsigned char)(v >> (8 * i));
}
static uint64_t get_le(const unsigned char *b, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | b[i];
    return v;
}
static int set_config(const char *path, const char *key, const char *val) {
    FILE *f = fopen(path, "rb");
    if (!f) return 1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n), *o = malloc((size_t)n + 256);
    if (!b || !o || n < 132 || fread(b, 1, (size_t)n, f) != (size_t)n) return 1;
    fclose(f);
    size_t m = (size_t)get_le(b + 120, 8), k = strlen(key);
    const char *meta = (const char *)b + 128, *line = NULL;
    for (size_t i = 0; i + k < m; i++)
        if ((i == 0 || meta[i - 1] == '\n') && strncmp(meta + i, key, k) == 0 &&
            meta[i + k] == ' ') {
            line = meta + i;
            break;
        }
    if (!line) {
        fprintf(stderr, "setcfg: no key %s\n", key);
        return 1;
    }
    const char *eol = memchr(line, '\n', m - (size_t)(line - meta));
    size_t pre = (size_t)(line - meta), post = eol ? (size_t)(eol - meta) : m;
    char nl[200];
    int nlen = snprintf(nl, sizeof nl, "%s %s", key, val);
    size_t nm = pre + (size_t)nlen + (m - post), len = (size_t)n - m + nm;
    memcpy(o, b, 128);
    memcpy(o + 128, meta, pre);
    memcpy(o + 128 + pre, nl, (size_t)nlen);
    memcpy(o + 128 + pre + (size_t)nlen, meta + post, m - post);
    memcpy(o + 128 + nm, b + 128 + m, (size_t)n - 128 - m - 4);
    put_le(o + 120, nm, 8);
    put_le(o + 16, len, 8);
    put_le(o + 24, vae_crc32(0, o, 24), 4);
    put_le(o + len - 4, vae_crc32(0, o, len - 4), 4);
    f = fopen(path, "wb");
    int ok = f && fwrite(o, 1, len, f) == len;
    if (f) fclose(f);
    free(b);
    free(o);
    return ok ? 0 : 1;
}

int main(int argc, char **argv) {
    if (argc < 2) return 1;
    const char *cmd = argv[1];
    vae_error err = {0};
    if (strcmp(cmd, "png") == 0) {
        for (int i = 2; i < argc; i++) {
            vae_png_image img = {0};
            if (vae_png_read(argv[i], &img, &err)) {
                fprintf(stderr, "cli_check: %s\n", err.msg);
                return 1;
            }
            vae_png_free(&img);
        }
        return argc > 2 ? 0 : 1;
    }
    if (strcmp(cmd, "npy") == 0 && argc == 3) {
        vae_npy a = {0};
        if (vae_npy_read(argv[2], &a, &err)) {
            fprintf(stderr, "cli_check: %s\n", err.msg);
            return 1;
        }
        for (int k = 0; k < a.ndim; k++) printf("%s%lld", k ? "," : "", (long long)a.shape[k]);
        printf("\n");
        vae_npy_free(&a);
        return 0;
    }
    if (strcmp(cmd, "json") == 0 && argc == 3) {
        FILE *f = fopen(argv[2], "r");
        if (!f) return 1;
        int n = 0, bad = 0;
        char *line;
        while ((line = read_line(f))) {
            n++;
            if (!is_json_object(line)) {
                fprintf(stderr, "cli_check: %s:%d: not a JSON object\n", argv[2], n);
                bad = 1;
            }
            free(line);
        }
        fclose(f);
        printf("%d\n", n);
        return bad || n == 0;
    }
    if (strcmp(cmd, "keys") == 0 && argc >= 3) {
        char *line = nth_line(argv[2], 0);
        if (!line || !is_json_object(line)) {
            fprintf(stderr, "cli_check: %s: last line is not a JSON object\n", argv[2]);
            free(line);
            return 1;
        }
        int bad = 0;
        for (int i = 3; i < argc; i++) {
            char pat[128];
            snprintf(pat, sizeof pat, "\"%s\":", argv[i]);
            if (!strstr(line, pat)) {
                fprintf(stderr, "cli_check: %s: no key \"%s\"\n", argv[2], argv[i]);
                bad = 1;
            }
        }
        free(line);
        return bad;
    }
    if (strcmp(cmd, "num") == 0 && argc == 5) {
        char *line = nth_line(argv[2], atoi(argv[3]));
        double v;
        int ok = line && json_get_num(line, argv[4], &v);
        free(line);
        if (!ok) return 1;
        printf("%.17g\n", v);
        return 0;
    }
    if (strcmp(cmd, "setcfg") == 0 && argc == 5) return set_config(argv[2], argv[3], argv[4]);
    if (strcmp(cmd, "mig") == 0) return mig_selftest();
    if (strcmp(cmd, "config") == 0 && argc == 3) return config_fuzz(argv[2]);
    if (strcmp(cmd, "legacy") == 0 && argc == 2) return legacy_configs();
    fprintf(stderr, "cli_check: bad arguments\n");
    return 1;
}
