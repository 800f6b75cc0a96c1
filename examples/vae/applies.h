/* applies.h - which options act where: one table (applies.c) drives both the check and the --help text.
 *
 * Every option a command accepts must act, or be refused with a reason (exit status 2). A row of the table says:
 * when SUBJECT holds, NEEDS must hold as well, else the command stops with
 *   vae train: --lr-gamma does not act here: it needs schedule step (this run: schedule constant); the decay ...
 *
 *   subject  "--NAME"        option NAME was given on the command line
 *            "KEY=A|B"       fact KEY is A or B          "KEY!=A|B"  fact KEY is neither
 *   needs    space-separated terms, all of which must hold: "KEY=A|B", "KEY!=A|B", "--NAME" (given),
 *            "!--NAME" (not given)
 *
 * Facts: every option of the command under its own name, with its value as given or its default ("1"/"0" for
 * flags, integers in decimal, "" for an unset string); and the facts a command derives (cli_facts_set), which take
 * the place of an option of the same name:
 *   objective   the objective's name ("beta-vae" for --beta, "iwae" for --model iwae, "vr" for --objective vr:...)
 *   likelihood  the likelihood, "auto" resolved (bernoulli for images, gaussian for tabular data)
 *   data        the kind of the --data spec: sprites, mnist, fashion-mnist, binarized-mnist, npy, csv
 *   features    image | tabular
 *   values      binary | unit | real: the data as the model sees it (after scaling / standardization)
 *   objective.KEY  the value of each option of the objective's spec, e.g. objective.gamma (see cli_facts_objective)
 * A derived fact not known yet (features of an .npy file before it is read) lets its terms hold; the command
 * checks again once it knows. cli_parse checks every row with the facts the command line alone gives, so a
 * command that derives nothing needs no call of its own. A row naming a KEY that is neither an option of the
 * command nor a derived fact is a bug in the table: the check says so (exit 2), so any run of the command finds it.
 *
 * Adding an option: one row per condition under which it does not act, e.g. for a --temperature that only the
 * Gumbel-softmax estimator reads: {"train", "--temperature", "estimator=gumbel", "the relaxation's temperature"}.
 */
#ifndef VAE_CLI_APPLIES_H
#define VAE_CLI_APPLIES_H

#include <stddef.h>

#include "options.h"

typedef struct cli_applies {
    const char *cmd;     /* "train", ..., or "*" for every command */
    const char *subject; /* "--NAME" or "KEY=A|B" / "KEY!=A|B" */
    const char *needs;   /* terms, see above */
    const char
        *why; /* what the option does, or what to use instead: the second half of the message */
} cli_applies;

#define CLI_FACTS_MAX 32
typedef struct cli_facts {
    int n;
    char key[CLI_FACTS_MAX][40];
    char val[CLI_FACTS_MAX][64];
} cli_facts;

/* Set (or replace) the derived fact key to val (ignored when the table is full). */
void cli_facts_set(cli_facts *f, const char *key, const char *val);
/* The kind of a --data spec ("csv" for "csv:x.csv") and its features ("image", "tabular", or NULL when only the
 * file can tell: npy) as facts data and features. */
void cli_facts_data(cli_facts *f, const char *spec);

/* The options of an objective spec as facts objective.KEY ("%g"); nothing when the spec does not parse. */
void cli_facts_objective(cli_facts *f, const char *spec);

/* Check every row of cmd (and "*") against the options given in opts and the facts f (NULL: none derived); with
 * opts NULL only the "*" rows (facts alone).
 * Returns 0, or CLI_PARSE_ERROR with the usage message printed. */
int cli_applies_check(const char *cmd, const cli_opt *opts, int nopts, const cli_facts *f);
/* For --help: what the rows of cmd say about option `name` ("applies with: schedule step"), or "" (buf). */
void cli_applies_help(const char *cmd, const char *name, char *buf, size_t n);

#endif
