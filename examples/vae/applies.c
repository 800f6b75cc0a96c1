/* applies.c - the table of where each option acts (applies.h), its check and its --help text. */
#include "applies.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "models/objective.h"

/* When SUBJECT holds, NEEDS must hold too (applies.h). One row per condition; rows of a command stay together.
 * Not clang-formatted: one row per line reads as a table. */
/* clang-format off */
static const cli_applies rows[] = {
    /* ---- vae train: the objective's options (the older options; --objective specs are checked by the objective) */
    {"train", "--beta", "objective=beta-vae", "--beta weights the ELBO's KL term, which the iwae bound does not have (for a weighted IWAE use --objective ciwae:beta=B)"},
    {"train", "--beta", "!--capacity", "--capacity replaces the beta-weighted KL by G |KL - C|: its G is the weight (drop --beta)"},
    {"train", "--kl-warmup", "objective=beta-vae", "the warm-up ramps the ELBO's KL weight, which the iwae bound does not have"},
    {"train", "--kl-warmup", "!--capacity", "--capacity replaces the KL weight by G |KL - C|, whose C rises over its own STEPS"},
    {"train", "--free-bits", "objective=beta-vae", "free bits act on the ELBO's KL term, which the iwae bound does not have"},
    {"train", "--capacity", "objective=beta-vae", "the capacity acts on the ELBO's KL term, which the iwae bound does not have"},
    {"train", "--mc-kl", "objective=vae|beta-vae", "it chooses the ELBO's KL estimate; the iwae bound has no separate KL term"},
    {"train", "--mc-kl", "estimator!=stl", "the stl estimator always uses the Monte-Carlo KL"},
    /* ... and within a spec (--objective beta-vae:...): Burgess's capacity replaces the KL weight */
    {"train", "objective.beta!=1", "objective.gamma=0", "the capacity loss -rec + gamma |KL - C| (gamma > 0) has no beta: drop beta from the spec"},
    {"train", "objective.warmup!=0", "objective.gamma=0", "the capacity loss -rec + gamma |KL - C| (gamma > 0) ramps C over csteps, not the KL weight: drop warmup"},
    {"train", "objective.cmax!=0", "objective.gamma!=0", "cmax is the capacity's target, which acts only with gamma > 0"},
    {"train", "objective.csteps!=0", "objective.gamma!=0", "csteps is the capacity's ramp, which acts only with gamma > 0"},
    /* ---- estimators and baselines */
    {"train", "baseline!=none", "estimator=score", "a baseline reduces the variance of the score-function estimator only (add --estimator score)"},
    /* ---- model */
    {"train", "--lik-param", "likelihood!=bernoulli|cbernoulli|gaussian-learned|laplace", "only gaussian (sigma), student-t (degrees of freedom) and a plugin's likelihoods take a parameter"},
    {"train", "--activation", "hidden!=0", "with --hidden 0 there is no hidden layer to activate"},
    {"train", "--lik-param", "likelihood!=poisson", "the Poisson likelihood's rate comes from the decoder: it takes no parameter"},
    /* ---- model families */
    {"train", "--conv-channels", "net=conv", "the channels of the conv net's two layers (add --net conv)"},
    {"train", "--conv-hidden", "net=conv", "the fully connected layers of the conv net (add --net conv)"},
    {"train", "--hidden", "net!=conv", "the conv net's layers are set by --conv-channels and --conv-hidden"},
    {"train", "--temperature", "estimator=gumbel", "the Gumbel-softmax relaxation's temperature (add --estimator gumbel)"},
    {"train", "--temp-anneal", "estimator=gumbel", "the Gumbel-softmax temperature's annealing rate (add --estimator gumbel)"},
    {"train", "--temp-min", "estimator=gumbel", "the Gumbel-softmax temperature's floor (add --estimator gumbel)"},
    {"train", "--straight-through", "estimator=gumbel", "straight-through Gumbel-softmax (add --estimator gumbel)"},
    /* ---- optimization */
    {"train", "--lr-decay-every", "schedule=step", "the period of the step schedule (add --schedule step)"},
    {"train", "--lr-gamma", "schedule=step", "the decay factor of the step schedule (add --schedule step)"},
    {"train", "--adam-beta1", "optimizer=adam|adamw", "a moment decay of Adam and AdamW"},
    {"train", "--adam-beta2", "optimizer=adam|adamw", "a moment decay of Adam and AdamW"},
    {"train", "--opt-eps", "optimizer=adam|adamw|adagrad", "sgd has no eps"},
    /* ---- data */
    {"train", "binarize!=auto|none", "features=image", "binarization is for images in [0, 1]; tabular data is standardized per column"},
    {"train", "--valid-fraction", "data!=binarized-mnist", "binarized MNIST has its own validation file (10,000 rows)"},
    /* ---- output */
    {"train", "--pictures-every", "!--no-pictures", "--no-pictures writes no pictures at all"},
    {"train", "--log-every", "!--quiet", "--quiet prints no progress lines"},
    {"train", "--study-draws", "study-every!=0", "an option of the estimator study, which --study-every E turns on"},
    {"train", "--study-batch", "study-every!=0", "an option of the estimator study, which --study-every E turns on"},
    {"train", "--study-ks", "study-every!=0", "an option of the estimator study, which --study-every E turns on"},
    {"train", "--study-estimators", "study-every!=0", "an option of the estimator study, which --study-every E turns on"},
    {"train", "--study-objective", "study-every!=0", "an option of the estimator study, which --study-every E turns on"},
    /* ---- vae estimators: a fresh model's options */
    {"estimators", "--latent", "--data", "with --run the model is the run's, its latent size in the checkpoint"},
    {"estimators", "--hidden", "--data", "with --run the model is the run's, its layers in the checkpoint"},
    {"estimators", "--likelihood", "--data", "with --run the model is the run's, its likelihood in the checkpoint"},
    {"estimators", "--net", "--data", "with --run the model is the run's, its net in the checkpoint"},
    {"estimators", "--latent-kind", "--data", "with --run the model is the run's, its latents in the checkpoint"},
    /* ---- vae bench */
    {"bench", "--mnist", "--workloads", "the kernel benchmark (without --workloads) reads no data"},
    /* ---- every command that knows the likelihood and the data: a likelihood of [0, 1] data on other values
     * gives a log-likelihood above 0 (a positive "ELBO") that bounds nothing */
    {"*", "likelihood=bernoulli", "values=binary|unit", "it models data in [0, 1] (CSV columns in [0, 1] are kept as they are, others are standardized); for real values use --likelihood gaussian, gaussian-learned, laplace or student-t"},
    {"*", "likelihood=beta", "values=binary|unit", "it models data in (0, 1) (CSV columns in [0, 1] are kept as they are, others are standardized); for real values use --likelihood gaussian, gaussian-learned, laplace or student-t"},
    {"*", "likelihood=cbernoulli", "values=binary|unit", "it models data in [0, 1] (CSV columns in [0, 1] are kept as they are, others are standardized); for real values use --likelihood gaussian, gaussian-learned, laplace or student-t"},
};
/* clang-format on */
#define NROWS ((int)(sizeof rows / sizeof *rows))

/* the facts commands derive (applies.h); they take the place of an option of the same name */
static const char *const derived[] = {"objective", "likelihood", "data",
                                      "features",  "values",     NULL};

static int is_derived(const char *key, size_t len) {
    if (len > 10 && strncmp(key, "objective.", 10) == 0) return 1;
    for (int i = 0; derived[i]; i++)
        if (strlen(derived[i]) == len && strncmp(derived[i], key, len) == 0) return 1;
    return 0;
}

void cli_facts_set(cli_facts *f, const char *key, const char *val) {
    int i = 0;
    while (i < f->n && strcmp(f->key[i], key) != 0) i++;
    if (i == f->n) {
        if (f->n == CLI_FACTS_MAX) return;
        f->n++;
    }
    snprintf(f->key[i], sizeof f->key[i], "%s", key);
    snprintf(f->val[i], sizeof f->val[i], "%s", val);
}

void cli_facts_data(cli_facts *f, const char *spec) {
    char kind[64];
    size_t k = strcspn(spec, ":");
    snprintf(kind, sizeof kind, "%.*s", (int)(k < 63 ? k : 63), spec);
    cli_facts_set(f, "data", kind);
    if (!strcmp(kind, "csv"))
        cli_facts_set(f, "features", "tabular");
    else if (!strcmp(kind, "sprites") || !strcmp(kind, "mnist") || !strcmp(kind, "fashion-mnist") ||
             !strcmp(kind, "binarized-mnist"))
        cli_facts_set(f, "features", "image");
}

void cli_facts_objective(cli_facts *f, const char *spec) {
    vae_objective_cfg oc;
    vae_objective_cfg_default(&oc);
    vae_error err = {0};
    if (vae_objective_parse_spec(&oc, spec, &err)) return;
    for (int i = 0; i < oc.desc->nopts; i++) {
        char key[40], val[32];
        snprintf(key, sizeof key, "objective.%s", oc.desc->opts[i].name);
        snprintf(val, sizeof val, "%g", oc.opt[i]);
        cli_facts_set(f, key, val);
    }
}

static const cli_opt *find_opt(const cli_opt *opts, int nopts, const char *name, size_t len) {
    for (int i = 0; i < nopts; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0) return &opts[i];
    return NULL;
}

/* The value of fact key[0..len) into buf: 1; 0 when it is a derived fact not known yet; -1 when no such fact. */
static int fact(const cli_opt *opts, int nopts, const cli_facts *f, const char *key, size_t len,
                char *buf, size_t n) {
    if (is_derived(key, len)) {
        for (int i = 0; f && i < f->n; i++)
            if (strlen(f->key[i]) == len && strncmp(f->key[i], key, len) == 0) {
                snprintf(buf, n, "%s", f->val[i]);
                return 1;
            }
        return 0;
    }
    const cli_opt *o = find_opt(opts, nopts, key, len);
    if (!o) return -1;
    buf[0] = '\0';
    if (!o->dst) return 1;
    switch (o->kind) {
    case CLI_OPT_FLAG:
        snprintf(buf, n, "%d", *(const int *)o->dst);
        break;
    case CLI_OPT_INT:
        snprintf(buf, n, "%" PRId64, *(const int64_t *)o->dst);
        break;
    case CLI_OPT_REAL:
        snprintf(buf, n, "%g", *(const double *)o->dst);
        break;
    case CLI_OPT_STR:
    case CLI_OPT_CHOICE: {
        const char *s = *(const char *const *)o->dst;
        snprintf(buf, n, "%s", s ? s : "");
        break;
    }
    }
    return 1;
}

/* 1 when v is one of the '|'-separated words of list[0..len) */
static int in_list(const char *v, const char *list, size_t len) {
    size_t vl = strlen(v);
    const char *p = list, *end = list + len;
    while (p <= end) {
        const char *bar = memchr(p, '|', (size_t)(end - p));
        size_t wl = bar ? (size_t)(bar - p) : (size_t)(end - p);
        if (wl == vl && strncmp(p, v, vl) == 0) return 1;
        if (!bar) break;
        p = bar + 1;
    }
    return 0;
}

typedef struct term {
    int given; /* 1: "--NAME", -1: "!--NAME", 0: KEY=... / KEY!=... */
    int neg;   /* KEY!=... */
    const char *key, *vals;
    size_t klen, vlen;
} term;

static void parse_term(const char *t, size_t len, term *out) {
    memset(out, 0, sizeof *out);
    if (len > 3 && strncmp(t, "!--", 3) == 0) {
        out->given = -1, out->key = t + 3, out->klen = len - 3;
        return;
    }
    if (len > 2 && strncmp(t, "--", 2) == 0) {
        out->given = 1, out->key = t + 2, out->klen = len - 2;
        return;
    }
    const char *eq = memchr(t, '=', len);
    out->key = t;
    out->klen = eq ? (size_t)(eq - t) : len;
    if (eq && out->klen > 0 && t[out->klen - 1] == '!') out->neg = 1, out->klen--;
    out->vals = eq ? eq + 1 : t + len;
    out->vlen = eq ? (size_t)(t + len - eq - 1) : 0;
}

/* 1 holds, 0 fails (with the fact's value in val), -1 a bug in the table (no such option or fact) */
static int eval_term(const term *t, const cli_opt *opts, int nopts, const cli_facts *f, char *val,
                     size_t n) {
    if (t->given) {
        const cli_opt *o = find_opt(opts, nopts, t->key, t->klen);
        if (!o) return -1;
        return t->given > 0 ? o->seen : !o->seen;
    }
    int k = fact(opts, nopts, f, t->key, t->klen, val, n);
    if (k <= 0) return k == 0 ? 1 : -1;
    return in_list(val, t->vals, t->vlen) != t->neg;
}

static int table_bug(const char *cmd, const cli_applies *r, const term *t) {
    return cli_usage_error(
        cmd,
        "internal: the options table (applies.c) row for %s names \"%.*s\", which is "
        "neither an option of this command nor a fact",
        r->subject, (int)t->klen, t->key);
}

int cli_applies_check(const char *cmd, const cli_opt *opts, int nopts, const cli_facts *f) {
    for (int i = 0; i < NROWS; i++) {
        const cli_applies *r = &rows[i];
        if (strcmp(r->cmd, "*") != 0 && (strcmp(r->cmd, cmd) != 0 || !opts)) continue;
        term s;
        char sval[64] = "", val[64] = "";
        parse_term(r->subject, strlen(r->subject), &s);
        /* a "*" row speaks of facts; it applies to a command only where they exist */
        int hold = eval_term(&s, opts, nopts, f, sval, sizeof sval);
        if (hold < 0 && strcmp(r->cmd, "*") == 0) continue;
        if (hold < 0) return table_bug(cmd, r, &s);
        if (!hold || (!s.given && !sval[0])) continue; /* (a derived subject not known yet) */
        char who[96];
        if (s.given)
            snprintf(who, sizeof who, "--%.*s", (int)s.klen, s.key);
        else /* "--baseline ma", "--likelihood bernoulli"; "likelihood bernoulli" for a run's own */
            snprintf(who, sizeof who, "%s%.*s %s", find_opt(opts, nopts, s.key, s.klen) ? "--" : "",
                     (int)s.klen, s.key, sval);
        for (const char *p = r->needs; *p;) {
            while (*p == ' ') p++;
            size_t len = strcspn(p, " ");
            if (!len) break;
            term t;
            parse_term(p, len, &t);
            p += len;
            int ok = eval_term(&t, opts, nopts, f, val, sizeof val);
            if (ok < 0 && strcmp(r->cmd, "*") == 0) break;
            if (ok < 0) return table_bug(cmd, r, &t);
            if (ok) continue;
            if (t.given > 0)
                return cli_usage_error(cmd, "%s does not act without --%.*s: %s", who, (int)t.klen,
                                       t.key, r->why);
            if (t.given < 0)
                return cli_usage_error(cmd, "%s does not act with --%.*s: %s", who, (int)t.klen,
                                       t.key, r->why);
            if (t.neg)
                return cli_usage_error(cmd, "%s does not act when %.*s is %s: %s", who, (int)t.klen,
                                       t.key, val, r->why);
            return cli_usage_error(cmd,
                                   "%s does not act here: it needs %.*s %.*s (here %.*s is %s): %s",
                                   who, (int)t.klen, t.key, (int)t.vlen, t.vals, (int)t.klen, t.key,
                                   val[0] ? val : "\"\"", r->why);
        }
    }
    return 0;
}

/* "--schedule step", "--study-every not 0", "objective beta-vae" (a derived fact), "--data", "no --capacity" */
static void render_term(const term *t, char *buf, size_t n) {
    if (t->given)
        snprintf(buf, n, "%s--%.*s", t->given < 0 ? "no " : "", (int)t->klen, t->key);
    else
        snprintf(buf, n, "%s%.*s %s%.*s", is_derived(t->key, t->klen) ? "" : "--", (int)t->klen,
                 t->key, t->neg ? "not " : "", (int)t->vlen, t->vals);
}

/* append to buf (n bytes, *len used so far) without ever running past its end */
static void append(char *buf, size_t n, size_t *len, const char *s) {
    if (*len + 1 >= n) return;
    snprintf(buf + *len, n - *len, "%s", s);
    size_t l = strlen(s);
    *len = *len + l < n - 1 ? *len + l : n - 1;
}

/* the needs of row r, rendered and comma-separated, appended to buf */
static void append_needs(const cli_applies *r, char *buf, size_t n, size_t *len, int first) {
    for (const char *p = r->needs; *p;) {
        while (*p == ' ') p++;
        size_t tl = strcspn(p, " ");
        if (!tl) break;
        term t;
        parse_term(p, tl, &t);
        p += tl;
        char tb[160];
        render_term(&t, tb, sizeof tb);
        if (!first) append(buf, n, len, ", ");
        append(buf, n, len, tb);
        first = 0;
    }
}

void cli_applies_help(const char *cmd, const char *name, char *buf, size_t n) {
    size_t len = 0, nl = strlen(name);
    if (n == 0) return;
    buf[0] = '\0';
    /* the rows about the option being given: "only with A, B"; then those about its values: "V needs C" */
    for (int pass = 0; pass < 2; pass++) {
        int first = 1;
        for (int i = 0; i < NROWS; i++) {
            const cli_applies *r = &rows[i];
            if (strcmp(r->cmd, cmd) != 0 && strcmp(r->cmd, "*") != 0) continue;
            term s;
            parse_term(r->subject, strlen(r->subject), &s);
            /* the rows of option NAME, and on the second pass those of NAME.KEY facts (objective.beta) */
            int sub =
                !s.given && s.klen > nl + 1 && s.key[nl] == '.' && strncmp(s.key, name, nl) == 0;
            if (!sub && (s.klen != nl || strncmp(s.key, name, nl) != 0)) continue;
            if ((s.given != 0) != (pass == 0)) continue;
            if (pass == 0) {
                if (first) append(buf, n, &len, "only with ");
                append_needs(r, buf, n, &len, first);
            } else {
                char tb[160];
                snprintf(tb, sizeof tb, "%s%.*s%s%s%.*s needs ", len ? "; " : "",
                         sub ? (int)(s.klen - nl - 1) : 0, s.key + nl + 1, sub ? " " : "",
                         s.neg ? "not " : "", (int)s.vlen, s.vals);
                append(buf, n, &len, tb);
                append_needs(r, buf, n, &len, 1);
            }
            first = 0;
        }
    }
}
