#include "options.h"

#include "applies.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vae %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'vae %s --help' for more information.\n", cmd);
    va_end(ap);
    return CLI_PARSE_ERROR;
}

cli_opt *cli_find(cli_opt *opts, int nopts, const char *name) {
    for (int i = 0; i < nopts; i++)
        if (strcmp(opts[i].name, name) == 0) return &opts[i];
    return NULL;
}

int cli_seen(cli_opt *opts, int nopts, const char *name) {
    cli_opt *o = cli_find(opts, nopts, name);
    return o && o->seen;
}

/* 1 when `s` is exactly one of the '|'-separated words of `choices`. */
static int choice_ok(const char *choices, const char *s) {
    size_t n = strlen(s);
    const char *p = choices;
    while (*p) {
        const char *e = strchr(p, '|');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, s, n) == 0) return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

static int parse_int(const char *s, int64_t *v) {
    if (!*s) return 0;
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || *end) return 0;
    *v = (int64_t)x;
    return 1;
}

static int parse_real(const char *s, double *v) {
    if (!*s) return 0;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (*end || !isfinite(x)) return 0;
    *v = x;
    return 1;
}

static int set_value(const char *cmd, cli_opt *o, const char *val) {
    switch (o->kind) {
    case CLI_OPT_INT: {
        int64_t v;
        if (!parse_int(val, &v))
            return cli_usage_error(cmd, "--%s: \"%s\" is not an integer", o->name, val);
        if ((double)v < o->min || (double)v > o->max)
            return cli_usage_error(cmd, "--%s: %s is out of range (%.0f..%.0f)", o->name, val,
                                   o->min, o->max);
        *(int64_t *)o->dst = v;
        break;
    }
    case CLI_OPT_REAL: {
        double v;
        if (!parse_real(val, &v))
            return cli_usage_error(cmd, "--%s: \"%s\" is not a finite number", o->name, val);
        if (v < o->min || v > o->max)
            return cli_usage_error(cmd, "--%s: %s is out of range (%g..%g)", o->name, val, o->min,
                                   o->max);
        *(double *)o->dst = v;
        break;
    }
    case CLI_OPT_CHOICE:
        if (!choice_ok(o->choices, val))
            return cli_usage_error(cmd, "--%s: \"%s\" is not one of %s", o->name, val, o->choices);
        *(const char **)o->dst = val;
        break;
    case CLI_OPT_STR:
        if (!*val) return cli_usage_error(cmd, "--%s: empty value", o->name);
        *(const char **)o->dst = val;
        break;
    case CLI_OPT_FLAG:
        *(int *)o->dst = 1;
        break;
    }
    o->seen = 1;
    return CLI_PARSE_OK;
}

static void print_help(const char *cmd, const cli_opt *opts, int nopts, const char *usage,
                       const char *about) {
    printf("Usage: vae %s %s\n", cmd, usage ? usage : "[OPTIONS]");
    if (about) printf("%s\n", about);
    printf("\nOptions:\n");
    for (int i = 0; i < nopts; i++) {
        char left[64];
        const char *mv = opts[i].kind == CLI_OPT_FLAG ? NULL
                         : opts[i].metavar            ? opts[i].metavar
                                                      : "VALUE";
        snprintf(left, sizeof left, "--%s%s%s", opts[i].name, mv ? " " : "", mv ? mv : "");
        if (strlen(left) <= 24)
            printf("  %-24s %s\n", left, opts[i].help);
        else
            printf("  %s\n  %-24s %s\n", left, "", opts[i].help);
        if (opts[i].kind == CLI_OPT_CHOICE && !strstr(opts[i].help, opts[i].choices))
            printf("  %-24s one of: %s\n", "", opts[i].choices);
        char where[512]; /* the rows of the options table (applies.c) about this option */
        cli_applies_help(cmd, opts[i].name, where, sizeof where);
        if (where[0]) printf("  %-24s [%s]\n", "", where);
    }
    printf("  %-24s %s\n", "-h, --help", "show this help and exit");
}

int cli_parse(const char *cmd, int argc, char **argv, cli_opt *opts, int nopts, const char *usage,
              const char *about) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_help(cmd, opts, nopts, usage, about);
            return CLI_PARSE_HELP;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
            return cli_usage_error(cmd, "unexpected argument \"%s\" (options start with --)", a);
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        cli_opt *o = NULL;
        for (int k = 0; k < nopts; k++)
            if (strlen(opts[k].name) == len && strncmp(opts[k].name, name, len) == 0) o = &opts[k];
        if (!o)
            return cli_usage_error(cmd, "unknown option \"--%.*s\"", (int)(len < 64 ? len : 64),
                                   name);
        const char *val;
        if (o->kind == CLI_OPT_FLAG) {
            if (eq) return cli_usage_error(cmd, "--%s takes no value", o->name);
            val = "1";
        } else if (eq) {
            val = eq + 1;
        } else {
            if (i + 1 >= argc)
                return cli_usage_error(cmd, "--%s needs a value (%s)", o->name, o->metavar);
            val = argv[++i];
        }
        int r = set_value(cmd, o, val);
        if (r) return r;
    }
    /* every option given must act: the rows of the options table that the command line alone decides */
    return cli_applies_check(cmd, opts, nopts, NULL);
}

int cli_parse_int_list(const char *s, int64_t *out, int max, int64_t lo, int64_t hi) {
    int n = 0;
    const char *p = s;
    if (!s || !*s) return -1;
    for (;;) {
        char *end;
        errno = 0;
        if (*p < '0' || *p > '9') return -1; /* no signs, spaces or empty items */
        long long v = strtoll(p, &end, 10);
        if (errno || end == p || v < lo || v > hi || n >= max) return -1;
        out[n++] = (int64_t)v;
        if (*end == '\0') return n;
        if (*end != ',') return -1;
        p = end + 1;
    }
}

int cli_parse_real_list(const char *s, double *out, int max) {
    int n = 0;
    const char *p = s;
    if (!s || !*s) return -1;
    for (;;) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || !isfinite(v) || n >= max) return -1;
        out[n++] = v;
        if (*end == '\0') return n;
        if (*end != ',') return -1;
        p = end + 1;
    }
}
