#include "json.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void json_init(json *j) {
    memset(j, 0, sizeof *j);
}

void json_free(json *j) {
    free(j->buf);
    memset(j, 0, sizeof *j);
}

const char *json_text(const json *j) {
    return j->oom ? NULL : j->buf ? j->buf : "";
}

static void put(json *j, const char *s, size_t n) {
    if (j->oom) return;
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap ? j->cap : 256;
        while (j->len + n + 1 > cap) cap *= 2;
        char *b = realloc(j->buf, cap);
        if (!b) {
            j->oom = 1;
            return;
        }
        j->buf = b;
        j->cap = cap;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static void puts_(json *j, const char *s) {
    put(j, s, strlen(s));
}

static void quoted(json *j, const char *s) {
    put(j, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\', esc[1] = (char)*p;
            put(j, esc, 2);
        } else if (*p == '\n')
            puts_(j, "\\n");
        else if (*p == '\t')
            puts_(j, "\\t");
        else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", *p);
            puts_(j, esc);
        } else
            put(j, (const char *)p, 1);
    }
    put(j, "\"", 1);
}

/* Comma and key before a member. */
static void member(json *j, const char *key) {
    if (j->depth > 0) {
        if (!j->first[j->depth - 1]) put(j, ",", 1);
        j->first[j->depth - 1] = 0;
    }
    if (key) {
        quoted(j, key);
        put(j, ":", 1);
    }
}

static void open_(json *j, const char *key, const char *br) {
    member(j, key);
    puts_(j, br);
    if (j->depth < JSON_MAX_DEPTH) j->first[j->depth] = 1;
    j->depth++;
}

static void close_(json *j, const char *br) {
    if (j->depth > 0) j->depth--;
    puts_(j, br);
}

void json_begin(json *j, const char *key) {
    open_(j, key, "{");
}
void json_end(json *j) {
    close_(j, "}");
}
void json_begin_array(json *j, const char *key) {
    open_(j, key, "[");
}
void json_end_array(json *j) {
    close_(j, "]");
}

void json_str(json *j, const char *key, const char *s) {
    member(j, key);
    quoted(j, s);
}

static void raw_num(json *j, double v) {
    char b[40];
    if (!isfinite(v))
        snprintf(b, sizeof b, "null");
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(b, sizeof b, "%.0f", v);
    else
        snprintf(b, sizeof b, "%.9g", v);
    puts_(j, b);
}

void json_num(json *j, const char *key, double v) {
    member(j, key);
    raw_num(j, v);
}

void json_int(json *j, const char *key, int64_t v) {
    char b[32];
    member(j, key);
    snprintf(b, sizeof b, "%" PRId64, v);
    puts_(j, b);
}

void json_bool(json *j, const char *key, int v) {
    member(j, key);
    puts_(j, v ? "true" : "false");
}

void json_null(json *j, const char *key) {
    member(j, key);
    puts_(j, "null");
}

void json_num_array(json *j, const char *key, const double *v, int64_t n) {
    json_begin_array(j, key);
    for (int64_t i = 0; i < n; i++) {
        member(j, NULL);
        raw_num(j, v[i]);
    }
    json_end_array(j);
}

int json_print(const json *j, FILE *f) {
    const char *t = json_text(j);
    if (!t) return -1;
    if (fprintf(f, "%s\n", t) < 0 || fflush(f) != 0) return -1;
    return 0;
}

int json_get_num(const char *line, const char *key, double *out) {
    char pat[80];
    int n = snprintf(pat, sizeof pat, "\"%s\":", key);
    if (n < 0 || (size_t)n >= sizeof pat) return 0;
    const char *p = strstr(line, pat);
    if (!p) return 0;
    p += n;
    char *end;
    double v = strtod(p, &end);
    if (end == p || !isfinite(v)) return 0;
    *out = v;
    return 1;
}
