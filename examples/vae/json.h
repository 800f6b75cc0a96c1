/* json.h - a tiny JSON writer into a growing string, and a reader of one number field of a flat
 * JSON line.
 *
 * The writer builds one object at a time; commas are placed by the writer. Non-finite numbers are
 * written as null (JSON has no NaN). On out-of-memory the writer stops growing and json_text
 * returns NULL.
 *
 *   json j; json_init(&j);
 *   json_begin(&j, NULL);             {
 *   json_str(&j, "command", "train"); "command":"train"
 *   json_num(&j, "elbo", -98.7);      ,"elbo":-98.7
 *   json_end(&j);                     }
 *   puts(json_text(&j)); json_free(&j);
 */
#ifndef VAE_CLI_JSON_H
#define VAE_CLI_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

typedef struct json {
    char *buf;
    size_t len, cap;
    int oom;
    int depth;
    int first[JSON_MAX_DEPTH]; /* 1 until the first member of the open container is written */
} json;

void json_init(json *j);
void json_free(json *j);
/* The text written so far (NUL-terminated), or NULL after an allocation failure. */
const char *json_text(const json *j);
/* Start an object / array; key is the member name inside an object, NULL inside an array or at the
 * top. */
void json_begin(json *j, const char *key);
void json_end(json *j);
void json_begin_array(json *j, const char *key);
void json_end_array(json *j);
void json_str(json *j, const char *key, const char *s);
void json_num(json *j, const char *key, double v);
void json_int(json *j, const char *key, int64_t v);
void json_bool(json *j, const char *key, int v);
void json_null(json *j, const char *key);
/* An array of n numbers. */
void json_num_array(json *j, const char *key, const double *v, int64_t n);

/* Print the text and a newline to f, flushing it; returns 0, or -1 on OOM or a write error. */
int json_print(const json *j, FILE *f);

/* The number of member `key` in a one-line flat JSON object (as this writer writes them); 0 when
 * absent or not a number (null), 1 when found. */
int json_get_num(const char *line, const char *key, double *out);

#endif
