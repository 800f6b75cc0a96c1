/* options.h - GNU-style long options for the `vae` subcommands, driven by a table.
 *
 * Each subcommand declares a table of cli_opt and calls cli_parse. Both `--opt value` and
 * `--opt=value` are accepted (the last of repeated options wins, as in GNU tools); `-h` and
 * `--help` print the help built from the table. Values are checked here (integer syntax, range,
 * finite reals, one of the listed choices), so every bad value is reported as a usage error naming
 * the option: vae train: --latent: "abc" is not an integer Try 'vae train --help' for more
 * information.
 */
#ifndef VAE_CLI_OPTIONS_H
#define VAE_CLI_OPTIONS_H

#include <stdint.h>

typedef enum cli_opt_kind {
    CLI_OPT_FLAG,   /* int *dst = 1 when present; takes no value */
    CLI_OPT_INT,    /* int64_t *dst in [min, max] */
    CLI_OPT_REAL,   /* double *dst, finite, in [min, max] */
    CLI_OPT_STR,    /* const char **dst (points into argv) */
    CLI_OPT_CHOICE, /* const char **dst, one of `choices` ("a|b|c") */
} cli_opt_kind;

typedef struct cli_opt {
    const char *name;    /* long name without the dashes */
    const char *metavar; /* shown in the help ("Z"); NULL for flags */
    cli_opt_kind kind;
    void *dst;
    double min, max;     /* INT/REAL range (inclusive) */
    const char *choices; /* CHOICE: "a|b|c" */
    const char *help;    /* one line; say the default here */
    int seen;            /* set to 1 by cli_parse when the option is given */
} cli_opt;

/* Results of cli_parse: proceed, help printed (exit 0), usage error printed (exit 2). */
enum { CLI_PARSE_OK = 0, CLI_PARSE_HELP = 1, CLI_PARSE_ERROR = 2 };

/* Parse argv[1..argc) (argv[0] is the subcommand's name) against opts. `usage` is the part after
 * "vae CMD" in the usage line and `about` a paragraph printed under it in the help. */
int cli_parse(const char *cmd, int argc, char **argv, cli_opt *opts, int nopts, const char *usage,
              const char *about);

/* Print "vae CMD: <message>" and the --help hint to stderr; returns CLI_PARSE_ERROR (use as exit
 * status 2). */
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The entry of opts called `name`, or NULL. */
cli_opt *cli_find(cli_opt *opts, int nopts, const char *name);
/* 1 when option `name` was given on the command line. */
int cli_seen(cli_opt *opts, int nopts, const char *name);

/* Parse a comma-separated list of positive integers ("400,200") into out[0..max); returns the
 * count, or -1 when the text is not such a list (empty items, non-numbers, values outside [lo, hi],
 * more than max items). */
int cli_parse_int_list(const char *s, int64_t *out, int max, int64_t lo, int64_t hi);
/* Parse a comma-separated list of finite reals into out[0..max); returns the count or -1. */
int cli_parse_real_list(const char *s, double *out, int max);

#endif
