/* vae train - fit a VAE under any registered objective (VAE, beta-VAE, IWAE, VR, MIWAE, ...) and write a run directory (checkpoint.vae, log.jsonl,
 * pictures). */
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "applies.h"
#include "autograd/ops.h"
#include "autograd/profile.h"
#include "cli.h"
#include "families.h"
#include "json.h"
#include "models/discrete.h"
#include "models/eval.h"
#include "models/flow_prior.h"
#include "models/objective.h"
#include "nn/checkpoint.h"
#include "nn/optim.h"
#include "nn/schedule.h"
#include "options.h"
#include "pictures.h"
#include "progress.h"
#include "ranks.h"
#include "run.h"
#include "run_data.h"
#include "tensor/atomic_file.h"
#include "tensor/threadpool.h"
#include "train_extras.h"
#include "train_log.h"
#include "train_ranks.h"

#define CMD      "train"
#define EVAL_MAX 2000 /* examples scored per epoch when there is no validation set */

static volatile sig_atomic_t g_stop;
static void on_sigint(int sig) {
    (void)sig;
    g_stop = 1;
}

static void install_sigint(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags =
        SA_RESETHAND; /* a second Ctrl-C kills at once (the checkpoint on disk stays whole) */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    if (ranks_size() > 1) sigaction(SIGTERM, &sa, NULL); /* mpirun passes Ctrl-C on as SIGTERM */
}

typedef struct train_opts {
    const char *data, *model, *likelihood, *hidden, *activation, *estimator, *baseline, *optimizer,
        *schedule;
    const char *binarize, *dtype, *out, *capacity, *labels, *objective;
    const char *max_memory;  /* hardening: --max-memory SIZE */
    int64_t layers, latent2; /* two stochastic layers: --layers, --latent2, --hidden2 */
    const char *hidden2;
    const char *flow, *prior; /* model families: --flow planar:K|iaf:K, --prior mog:K|vamp:K */
    const char *net;           /* --net mlp|conv */
    const char *conv_channels; /* --conv-channels C1,C2 (NULL: the net's default) */
    const char *conv_hidden;   /* --conv-hidden H1[,H2..] (NULL: none) */
    /* discrete latents and the gumbel estimator (models/discrete.h) */
    const char *latent_kind;
    int64_t baseline_hidden; /* -1: 100 for discrete latents or --baseline nvil, else 0 */
    double temperature, temp_anneal, temp_min;
    int straight_through;
    int64_t latent, samples, kl_warmup, warmup, batch, epochs, seed, threads, n_train, log_every,
        max_steps;
    int64_t pictures_every, lr_decay_every, log_steps;
    train_study_opts study; /* --study-every and its options (train_extras.h) */
    double lik_param, beta, free_bits, lr, weight_decay, clip_norm, valid_fraction, lr_gamma;
    double adam_beta1, adam_beta2, opt_eps; /* 0 = the optimizer's default */
    int mc_kl, n_over_m, resume, quiet, no_pictures, det_reduce, profile;
    family_opts fam; /* --cond, --bayes-decoder and their options (families.h) */
} train_opts;

/* runs/<data>-<model>: the spec's kind, plus the file's stem for file specs ("runs/csv-iris-vae").
 */
static void default_out(char *out, size_t n, const char *data, const char *model) {
    char kind[64];
    const char *colon = strchr(data, ':');
    size_t k = colon ? (size_t)(colon - data) : strlen(data);
    snprintf(kind, sizeof kind, "%.*s", (int)(k < 63 ? k : 63), data);
    char stem[64] = "";
    if (colon && (strcmp(kind, "npy") == 0 || strcmp(kind, "csv") == 0)) {
        const char *base = strrchr(colon + 1, '/');
        base = base ? base + 1 : colon + 1;
        size_t sl = strcspn(base, ".");
        snprintf(stem, sizeof stem, "-%.*s", (int)(sl < 60 ? sl : 60), base);
    }
    for (char *p = kind; *p; p++)
        if (*p == '/' || *p == ' ') *p = '_';
    snprintf(out, n, "runs/%s%s-%s", kind, stem, model);
}

/* The lr schedule of the run (steps for constant/step/cosine; Burda's is in epochs, see lr_at). */
static vae_schedule make_schedule(const run_config *c, int64_t total_steps) {
    vae_schedule s;
    if (strcmp(c->schedule, "step") == 0) {
        int64_t every =
            c->lr_decay_every > 0 ? c->lr_decay_every : (total_steps / 3 > 0 ? total_steps / 3 : 1);
        s = vae_schedule_step(c->lr, every, c->lr_gamma);
    } else if (strcmp(c->schedule, "cosine") == 0) {
        int64_t T = total_steps - c->warmup;
        s = vae_schedule_cosine(c->lr, T > 0 ? T : 1, 0.0);
    } else if (strcmp(c->schedule, "burda") == 0) {
        s = vae_schedule_burda(c->lr);
    } else
        s = vae_schedule_constant(c->lr);
    if (strcmp(c->schedule, "burda") != 0) s = vae_schedule_with_warmup(s, c->warmup);
    return s;
}

static double lr_at(const run_config *c, const vae_schedule *s, int64_t step, int64_t epoch) {
    if (strcmp(c->schedule, "burda") != 0) return vae_schedule_lr(s, step);
    double lr = vae_schedule_lr(s, epoch);
    if (c->warmup > 0 && step < c->warmup) lr *= (double)(step + 1) / (double)c->warmup;
    return lr;
}

/* The options table (applies.c) with what is known of the run: its objective, likelihood and data (d: once
 * loaded, else NULL). 0, or 2 with the usage message printed. */
static int check_applies(const run_config *c, cli_opt *tab, int ntab, const run_data *d) {
    cli_facts f = {0};
    cli_facts_set(&f, "objective", c->model);
    cli_facts_objective(&f, c->objective);
    if (strcmp(c->likelihood, "auto") != 0) cli_facts_set(&f, "likelihood", c->likelihood);
    cli_facts_data(&f, c->data);
    if (d) {
        cli_facts_set(&f, "features", c->tabular ? "tabular" : "image");
        cli_facts_set(&f, "values", d->values);
    }
    return cli_applies_check(CMD, tab, ntab, &f) ? CLI_EXIT_USAGE : 0;
}

static int optim_kind(const char *name) {
    return strcmp(name, "sgd") == 0       ? VAE_OPTIM_SGD
           : strcmp(name, "adamw") == 0   ? VAE_OPTIM_ADAMW
           : strcmp(name, "adagrad") == 0 ? VAE_OPTIM_ADAGRAD
                                          : VAE_OPTIM_ADAM;
}

/* Two stochastic layers (Burda et al. 2016): --layers 2, implied by --latent2 or --hidden2. Burda's MNIST model
 * 784-100-100-(100)-50-50-(50) with tanh fills every size and the activation the command line leaves out. */
static int two_layers_from_opts(const train_opts *o, cli_opt *tab, int ntab, run_config *c) {
    int implied = cli_seen(tab, ntab, "latent2") || cli_seen(tab, ntab, "hidden2");
    if (o->layers == 1 && cli_seen(tab, ntab, "layers") && implied)
        return cli_usage_error(CMD, "--%s describes a second stochastic layer: it needs --layers 2",
                               cli_seen(tab, ntab, "latent2") ? "latent2" : "hidden2");
    if (o->layers != 2 && !implied) return 0;
    if (!cli_seen(tab, ntab, "latent")) c->latent = 100;
    if (!cli_seen(tab, ntab, "hidden")) c->nhidden = 2, c->hidden[0] = c->hidden[1] = 100;
    if (!cli_seen(tab, ntab, "activation")) snprintf(c->activation, sizeof c->activation, "tanh");
    c->latent2 = o->latent2;
    int nh = strcmp(o->hidden2, "0") == 0
                 ? 0
                 : cli_parse_int_list(o->hidden2, c->hidden2, RUN_MAX_HIDDEN, 1, 65536);
    if (nh < 0)
        return cli_usage_error(
            CMD, "--hidden2: \"%s\" is not a list of up to %d layer sizes in 1..65536 (e.g. 50,50)",
            o->hidden2, RUN_MAX_HIDDEN);
    c->nhidden2 = nh;
    return 0;
}

/* Fill a fresh run's configuration from the options; usage errors print and return 2. */
static int config_from_opts(const train_opts *o, cli_opt *tab, int ntab, run_config *c) {
    int rc2;
    run_config_default(c);
    snprintf(c->data, sizeof c->data, "%s", o->data);
    int cvae = strcmp(o->model, "cvae") == 0; /* --model cvae: the ELBO of a conditional VAE */
    snprintf(c->model, sizeof c->model, "%s", cvae ? "vae" : o->model);
    if (family_config(CMD, &o->fam, cvae, tab, ntab, c)) return CLI_EXIT_USAGE;
    snprintf(c->likelihood, sizeof c->likelihood, "%s", o->likelihood);
    snprintf(c->activation, sizeof c->activation, "%s", o->activation);
    snprintf(c->estimator, sizeof c->estimator, "%s", o->estimator);
    snprintf(c->baseline, sizeof c->baseline, "%s", o->baseline);
    snprintf(c->optimizer, sizeof c->optimizer, "%s", o->optimizer);
    snprintf(c->schedule, sizeof c->schedule, "%s", o->schedule);
    snprintf(c->binarize, sizeof c->binarize, "%s", o->binarize);
    snprintf(c->dtype, sizeof c->dtype, "%s", o->dtype);
    snprintf(c->net, sizeof c->net, "%s", o->net);
    if (strlen(o->data) >= sizeof c->data) return cli_usage_error(CMD, "--data: spec too long");
    if (strcmp(o->likelihood, "auto") != 0 && !vae_likelihood_find(o->likelihood)) {
        const vae_likelihood *l[64];
        int nl = vae_likelihood_list(l, 64);
        char names[512] = "";
        for (int i = 0; i < nl && i < 64; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                     l[i]->name);
        return cli_usage_error(CMD, "--likelihood: unknown \"%s\" (registered: %s)", o->likelihood,
                               names);
    }
    int nh = strcmp(o->hidden, "0") == 0
                 ? 0
                 : cli_parse_int_list(o->hidden, c->hidden, RUN_MAX_HIDDEN, 1, 65536);
    if (nh < 0)
        return cli_usage_error(
            CMD,
            "--hidden: \"%s\" is not a list of up to %d layer sizes in 1..65536 (e.g. 400,200)",
            o->hidden, RUN_MAX_HIDDEN);
    c->nhidden = nh;
    vae_error ferr = {0};
    if (o->flow && vae_flow_spec_parse(o->flow, NULL, NULL, &ferr))
        return cli_usage_error(CMD, "--flow: %s", ferr.msg);
    if (o->prior && vae_prior_spec_parse(o->prior, NULL, NULL, &ferr))
        return cli_usage_error(CMD, "--prior: %s", ferr.msg);
    snprintf(c->flow, sizeof c->flow, "%s", o->flow && strcmp(o->flow, "none") ? o->flow : "");
    snprintf(c->prior, sizeof c->prior, "%s", o->prior && strcmp(o->prior, "normal") ? o->prior : "");
    if (o->conv_channels && cli_parse_int_list(o->conv_channels, c->conv_ch, 2, 1, 4096) != 2)
        return cli_usage_error(CMD,
                               "--conv-channels: \"%s\" is not two channel counts in 1..4096 "
                               "(e.g. 16,32)",
                               o->conv_channels);
    if (o->conv_channels && strcmp(c->net, "conv"))
        return cli_usage_error(CMD, "--conv-channels is for --net conv");
    int nch = !o->conv_hidden || !strcmp(o->conv_hidden, "0")
                  ? 0
                  : cli_parse_int_list(o->conv_hidden, c->conv_hidden, RUN_MAX_HIDDEN, 1, 65536);
    if (nch < 0)
        return cli_usage_error(CMD,
                               "--conv-hidden: \"%s\" is not a list of up to %d layer sizes in "
                               "1..65536 (e.g. 256)",
                               o->conv_hidden, RUN_MAX_HIDDEN);
    c->nconv_hidden = nch;
    c->latent = o->latent;
    if ((rc2 = two_layers_from_opts(o, tab, ntab, c))) return rc2;
    c->samples = o->samples;
    c->beta = o->beta;
    c->lik_param = o->lik_param;
    c->kl_warmup = o->kl_warmup;
    c->free_bits = o->free_bits;
    c->mc_kl = o->mc_kl;
    c->n_over_m = o->n_over_m;
    if (o->capacity) {
        double v[3];
        if (cli_parse_real_list(o->capacity, v, 3) != 3 || v[0] <= 0 || v[1] < 0 || v[2] < 0 ||
            v[2] != floor(v[2]))
            return cli_usage_error(
                CMD, "--capacity: \"%s\" is not GAMMA,CMAX,STEPS (e.g. 1000,25,100000)",
                o->capacity);
        c->cap_gamma = v[0], c->cap_max = v[1], c->cap_steps = (int64_t)v[2];
    }
    /* discrete latents: the kind fixes the latent size; the gumbel options need the gumbel estimator */
    snprintf(c->latent_kind, sizeof c->latent_kind, "%s", o->latent_kind ? o->latent_kind : "gaussian");
    vae_net_cfg nc;
    vae_net_cfg_default(&nc);
    vae_error kerr = {0};
    if (o->latent_kind && (strlen(o->latent_kind) >= sizeof c->latent_kind ||
                           vae_latent_kind_parse(&nc, o->latent_kind, &kerr)))
        return cli_usage_error(CMD, "--latent-kind: %s", kerr.msg[0] ? kerr.msg : "too long");
    if (nc.latent_kind != VAE_LATENT_GAUSSIAN) {
        if (cli_seen(tab, ntab, "latent") && o->latent != nc.z_dim)
            return cli_usage_error(CMD, "--latent %" PRId64 " conflicts with --latent-kind %s (%" PRId64 " units)",
                                   o->latent, o->latent_kind, nc.z_dim);
        c->latent = nc.z_dim;
    }
    /* --temperature and its kin act with --estimator gumbel only: examples/vae/applies.c refuses them else */
    c->temperature = o->temperature, c->temp_anneal = o->temp_anneal, c->temp_min = o->temp_min;
    c->straight_through = o->straight_through;
    if (!cli_seen(tab, ntab, "temp-min") && c->temp_min > c->temperature)
        c->temp_min = c->temperature; /* the default floor never lies above the chosen T */
    c->baseline_hidden = o->baseline_hidden >= 0 ? o->baseline_hidden
                         : nc.latent_kind != VAE_LATENT_GAUSSIAN || !strcmp(o->baseline, "nvil") ? 100
                                                                                                 : 0;
    c->lr = o->lr;
    c->warmup = o->warmup;
    c->lr_decay_every = o->lr_decay_every;
    c->lr_gamma = o->lr_gamma;
    c->weight_decay = o->weight_decay >= 0                          ? o->weight_decay
                      : optim_kind(o->optimizer) == VAE_OPTIM_ADAMW ? 0.01
                                                                    : 0.0;
    c->clip_norm = o->clip_norm;
    c->adam_beta1 = o->adam_beta1, c->adam_beta2 = o->adam_beta2, c->opt_eps = o->opt_eps;
    c->batch = o->batch;
    c->epochs = o->epochs;
    c->seed = o->seed;
    c->n_train = o->n_train;
    c->valid_fraction = o->valid_fraction;
    char why[160];
    if (o->labels && run_config_set_labels(c, o->labels, why, sizeof why))
        return cli_usage_error(CMD, "--labels: %s", why);
    /* the objective as a spec: --objective's, or the one the older options (--model, --samples, --beta, ...)
     * describe; stored canonical, its name as the model */
    static const char *const spec_opts[] = {"model",     "samples",   "k",        "beta",
                                            "kl-warmup", "free-bits", "capacity", "mc-kl"};
    char spec[sizeof c->objective];
    if (o->objective) {
        for (size_t i = 0; i < sizeof spec_opts / sizeof *spec_opts; i++)
            if (cli_seen(tab, ntab, spec_opts[i]))
                return cli_usage_error(
                    CMD,
                    "--%s conflicts with --objective: give the option in the spec (e.g. iwae:k=5)",
                    spec_opts[i]);
        snprintf(spec, sizeof spec, "%s", o->objective);
    } else {
        if (cli_seen(tab, ntab, "beta") && strcmp(c->model, "vae") == 0)
            snprintf(c->model, sizeof c->model, "beta-vae");
        run_config_legacy_spec(c, spec, sizeof spec);
    }
    vae_objective_cfg oc;
    vae_objective_cfg_default(&oc);
    vae_error err = {0};
    if (vae_objective_parse_spec(&oc, spec, &err))
        return cli_usage_error(CMD, "--objective: %s", err.msg);
    vae_objective_spec(&oc, c->objective, sizeof c->objective);
    snprintf(c->model, sizeof c->model, "%s", oc.desc->name);
    if (check_applies(c, tab, ntab, NULL)) return CLI_EXIT_USAGE;
    /* check everything but what the data decides */
    run_config t;
    if (run_config_copy(&t, c)) return cli_error(CMD, "out of memory");
    if (strcmp(t.likelihood, "auto") == 0) snprintf(t.likelihood, sizeof t.likelihood, "bernoulli");
    if (strcmp(t.binarize, "auto") == 0) snprintf(t.binarize, sizeof t.binarize, "none");
    if (t.classes < 0) t.classes = 1; /* a conditional run: the data says how many */
    char msg[320];
    int bad = run_config_check(&t, msg, sizeof msg);
    run_config_free(&t);
    if (bad) return cli_usage_error(CMD, "%s", msg);
    return 0;
}

/* Everything the loop works on. */
typedef struct trainer {
    run_config cfg;
    run_data data;
    vae_net net;
    vae_optim optim;
    vae_objective_cfg ocfg;
    vae_objective_state ost;
    vae_objective_out last_out; /* the last step's values (kl_weight, beta, capacity for the log) */
    double valid_bound;         /* the objective's bound on the validation data, last epoch */
    double valid_bound_se;      /* its standard error across the examples */
    double last_gnorm, last_loss; /* the last step's gradient norm (before clipping) and loss */
    int has_elbo;                 /* the objective reports "elbo" (the train ELBO is logged) */
    double last_train_elbo;       /* of the last epoch this process completed (NaN before) */
    vae_schedule sched;
    vae_batch_iter it;
    vae_ctx *ctx, *ectx;
    vae_rng rng_data;
    float *xbuf;
    int64_t *ybuf; /* a conditional model: the batch's labels */
    char dir[RUN_PATH_MAX], ckpt[RUN_PATH_MAX], logpath[RUN_PATH_MAX];
    train_log log;
    vae_eval_result last_eval;
    progress prog;
    int64_t steps_per_epoch;
    /* ranks (train_ranks.h): --deterministic-reduce; a stop every rank agreed on */
    int det_reduce, stop_all;
    vae_profile *prof; /* --profile: the training steps' ops and phases, else NULL */
} trainer;

static void trainer_free(trainer *t) {
    vae_batch_iter_free(&t->it);
    vae_net_free(&t->net);
    run_data_free(&t->data);
    run_config_free(&t->cfg);
    vae_ctx_free(t->ctx);
    vae_ctx_free(t->ectx);
    vae_profile_free(t->prof);
    free(t->xbuf);
    free(t->ybuf);
    train_log_free(&t->log);
    vae_eval_result_free(&t->last_eval);
}

static int save_checkpoint(trainer *t, char *msg, size_t n) {
    t->cfg.step = t->optim.step;
    t->cfg.rng_ctx = *vae_ctx_rng(t->ctx);
    t->cfg.rng_data = t->rng_data;
    t->cfg.obj_step = t->ost.step;
    t->cfg.obj_baseline = isfinite(t->ost.baseline) ? t->ost.baseline : 0;
    t->cfg.obj_baseline_ready = t->ost.baseline_ready;
    char *text;
    size_t len;
    if (run_config_to_text(&t->cfg, &text, &len)) {
        snprintf(msg, n, "out of memory");
        return -1;
    }
    vae_error err = {0};
    int rc = vae_checkpoint_save(t->ckpt, t->net.params, &t->optim, text, len, &err) ? -1 : 0;
    if (rc) snprintf(msg, n, "saving the checkpoint: %s", err.msg);
    free(text);
    return rc;
}

/* Validation ELBO, KL per dim and active units on the valid set (or a slice of the training set).
 */
static int evaluate_epoch(trainer *t, char *msg, size_t n) {
    const vae_dataset *ds = t->data.valid.n > 0 ? &t->data.valid : &t->data.train;
    int64_t m = ds->n < EVAL_MAX || t->data.valid.n > 0 ? ds->n : EVAL_MAX;
    vae_eval_cfg ec;
    vae_eval_cfg_default(&ec);
    ec.is_samples = 0;
    ec.batch = 500;
    ec.moment_samples =
        10; /* two stochastic layers: E_q[z2|x] for the epoch's active units (vae eval: 100) */
    vae_ctx_seed(t->ectx, (uint64_t)t->cfg.seed * 7919 + (uint64_t)t->cfg.epochs_done);
    vae_eval_result_free(&t->last_eval);
    if (family_prepare(&t->net, ds, m, 0, msg, n)) return -1;
    if (vae_evaluate(t->ectx, &t->net, ds->x, m, &ec, &t->last_eval, NULL, NULL)) {
        snprintf(msg, n, "evaluation: %s", vae_ctx_message(t->ectx));
        vae_ctx_clear_error(t->ectx);
        return -1;
    }
    /* the training objective's own bound on the same examples (for IWAE/VR not the ELBO above), no tape */
    vae_objective_cfg oc = t->ocfg;
    oc.data_size = 0;
    double sum = 0, sq = 0; /* of the per-example bounds, for the mean and its standard error */
    int per_example = 1;    /* every batch gave its per-example bounds (else no standard error) */
    int was = vae_set_grad_enabled(t->ectx, 0);
    for (int64_t i = 0; i < m; i += ec.batch) {
        int64_t mb = m - i < ec.batch ? m - i : ec.batch;
        vae_objective_state st = t->ost;
        vae_objective_out o;
        vae_ctx_reset(t->ectx);
        vae_net_select_labels(&t->net, i, mb);
        vae_tensor *x = vae_cast(
            t->ectx,
            vae_wrap(t->ectx, VAE_F32, VAE_SHAPE(mb, t->cfg.x_dim), ds->x + i * t->cfg.x_dim),
            t->net.cfg.dtype);
        if (vae_objective(t->ectx, &t->net, x, &oc, &st, &o)) {
            snprintf(msg, n, "validation bound: %s", vae_ctx_message(t->ectx));
            vae_ctx_clear_error(t->ectx);
            vae_set_grad_enabled(t->ectx, was);
            return -1;
        }
        int have = o.bound && vae_numel(o.bound) == mb;
        per_example &= have;
        for (int64_t b = 0; b < mb; b++) {
            double v = have ? vae_get_flat(o.bound, b) : o.bound_mean;
            sum += v, sq += v * v;
        }
    }
    vae_set_grad_enabled(t->ectx, was);
    vae_ctx_reset(t->ectx);
    t->valid_bound = m > 0 ? sum / (double)m : NAN;
    double var = m > 1 ? (sq - sum * (sum / (double)m)) / (double)(m - 1) : NAN;
    t->valid_bound_se = m > 1 && per_example ? sqrt(var > 0 ? var / (double)m : 0.0) : NAN;
    return 0;
}

static int write_pictures(trainer *t, char *msg, size_t n) {
    const vae_dataset *ds = t->data.valid.n > 0 ? &t->data.valid : &t->data.train;
    if (pic_all(t->ectx, &t->net, &t->cfg, ds, t->last_eval.kl_per_dim, t->dir, msg, n)) return -1;
    return pic_learning_curve(t->dir, t->cfg.objective, t->log.train_bound, t->log.valid_bound,
                              t->log.valid_elbo, t->log.n, msg, n);
}

/* --profile: add the time since *tp to phase `name` and restart the clock (nothing when p is NULL). */
static void profile_phase(vae_profile *p, const char *name, int64_t *tp) {
    if (!p) return;
    const int64_t now = vae_profile_now_ns();
    vae_profile_add(p, name, now - *tp);
    *tp = now;
}

/* One optimizer step on the next batch. Returns 1 on a step taken, 0 at the end of the epoch, -1 on
 * error. */
static int train_step(trainer *t, double *bound, double *rec, double *kl, double *elbo, int64_t *mb,
                      char *msg, size_t n) {
    const int64_t *idx;
    int64_t m = vae_batch_iter_next(&t->it, &idx), D = t->cfg.x_dim;
    if (m == 0) return 0;
    int64_t tp = t->prof ? vae_profile_now_ns() : 0;
    vae_error err = {0};
    vae_status s = t->data.dynamic ? vae_dataset_binarize_dynamic(&t->data.train, t->xbuf, idx, m,
                                                                  &t->rng_data, &err)
                                   : vae_dataset_gather(&t->data.train, idx, m, t->xbuf, &err);
    if (s) {
        snprintf(msg, n, "%s", err.msg);
        return -1;
    }
    if (family_batch(&t->net, &t->data.train, idx, m, t->ybuf, msg, n)) return -1;
    profile_phase(t->prof, "(data)", &tp);
    vae_objective_out out;
    /* under mpirun (or --deterministic-reduce): every rank its share of the batch, one gradient sum */
    if (train_ranks_needed(t->det_reduce)) {
        char why[256];
        if (train_ranks_grad(t->ctx, &t->net, t->xbuf, m, D, &t->ocfg, &t->ost, t->det_reduce,
                             g_stop, &out, &t->stop_all, why, sizeof why)) {
            snprintf(msg, n, "step %" PRId64 ": %s", t->optim.step + 1, why);
            return -1;
        }
    } else {
        vae_ctx_reset(t->ctx);
        vae_params_zero_grad(t->net.params);
        profile_phase(t->prof, "(reset, zero grads)", &tp);
        vae_tensor *x =
            vae_cast(t->ctx, vae_wrap(t->ctx, VAE_F32, VAE_SHAPE(m, D), t->xbuf), t->net.cfg.dtype);
        s = vae_objective(t->ctx, &t->net, x, &t->ocfg, &t->ost, &out);
        if (s == VAE_OK) s = vae_backward(t->ctx, out.loss);
        if (s != VAE_OK) {
            snprintf(msg, n, "step %" PRId64 ": %s", t->optim.step + 1, vae_ctx_message(t->ctx));
            return -1;
        }
    }
    if (t->prof) tp = vae_profile_now_ns(); /* the ops timed themselves */
    /* The gradient norm (logged, and checked for divergence): clipping needs it before the update; otherwise the
     * optimizer forms it in the pass that reads the gradient (f32 Adam: no pass of its own). A non-finite norm then
     * shows after the update; the run stops without saving either way, so the last checkpoint is what stays. */
    const int64_t stepno = t->optim.step + 1;
    const int clip = t->cfg.clip_norm > 0;
    double gnorm = NAN;
    if (clip) {
        gnorm = vae_clip_grad_norm(t->net.params, t->cfg.clip_norm);
        profile_phase(t->prof, "(grad norm)", &tp);
    }
    t->last_loss = vae_item(out.loss);
    if (isfinite(out.bound_mean) && (!clip || isfinite(gnorm))) {
        t->optim.cfg.lr = lr_at(&t->cfg, &t->sched, t->optim.step, t->cfg.epochs_done);
        if (vae_optim_step_norm(&t->optim, clip ? NULL : &gnorm, &err)) {
            snprintf(msg, n, "optimizer: %s", err.msg);
            return -1;
        }
        profile_phase(t->prof, "(optimizer)", &tp);
    } else if (!clip) {
        gnorm = vae_grad_norm(t->net.params); /* for the message */
    }
    t->last_gnorm = gnorm;
    if (!isfinite(out.bound_mean) || !isfinite(gnorm)) {
        snprintf(msg, n,
                 "training diverged at step %" PRId64
                 " (ELBO %g, gradient norm %g); the last checkpoint is kept. "
                 "Try a smaller --lr or --clip-norm 100",
                 stepno, out.bound_mean, gnorm);
        return -1;
    }
    *bound = out.bound_mean, *mb = m;
    *rec = vae_objective_out_value(&out, "rec"), *kl = vae_objective_out_value(&out, "kl");
    *elbo = vae_objective_out_value(&out, "elbo");
    t->last_out = out;
    return 1;
}

/* --profile: the table of this process's steps (ms per step) into dir/profile.txt and onto stderr. */
static int write_profile(trainer *t, char *msg, size_t n) {
    vae_profile_row rows[128];
    const int nr = vae_profile_rows(t->prof, rows, 128);
    int64_t steps = 0; /* the steps this process took: the optimizer phase counts one per step */
    for (int j = 0; j < nr && j < 128; j++)
        if (!strcmp(rows[j].name, "(optimizer)")) steps = rows[j].calls;
    const int len = vae_profile_format(t->prof, steps > 0 ? (double)steps : 1, NULL, 0);
    char *buf = malloc((size_t)len + 1);
    if (!buf) return snprintf(msg, n, "out of memory"), -1;
    vae_profile_format(t->prof, steps > 0 ? (double)steps : 1, buf, (size_t)len + 1);
    char path[RUN_PATH_MAX];
    vae_error err = {0};
    vae_atomic_file af;
    int rc = path_join(path, sizeof path, t->dir, "profile.txt", msg, n);
    if (!rc && vae_atomic_open(&af, path, &err) == VAE_OK) {
        fprintf(af.f, "vae train --profile: %" PRId64 " steps, %d threads; ms per step\n%s", steps,
                vae_threads_get(), buf);
        rc = vae_atomic_commit(&af, &err) == VAE_OK ? 0 : -1;
    } else if (!rc) {
        rc = -1;
    }
    if (rc && err.code) snprintf(msg, n, "%s", err.msg);
    if (!rc && !t->prog.quiet)
        fprintf(stderr, "profile of %" PRId64 " steps (ms per step), also in %s:\n%s", steps, path,
                buf);
    free(buf);
    return rc;
}

static void print_result(trainer *t, const char *status, double seconds) {
    json j;
    json_init(&j);
    json_begin(&j, NULL);
    json_str(&j, "command", "train");
    json_str(&j, "status", status);
    json_bool(&j, "interrupted", strcmp(status, "interrupted") == 0);
    json_str(&j, "out", t->dir);
    json_str(&j, "checkpoint", t->ckpt);
    json_str(&j, "data", t->cfg.data);
    json_str(&j, "model", t->cfg.model);
    json_str(&j, "objective", t->cfg.objective);
    json_str(&j, "likelihood", t->cfg.likelihood);
    json_int(&j, "latent", t->cfg.latent);
    if (t->cfg.latent2) json_int(&j, "latent2", t->cfg.latent2);
    if (t->cfg.classes > 0) json_int(&j, "classes", t->cfg.classes); /* a conditional VAE */
    if (t->cfg.bayes_decoder) /* the last step's KL(q(theta) || p(theta)) / N */
        json_num(&j, "weight_kl_per_example", vae_objective_out_value(&t->last_out, "weight_kl"));
    json_int(&j, "epochs", t->cfg.epochs_done);
    json_int(&j, "step", t->optim.step);
    int last = t->log.n - 1;
    json_num(&j, "train_bound", last >= 0 ? t->log.train_bound[last] : NAN);
    json_num(&j, "train_elbo", t->last_train_elbo);
    json_num(&j, "valid_bound", last >= 0 ? t->log.valid_bound[last] : NAN);
    json_num(&j, "valid_bound_se", last >= 0 ? t->log.valid_bound_se[last] : NAN);
    json_num(&j, "valid_elbo", last >= 0 ? t->log.valid_elbo[last] : NAN);
    json_num(&j, "valid_elbo_se", last >= 0 ? t->log.valid_elbo_se[last] : NAN);
    if (t->last_eval.kl_per_dim) {
        json_num(&j, "kl", t->last_eval.kl);
        json_int(&j, "active_units", t->last_eval.active_units);
        if (t->last_eval.nlayers > 1) { /* z1's, z2's */
            json_begin_array(&j, "active_units_per_layer");
            for (int l = 0; l < t->last_eval.nlayers; l++)
                json_int(&j, NULL, t->last_eval.layer_active[l]);
            json_end_array(&j);
        }
    }
    json_num(&j, "seconds", seconds);
    json_num(&j, "train_seconds", t->cfg.elapsed);
    json_end(&j);
    progress_clear(&t->prog);
    json_print(&j, stdout);
    json_free(&j);
}

static cli_opt *train_table(train_opts *o, int *n) {
    static cli_opt tab[96];
    cli_opt t[] = {
        CLI_OPT_PLUGIN,
        {"data", "SPEC", CLI_OPT_STR, &o->data, 0, 0, NULL,
         "sprites[:S] (default), mnist:DIR, fashion-mnist[:DIR], binarized-mnist:DIR, npy:FILE, "
         "csv:FILE",
         0},
        {"objective", "SPEC", CLI_OPT_STR, &o->objective, 0, 0, NULL,
         "NAME[:key=value,...]: an objective listed below, e.g. vr:alpha=0.5,k=5 (replaces --model "
         "and its options)",
         0},
        {"model", "KIND", CLI_OPT_CHOICE, &o->model, 0, 0, "vae|beta-vae|iwae|cvae",
         "objective: vae|beta-vae|iwae (vae), cvae = vae with --cond; --objective takes any", 0},
        FAMILY_TRAIN_OPTS(&o->fam),
        {"likelihood", "NAME", CLI_OPT_STR, &o->likelihood, 0, 0, NULL,
         "p(x|z), one of the likelihoods listed below (auto: bernoulli for images, gaussian for "
         "CSV)",
         0},
        {"lik-param", "X", CLI_OPT_REAL, &o->lik_param, 0, 1e6, NULL,
         "the likelihood's option: gaussian sigma (1), student-t degrees of freedom (4); 0 = "
         "default",
         0},
        {"latent", "Z", CLI_OPT_INT, &o->latent, 1, 4096, NULL, "latent dimensions (10)", 0},
        {"hidden", "H1[,H2..]", CLI_OPT_STR, &o->hidden, 0, 0, NULL,
         "encoder hidden sizes, mirrored by the decoder (256)", 0},
        {"flow", "F:K", CLI_OPT_STR, &o->flow, 0, 0, NULL,
         "posterior flow, K steps: planar:K (amortized) | iaf:K (MADE, encoder context); reparam "
         "estimator only (none)",
         0},
        {"prior", "P:K", CLI_OPT_STR, &o->prior, 0, 0, NULL,
         "prior: mog:K (learned mixture of K Gaussians) | vamp:K (VampPrior, K pseudo-inputs); "
         "Monte-Carlo KL (normal)",
         0},
        {"activation", "ACT", CLI_OPT_CHOICE, &o->activation, 0, 0,
         "relu|tanh|softplus|sigmoid|elu|leaky-relu",
         "hidden activation: relu|tanh|softplus|sigmoid|elu|leaky-relu (relu)", 0},
        {"layers", "N", CLI_OPT_INT, &o->layers, 1, 2, NULL,
         "stochastic layers (1); 2: Burda et al.'s x -> z1 -> z2, defaults --latent 100 --hidden "
         "100,100 --latent2 50 --hidden2 50,50 --activation tanh",
         0},
        {"latent2", "Z2", CLI_OPT_INT, &o->latent2, 1, 4096, NULL,
         "size of the second stochastic layer z2; implies --layers 2 (50)", 0},
        {"hidden2", "H1[,H2..]", CLI_OPT_STR, &o->hidden2, 0, 0, NULL,
         "hidden sizes of q(z2|z1), mirrored by p(z1|z2); implies --layers 2 (50,50)", 0},
        {"net", "KIND", CLI_OPT_CHOICE, &o->net, 0, 0, "mlp|conv",
         "encoder/decoder: mlp (--hidden) or conv (images only, h and w multiples of 4: two 4x4 "
         "stride-2 convs and a linear layer or --conv-hidden, mirrored by transposed convs) (mlp)",
         0},
        {"conv-channels", "C1,C2", CLI_OPT_STR, &o->conv_channels, 0, 0, NULL,
         "--net conv: channels of its two conv layers (16,32)", 0},
        {"conv-hidden", "H1[,H2..]", CLI_OPT_STR, &o->conv_hidden, 0, 0, NULL,
         "--net conv: fully connected hidden layers between its conv features and the latent, "
         "mirrored by the decoder (none: one linear layer)",
         0},
        {"samples", "K", CLI_OPT_INT, &o->samples, 1, 100000, NULL,
         "samples per datum (vae) or particles K (iwae) (1)", 0},
        {"k", "K", CLI_OPT_INT, &o->samples, 1, 100000, NULL, "same as --samples", 0},
        {"beta", "B", CLI_OPT_REAL, &o->beta, 0, 1e6, NULL,
         "KL weight; implies --model beta-vae (1)", 0},
        {"kl-warmup", "STEPS", CLI_OPT_INT, &o->kl_warmup, 0, 1e12, NULL,
         "linear KL warm-up from 0 over STEPS (0)", 0},
        {"free-bits", "L", CLI_OPT_REAL, &o->free_bits, 0, 1e6, NULL,
         "free bits: KL term sum_j max(L, KL_j) (0 = off)", 0},
        {"capacity", "G,CMAX,STEPS", CLI_OPT_STR, &o->capacity, 0, 0, NULL,
         "Burgess et al.: -rec + G |KL - C|, C rising to CMAX nats over STEPS", 0},
        {"n-over-m", NULL, CLI_OPT_FLAG, &o->n_over_m, 0, 0, NULL,
         "scale the loss to the data set, -(N/M) sum over the batch, as AEVB (default: batch mean)",
         0},
        {"mc-kl", NULL, CLI_OPT_FLAG, &o->mc_kl, 0, 0, NULL,
         "Monte-Carlo KL instead of the analytic KL", 0},
        {"estimator", "EST", CLI_OPT_CHOICE, &o->estimator, 0, 0, "reparam|score|stl|dreg|gumbel",
         "encoder gradient: reparam|score|stl|dreg|gumbel (reparam; dreg needs iwae; discrete latents: "
         "score or gumbel)",
         0},
        {"baseline", "B", CLI_OPT_CHOICE, &o->baseline, 0, 0, "none|ma|vimco|nvil",
         "score-function baseline: none|ma|vimco|nvil (none; nvil: a learned b(x), Mnih & Gregor)", 0},
        {"latent-kind", "KIND", CLI_OPT_STR, &o->latent_kind, 0, 0, NULL,
         "gaussian | categorical:NxC (N one-hot variables of C classes) | bernoulli:N, uniform prior "
         "(gaussian)",
         0},
        {"baseline-hidden", "H", CLI_OPT_INT, &o->baseline_hidden, 0, 65536, NULL,
         "hidden units of NVIL's b(x) (100 with discrete latents or --baseline nvil, else 0)", 0},
        {"temperature", "T", CLI_OPT_REAL, &o->temperature, 1e-6, 1e3, NULL,
         "gumbel: Gumbel-softmax temperature (1)", 0},
        {"temp-anneal", "R", CLI_OPT_REAL, &o->temp_anneal, 0, 1, NULL,
         "gumbel: T_t = max(T_min, T exp(-R t)) per step t (0 = fixed T)", 0},
        {"temp-min", "T", CLI_OPT_REAL, &o->temp_min, 1e-6, 1e3, NULL,
         "gumbel: the annealing floor T_min (0.5)", 0},
        {"straight-through", NULL, CLI_OPT_FLAG, &o->straight_through, 0, 0, NULL,
         "gumbel: hard one-hot forward, relaxed gradient", 0},
        {"optimizer", "OPT", CLI_OPT_CHOICE, &o->optimizer, 0, 0, "adam|adamw|sgd|adagrad",
         "adam|adamw|sgd|adagrad (adam)", 0},
        {"lr", "LR", CLI_OPT_REAL, &o->lr, 1e-12, 10, NULL, "learning rate (0.001)", 0},
        {"schedule", "S", CLI_OPT_CHOICE, &o->schedule, 0, 0, "constant|step|cosine|burda",
         "learning-rate schedule: constant|step|cosine|burda (constant)", 0},
        {"warmup", "STEPS", CLI_OPT_INT, &o->warmup, 0, 1e12, NULL,
         "linear learning-rate warm-up (0)", 0},
        {"lr-decay-every", "STEPS", CLI_OPT_INT, &o->lr_decay_every, 0, 1e12, NULL,
         "step schedule: decay period (a third of the run)", 0},
        {"lr-gamma", "G", CLI_OPT_REAL, &o->lr_gamma, 1e-6, 1, NULL,
         "step schedule: decay factor (0.1)", 0},
        {"weight-decay", "WD", CLI_OPT_REAL, &o->weight_decay, 0, 1e3, NULL,
         "weight decay (0; adamw 0.01)", 0},
        {"clip-norm", "N", CLI_OPT_REAL, &o->clip_norm, 0, 1e12, NULL,
         "clip the global gradient norm (0 = off)", 0},
        {"adam-beta1", "B", CLI_OPT_REAL, &o->adam_beta1, 0, 0.999999, NULL,
         "Adam/AdamW first-moment decay (0 = default 0.9)", 0},
        {"adam-beta2", "B", CLI_OPT_REAL, &o->adam_beta2, 0, 0.999999, NULL,
         "Adam/AdamW second-moment decay (0 = default 0.999)", 0},
        {"opt-eps", "E", CLI_OPT_REAL, &o->opt_eps, 0, 1, NULL,
         "the optimizer's eps (0 = default: 1e-8 Adam, 1e-10 Adagrad; Burda et al. used 1e-4)", 0},
        {"batch", "M", CLI_OPT_INT, &o->batch, 1, 1000000, NULL, "minibatch size (100)", 0},
        {"epochs", "E", CLI_OPT_INT, &o->epochs, 1, 10000000, NULL,
         "passes over the training set (60)", 0},
        {"binarize", "HOW", CLI_OPT_CHOICE, &o->binarize, 0, 0, "auto|dynamic|threshold|none",
         "auto|dynamic|threshold|none (auto: dynamic for grey images with a Bernoulli decoder)", 0},
        {"valid-fraction", "F", CLI_OPT_REAL, &o->valid_fraction, 0, 0.5, NULL,
         "training data held out for validation (0.1)", 0},
        {"labels", "L,...", CLI_OPT_STR, &o->labels, 0, 0, NULL,
         "keep only the examples with these labels, in every split (all)", 0},
        {"n-train", "N", CLI_OPT_INT, &o->n_train, 0, 1e12, NULL,
         "use only the first N training examples (all)", 0},
        {"seed", "S", CLI_OPT_INT, &o->seed, 0, 9.2e18, NULL,
         "random seed: weights, split, batches, noise (1)", 0},
        CLI_OPT_THREADS(&o->threads),
        {"dtype", "T", CLI_OPT_CHOICE, &o->dtype, 0, 0, "f32|f64", "f32|f64 (f32)", 0},
        {"out", "DIR", CLI_OPT_STR, &o->out, 0, 0, NULL, "output directory (runs/<data>-<model>)",
         0},
        {"resume", NULL, CLI_OPT_FLAG, &o->resume, 0, 0, NULL,
         "continue the run in --out from its checkpoint", 0},
        {"max-steps", "N", CLI_OPT_INT, &o->max_steps, 0, 1e15, NULL,
         "stop (with a checkpoint) once the run has taken N steps (0 = no limit)", 0},
        {"log-every", "N", CLI_OPT_INT, &o->log_every, 0, 1e12, NULL,
         "a progress line every N steps, on a terminal too (0: a bar on a terminal, else a line every 10 s)", 0},
        {"pictures-every", "E", CLI_OPT_INT, &o->pictures_every, 0, 1e7, NULL,
         "also write the pictures every E epochs (0 = at the end only)", 0},
        {"no-pictures", NULL, CLI_OPT_FLAG, &o->no_pictures, 0, 0, NULL, "skip the pictures", 0},
        {"log-steps", "N", CLI_OPT_INT, &o->log_steps, 0, 1e12, NULL,
         "also log loss, bound, KL, KL weight and gradient norm every N steps in log.jsonl (0 = "
         "off)",
         0},
        {"study-every", "E", CLI_OPT_INT, &o->study.every, 0, 1e7, NULL,
         "estimator study every E epochs (and after the first) into study.jsonl (0 = off)", 0},
        {"study-draws", "R", CLI_OPT_INT, &o->study.draws, 2, 1e7, NULL,
         "gradient draws per estimator and K in the study (20)", 0},
        {"study-batch", "B", CLI_OPT_INT, &o->study.batch, 1, 1e6, NULL,
         "examples in the study's fixed batch (20)", 0},
        {"study-ks", "LIST", CLI_OPT_STR, &o->study.ks, 0, 0, NULL, "the study's K values (1,5,20)",
         0},
        {"study-estimators", "LIST", CLI_OPT_STR, &o->study.estimators, 0, 0, NULL,
         "the study's EST[:BASELINE] list (reparam,dreg,stl)", 0},
        {"study-objective", "SPEC", CLI_OPT_STR, &o->study.objective, 0, 0, NULL,
         "the bound studied (iwae)", 0},
        {"deterministic-reduce", NULL, CLI_OPT_FLAG, &o->det_reduce, 0, 0, NULL,
         "under mpirun: sum the gradients of 8 fixed batch groups in order, the same bits for any "
         "rank count up to 8",
         0},
        {"profile", NULL, CLI_OPT_FLAG, &o->profile, 0, 0, NULL,
         "time every op's forward and backward and the step's other phases; the table (ms per step) goes to "
         "profile.txt in --out and to stderr",
         0},
        CLI_OPT_QUIET(&o->quiet),
        {"max-memory", "SIZE", CLI_OPT_STR, &o->max_memory, 0, 0, NULL,
         "refuse data whose load is estimated above SIZE (e.g. 2G; default 4G)", 0},
    };
    _Static_assert(sizeof t <= sizeof tab, "train_table: raise the size of tab");
    *n = (int)(sizeof t / sizeof *t);
    memcpy(tab, t, sizeof t);
    return tab;
}

/* Options that --resume may change; the rest of the configuration lives in the checkpoint. */
static const char *const resumable[] = {"out",
                                        "resume",
                                        "epochs",
                                        "max-steps",
                                        "log-every",
                                        "threads",
                                        "quiet",
                                        "pictures-every",
                                        "no-pictures",
                                        "max-memory",
                                        "log-steps",
                                        "study-every",
                                        "study-draws",
                                        "study-batch",
                                        "study-ks",
                                        "study-estimators",
                                        "study-objective",
                                        "deterministic-reduce",
                                        "profile",
                                        NULL};

/* The optimizer the run describes: its kind's defaults, then the run's lr, weight decay, betas and eps (0 keeps
 * a default). */
static vae_optim_config optim_config(const run_config *c) {
    vae_optim_config oc = vae_optim_defaults((vae_optim_kind)optim_kind(c->optimizer), c->lr);
    oc.weight_decay = c->weight_decay;
    if (c->adam_beta1 > 0) oc.beta1 = c->adam_beta1;
    if (c->adam_beta2 > 0) oc.beta2 = c->adam_beta2;
    if (c->opt_eps > 0) oc.eps = c->opt_eps;
    return oc;
}

static int setup_fresh(trainer *t, const train_opts *o, cli_opt *tab, int ntab, char *msg,
                       size_t n) {
    int rc = config_from_opts(o, tab, ntab, &t->cfg);
    if (rc) return rc;
    if (file_exists(t->ckpt))
        return cli_error(
            CMD, "%s already holds a run (%s); continue it with --resume or choose another --out",
            t->dir, RUN_CHECKPOINT);
    int drc = run_data_load(&t->cfg, NULL, 1, &t->data, msg, n);
    if (drc) return cli_data_error(CMD, drc, msg);
    if (check_applies(&t->cfg, tab, ntab, &t->data)) return CLI_EXIT_USAGE;
    if (family_after_data(&t->cfg, &t->data.train, msg, n)) return cli_error(CMD, "%s", msg);
    if (run_config_check(&t->cfg, msg, n)) return cli_error(CMD, "%s", msg);
    if (run_build_net(&t->cfg, &t->net, msg, n)) return cli_error(CMD, "%s", msg);
    vae_net_set_data_size(&t->net, t->data.train.n); /* full VB: the weight KL / N */
    /* Burda et al.: start the output bias at the data's mean logit */
    float *mean = calloc((size_t)t->cfg.x_dim, sizeof *mean);
    if (!mean) return cli_error(CMD, "out of memory");
    for (int64_t i = 0; i < t->data.train.n; i++)
        for (int64_t j = 0; j < t->cfg.x_dim; j++) mean[j] += t->data.train.x[i * t->cfg.x_dim + j];
    for (int64_t j = 0; j < t->cfg.x_dim; j++) mean[j] /= (float)t->data.train.n;
    vae_net_init_output_bias(&t->net, mean);
    free(mean);
    vae_optim_config oc = optim_config(&t->cfg);
    vae_error err = {0};
    if (vae_optim_init(&t->optim, t->net.params, &oc, &err)) return cli_error(CMD, "%s", err.msg);
    vae_ctx_seed(t->ctx, (uint64_t)t->cfg.seed);
    vae_rng_seed(&t->rng_data, (uint64_t)t->cfg.seed ^ 0xda7aULL);
    if (ranks_rank() > 0) return 0; /* rank 0 alone writes the run directory */
    if (make_dirs(t->dir, msg, n)) return cli_error(CMD, "%s", msg);
    if (train_log_reset(&t->log, t->logpath, msg, n)) return cli_error(CMD, "%s", msg);
    return 0;
}

static int setup_resume(trainer *t, const train_opts *o, cli_opt *tab, int ntab, char *msg,
                        size_t n) {
    for (int i = 0; i < ntab; i++) {
        if (!tab[i].seen) continue;
        int ok = 0;
        for (int k = 0; resumable[k]; k++) ok |= strcmp(tab[i].name, resumable[k]) == 0;
        if (!ok)
            return cli_usage_error(
                CMD,
                "--%s cannot change when resuming: the run's configuration is in its checkpoint",
                tab[i].name);
    }
    if (!file_exists(t->ckpt))
        return cli_error(CMD, "nothing to resume: %s does not exist", t->ckpt);
    run r;
    if (run_open(NULL, t->ckpt, &r, msg, n)) return cli_error(CMD, "%s", msg);
    t->cfg = r.cfg; /* takes the arrays */
    r.cfg.col_mean = r.cfg.col_std = NULL;
    r.cfg.nstd = 0;
    run_close(&r);
    if (cli_seen(tab, ntab, "epochs")) {
        if (o->epochs < t->cfg.epochs_done)
            return cli_usage_error(
                CMD, "--epochs %" PRId64 ": the run has already done %" PRId64 " epochs", o->epochs,
                t->cfg.epochs_done);
        t->cfg.epochs = o->epochs;
    }
    int drc = run_data_load(&t->cfg, NULL, 0, &t->data, msg, n);
    if (drc) return cli_data_error(CMD, drc, msg);
    if (run_build_net(&t->cfg, &t->net, msg, n)) return cli_error(CMD, "%s", msg);
    vae_net_set_data_size(&t->net, t->data.train.n);
    vae_optim_config oc = optim_config(&t->cfg);
    vae_error err = {0};
    if (vae_optim_init(&t->optim, t->net.params, &oc, &err)) return cli_error(CMD, "%s", err.msg);
    if (vae_checkpoint_load(t->ckpt, t->net.params, &t->optim, NULL, NULL, &err))
        return cli_error(CMD, "%s", err.msg);
    *vae_ctx_rng(t->ctx) = t->cfg.rng_ctx;
    t->rng_data = t->cfg.rng_data;
    t->ost.step = t->cfg.obj_step;
    t->ost.baseline = t->cfg.obj_baseline;
    t->ost.baseline_ready = t->cfg.obj_baseline_ready;
    if (ranks_rank() == 0 &&
        train_log_trim(&t->log, t->logpath, t->cfg.epochs_done, t->cfg.step, msg, n))
        return cli_error(CMD, "%s", msg);
    return 0;
}

int cmd_train(int argc, char **argv) {
    run_config d;
    run_config_default(&d);
    train_opts o = {.data = "sprites",
                    .model = "vae",
                    .likelihood = "auto",
                    .hidden = "256",
                    .activation = "relu",
                    .net = "mlp",
                    .estimator = "reparam",
                    .baseline = "none",
                    .optimizer = "adam",
                    .schedule = "constant",
                    .binarize = "auto",
                    .dtype = "f32",
                    .latent = d.latent,
                    .layers = 1,
                    .latent2 = 50,
                    .hidden2 = "50,50",
                    .samples = 1,
                    .batch = d.batch,
                    .epochs = d.epochs,
                    .seed = d.seed,
                    .beta = 1.0,
                    .lr = d.lr,
                    .weight_decay = -1,
                    .valid_fraction = d.valid_fraction,
                    .lr_gamma = 0.1,
                    .baseline_hidden = -1,
                    .temperature = 1.0,
                    .temp_min = 0.5,
                    .study = {.draws = 20,
                              .batch = 20,
                              .ks = "1,5,20",
                              .estimators = "reparam,dreg,stl",
                              .objective = "iwae"}};
    int ntab;
    cli_opt *tab = train_table(&o, &ntab);
    int rc = cli_parse(
        CMD, argc, argv, tab, ntab, "[OPTIONS]",
        "Train a VAE and write checkpoint.vae, log.jsonl and pictures into --out.\n"
        "Ctrl-C stops at the next step, saves, and exits with status 130; --resume continues.");
    if (rc == CLI_PARSE_HELP) cli_print_likelihoods();
    if (rc == CLI_PARSE_HELP) return CLI_EXIT_OK;
    if (rc) return CLI_EXIT_USAGE;
    if (o.max_memory) { /* hardening: the memory limit of the data load */
        size_t mm = 0;
        if (run_parse_size(o.max_memory, &mm))
            return cli_usage_error(CMD, "--max-memory: \"%s\" is not a size (e.g. 2G, 512M)",
                                   o.max_memory);
        run_data_set_max_memory(mm);
    }
    {
        char why[256];
        if (train_study_check(&o.study, why, sizeof why)) return cli_usage_error(CMD, "%s", why);
    }

    double t0 = clock_now();
    trainer t;
    memset(&t, 0, sizeof t);
    t.last_train_elbo = t.valid_bound = t.valid_bound_se = NAN;
    char msg[512];
    if (o.out)
        snprintf(t.dir, sizeof t.dir, "%s", o.out);
    else {
        char name[64];
        if (o.objective)
            snprintf(name, sizeof name, "%.*s", (int)strcspn(o.objective, ":"), o.objective);
        else
            snprintf(name, sizeof name, "%s",
                     cli_seen(tab, ntab, "beta") && !strcmp(o.model, "vae") ? "beta-vae" : o.model);
        default_out(t.dir, sizeof t.dir, o.data, name);
        /* a new run never lands on an old one: without --out, take the next free name (runs/sprites-vae-2, ...);
         * an explicit --out that holds a run is refused below instead */
        char base[sizeof t.dir], probe[sizeof t.dir + 32];
        snprintf(base, sizeof base, "%s", t.dir);
        for (int i = 2; !o.resume && i < 10000; i++) {
            if (path_join(probe, sizeof probe, t.dir, RUN_CHECKPOINT, msg, sizeof msg) ||
                !file_exists(probe))
                break;
            snprintf(t.dir, sizeof t.dir, "%.*s-%d", (int)(sizeof t.dir - 16), base, i);
        }
    }
    if (path_join(t.ckpt, sizeof t.ckpt, t.dir, RUN_CHECKPOINT, msg, sizeof msg) ||
        path_join(t.logpath, sizeof t.logpath, t.dir, "log.jsonl", msg, sizeof msg))
        return cli_usage_error(CMD, "--out: %s", msg);
    cli_set_threads(o.threads);
    int rank0 = ranks_rank() == 0;
    if (!rank0) o.quiet = 1;
    t.det_reduce = o.det_reduce;
    t.ctx = vae_ctx_new(0);
    t.ectx = vae_ctx_new(0);
    if (o.profile) vae_ctx_set_profile(t.ctx, t.prof = vae_profile_new());
    if (!t.ctx || !t.ectx || (o.profile && !t.prof)) {
        trainer_free(&t);
        return cli_error(CMD, "out of memory");
    }
    /* hardening: one writer per run directory, held until the process ends (under MPI rank 0 is the writer) */
    run_lock lock = {.fd = -1};
    if (rank0 && (!o.resume || file_exists(t.dir)) &&
        run_lock_take(&lock, t.dir, !o.resume, msg, sizeof msg)) {
        trainer_free(&t);
        return cli_error(CMD, "%s", msg);
    }
    rc = o.resume ? setup_resume(&t, &o, tab, ntab, msg, sizeof msg)
                  : setup_fresh(&t, &o, tab, ntab, msg, sizeof msg);
    if (rc) {
        run_lock_release(&lock, 1);
        trainer_free(&t);
        return rc;
    }
    run_config *c = &t.cfg;
    /* every plugin loaded (the command's --plugin and, on resume, the run's own) goes into the run */
    if (run_config_set_plugins(c, msg, sizeof msg)) {
        trainer_free(&t);
        return cli_error(CMD, "%s", msg);
    }
    vae_error err = {0};
    t.xbuf = malloc(vae_dataset_batch_bytes(c->batch, c->x_dim));
    t.ybuf = malloc(sizeof(int64_t) * (size_t)c->batch);
    if (!t.xbuf || !t.ybuf ||
        vae_batch_iter_init(&t.it, t.data.train.n, c->batch, (uint64_t)c->seed, 0, &err)) {
        trainer_free(&t);
        return cli_error(CMD, "%s", err.msg[0] ? err.msg : "out of memory");
    }
    if (run_config_objective(c, t.data.train.n, &t.ocfg, msg, sizeof msg)) {
        trainer_free(&t);
        return cli_error(CMD, "%s", msg);
    }
    t.steps_per_epoch = (t.data.train.n + c->batch - 1) / c->batch;
    if (c->batch_in_epoch < 0 ||
        c->batch_in_epoch > t.steps_per_epoch) { /* hardening: a resumed position */
        trainer_free(&t);
        return cli_error(CMD,
                         "%s: the run stands at batch %" PRId64 " of epoch %" PRId64
                         ", but an epoch of this data has %" PRId64 " batches",
                         t.ckpt, c->batch_in_epoch, c->epochs_done + 1, t.steps_per_epoch);
    }
    int64_t total = c->epochs * t.steps_per_epoch;
    t.sched = make_schedule(c, total);
    progress_init(&t.prog, t.optim.step, total, o.log_every, o.quiet);
    if (!o.quiet)
        progress_note(&t.prog,
                      "vae train: %s, %" PRId64 " train / %" PRId64 " valid examples of %" PRId64
                      " features; %s, %s likelihood, Z=%" PRId64 ", %" PRId64 " parameters -> %s",
                      t.data.train.name, t.data.train.n, t.data.valid.n, c->x_dim, c->model,
                      c->likelihood, vae_net_latent_dim(&t.net), vae_params_numel(t.net.params),
                      t.dir);
    install_sigint();
    const char *status = "done";
    int exit_code = CLI_EXIT_OK;
    while (c->epochs_done < c->epochs) {
        int64_t e = c->epochs_done;
        vae_batch_iter_set_epoch(&t.it, e);
        for (int64_t k = 0; k < c->batch_in_epoch; k++) {
            const int64_t *idx;
            vae_batch_iter_next(&t.it, &idx);
        }
        double te = clock_now(), tstep = 0;
        int64_t seen = c->batch_in_epoch * c->batch < t.data.train.n ? c->batch_in_epoch * c->batch
                                                                     : t.data.train.n;
        int64_t seen_now = 0;
        int r = 1;
        for (;;) {
            if (train_ranks_needed(t.det_reduce) ? t.stop_all : g_stop) {
                status = "interrupted";
                break;
            }
            if (o.max_steps > 0 && t.optim.step >= o.max_steps) {
                status = "max-steps";
                break;
            }
            double bound, rec, kl, elbo, ts = clock_now();
            int64_t m;
            r = train_step(&t, &bound, &rec, &kl, &elbo, &m, msg, sizeof msg);
            if (r <= 0) break;
            tstep += clock_now() - ts;
            c->batch_in_epoch++;
            c->part_bound += bound * (double)m, c->part_rec += rec * (double)m,
                c->part_kl += kl * (double)m;
            /* an objective that does not report the ELBO leaves train_elbo null */
            if (isfinite(elbo)) c->part_elbo += elbo * (double)m;
            t.has_elbo = isfinite(elbo);
            seen += m, seen_now += m;
            progress_step(&t.prog, t.optim.step, e + 1, c->epochs, bound,
                          tstep > 0 ? (double)seen_now / tstep : 0);
            if (o.log_steps > 0 && t.optim.step % o.log_steps == 0) {
                train_step_record sr = {.step = t.optim.step,
                                        .epoch = e + 1,
                                        .loss = t.last_loss,
                                        .bound = bound,
                                        .kl = kl,
                                        .kl_weight =
                                            vae_objective_out_value(&t.last_out, "kl_weight"),
                                        .grad_norm = t.last_gnorm,
                                        .lr = t.optim.cfg.lr,
                                        .seconds = c->elapsed + (clock_now() - te)};
                if (train_log_step(t.logpath, &sr, msg, sizeof msg)) {
                    r = -1;
                    break;
                }
            }
        }
        c->elapsed += clock_now() - te;
        if (r < 0) {
            trainer_free(&t);
            progress_clear(&t.prog);
            return cli_error(CMD, "%s", msg);
        }
        if (strcmp(status, "done") != 0) break;
        /* the epoch is complete */
        if (rank0 && evaluate_epoch(&t, msg, sizeof msg)) {
            trainer_free(&t);
            return cli_error(CMD, "%s", msg);
        }
        train_epoch_row row = {.epoch = e + 1,
                               .step = t.optim.step,
                               .bound_name = c->objective,
                               .train_bound = seen ? c->part_bound / (double)seen : NAN,
                               .train_elbo = seen && t.has_elbo ? c->part_elbo / (double)seen : NAN,
                               .valid_bound = t.valid_bound,
                               .valid_bound_se = t.valid_bound_se,
                               .kl_weight = vae_objective_out_value(&t.last_out, "kl_weight"),
                               .beta = vae_objective_out_value(&t.last_out, "beta"),
                               .capacity = vae_objective_out_value(&t.last_out, "capacity"),
                               .train_rec = seen ? c->part_rec / (double)seen : NAN,
                               .train_kl = seen ? c->part_kl / (double)seen : NAN,
                               .has_valid = t.data.valid.n > 0,
                               .ev = &t.last_eval,
                               .lr = t.optim.cfg.lr,
                               .seconds = clock_now() - te,
                               .samples_per_s = tstep > 0 ? (double)seen_now / tstep : 0};
        t.last_train_elbo = row.train_elbo;
        c->epochs_done = e + 1;
        c->batch_in_epoch = 0;
        c->part_bound = c->part_rec = c->part_kl = c->part_elbo = 0;
        if (rank0 && (train_log_append(&t.log, t.logpath, &row, msg, sizeof msg) ||
                      save_checkpoint(&t, msg, sizeof msg))) {
            trainer_free(&t);
            progress_clear(&t.prog);
            return cli_error(CMD, "%s", msg);
        }
        progress_note(&t.prog,
                      "epoch %" PRId64 "/%" PRId64
                      "  train %s %.2f  valid ELBO %.2f  KL %.2f  AU %d/%" PRId64 "  %.1f s",
                      e + 1, c->epochs, c->objective, row.train_bound,
                      row.has_valid ? t.last_eval.elbo : NAN, t.last_eval.kl,
                      t.last_eval.active_units, vae_net_latent_dim(&t.net), row.seconds);
        if (rank0 && o.study.every > 0 && (e == 0 || (e + 1) % o.study.every == 0) &&
            train_study_record(&o.study, t.dir, e + 1, t.optim.step, (uint64_t)c->seed, t.ectx,
                               &t.net, &t.data, msg, sizeof msg)) {
            trainer_free(&t);
            progress_clear(&t.prog);
            return cli_error(CMD, "%s", msg);
        }
        if (rank0 && !o.no_pictures && o.pictures_every > 0 && (e + 1) % o.pictures_every == 0 &&
            c->epochs_done < c->epochs && write_pictures(&t, msg, sizeof msg))
            progress_note(&t.prog, "vae train: warning: pictures: %s", msg);
    }
    if (strcmp(status, "done") != 0) {
        if (rank0 && save_checkpoint(&t, msg, sizeof msg)) {
            trainer_free(&t);
            return cli_error(CMD, "%s", msg);
        }
        progress_note(&t.prog,
                      "vae train: %s at step %" PRId64
                      "; checkpoint saved; continue with: vae train --resume --out %s",
                      strcmp(status, "interrupted") == 0 ? "interrupted" : "stopped", t.optim.step,
                      t.dir);
        if (strcmp(status, "interrupted") == 0) exit_code = CLI_EXIT_INTERRUPTED;
    }
    if (rank0 && exit_code == CLI_EXIT_OK && !o.no_pictures) {
        if (!t.last_eval.kl_per_dim && evaluate_epoch(&t, msg, sizeof msg)) {
            trainer_free(&t);
            return cli_error(CMD, "%s", msg);
        }
        if (write_pictures(&t, msg, sizeof msg)) {
            trainer_free(&t);
            return cli_error(CMD, "pictures: %s", msg);
        }
    }
    if (train_ranks_same_params(t.net.params, msg, sizeof msg)) {
        trainer_free(&t);
        return cli_error(CMD, "%s", msg);
    }
    if (rank0 && t.prof && write_profile(&t, msg, sizeof msg))
        progress_note(&t.prog, "vae train: warning: profile: %s", msg);
    if (rank0) print_result(&t, status, clock_now() - t0);
    trainer_free(&t);
    return exit_code;
}
