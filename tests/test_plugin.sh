#!/bin/sh
# test_plugin.sh VAE MODEL_CHECK STUDENT_T_SO SRCDIR CC... - plugins end to end (a few seconds):
# the README's example plugin compiled here with the build's compiler, a run trained with it, eval
# and estimators on the run (its plugin loaded from the run), a user program loading the checkpoint
# with vae_model_load, and the error rows (missing file, no entry point, failing init, a run whose
# plugin has gone). Prints "N passed, M failed" and exits 1 on any failure.
VAE=$1
MODEL_CHECK=$2
STUDENT_T_SO=$3
SRC=$4
shift 4
if [ ! -x "$VAE" ] || [ ! -x "$MODEL_CHECK" ] || [ ! -f "$STUDENT_T_SO" ] || [ $# -lt 1 ]; then
    echo "usage: test_plugin.sh VAE MODEL_CHECK STUDENT_T_SO SRCDIR CC..."
    exit 1
fi
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
VAE=$(abs "$VAE")
MODEL_CHECK=$(abs "$MODEL_CHECK")
STUDENT_T_SO=$(abs "$STUDENT_T_SO")
T=$(mktemp -d "${TMPDIR:-/tmp}/vae_plugin_test.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
    failed=$((failed + 1))
    echo "FAIL: $*"
}
check() {
    d=$1
    shift
    if "$@"; then ok; else bad "$d"; fi
}
expect() { # expect STATUS DESCRIPTION COMMAND...: stdout in $T/out, stderr in $T/err
    want=$1
    d=$2
    shift 2
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" -eq "$want" ]; then ok; else
        bad "$d: exit status $got, expected $want"
        sed 's/^/    /' "$T/err" | tail -5
    fi
}
TINY="--hidden 16 --latent 2 --n-train 200 --batch 100 --epochs 1 --quiet --no-pictures"

# ---- build the plugins with the library's compiler and include dir ----
check "compile examples/plugin_my_lik.c" "$@" -shared -fPIC -I"$SRC" "$SRC/examples/plugin_my_lik.c" \
    -o "$T/my_lik.so"
check "compile examples/plugin_mc_elbo.c" "$@" -shared -fPIC -I"$SRC" "$SRC/examples/plugin_mc_elbo.c" \
    -o "$T/mc_elbo.so"
check "compile a plugin without an entry point" "$@" -shared -fPIC -I"$SRC" "$SRC/tests/plugin_bad.c" \
    -o "$T/noentry.so"
check "compile a plugin whose init fails" "$@" -shared -fPIC -DFAIL_INIT -I"$SRC" "$SRC/tests/plugin_bad.c" \
    -o "$T/failinit.so"

# ---- --help lists the registry, plugins included ----
expect 0 "train --help with a plugin" "$VAE" train --plugin "$T/my_lik.so" --help
check "help lists the plugin's likelihood with its help line" grep -q "my-lik .*softplus pre-scale" "$T/out"
check "help lists a built-in from the registry" grep -q "gaussian-learned .*log-variance" "$T/out"
check "help documents --plugin" grep -q -- "--plugin FILE" "$T/out"
expect 0 "train --help with an objective plugin" "$VAE" train --plugin "$T/mc_elbo.so" --help
check "help lists the plugin's objective with its option defaults" grep -q "^  mc-elbo:k=3$" "$T/out"
check "help lists a built-in objective from the registry" grep -q "^  vr:alpha=0.5,k=5$" "$T/out"
expect 0 "train --help without the plugin" "$VAE" train --help
check "no my-lik without the plugin" test "$(grep -c "my-lik" "$T/out")" -eq 0
expect 2 "my-lik unknown without the plugin" "$VAE" train $TINY --likelihood my-lik --out "$T/x"
check "the message lists what is registered" grep -q "registered: .*student-t" "$T/err"

# ---- a run with the plugin; eval and estimators find it through the run ----
cd "$T" || exit 1
expect 0 "train --plugin ./my_lik.so --likelihood my-lik" "$VAE" train --plugin ./my_lik.so \
    --likelihood my-lik $TINY --out run
check "train reports the likelihood" grep -q '"likelihood":"my-lik"' out
check "the run stores the absolute plugin path" \
    sh -c "$VAE export --run run --to w >/dev/null 2>&1 && grep -qx 'plugin $T/my_lik.so' w/run.txt"
expect 0 "eval of the run loads its plugin" "$VAE" eval --run run --is-samples 5 --quiet
check "eval gives a finite log-likelihood" grep -q '"loglik":-[0-9]' out
expect 0 "estimators on the run" "$VAE" estimators --run run --ks 1,2 --estimators reparam,score \
    --draws 3 --batch 5 --quiet
check "estimators reports rows" grep -q '"estimator":"score","objective":"iwae:k=2","k":2' out
expect 0 "sample from the run" "$VAE" sample --run run --n 4 --out s
expect 0 "a command's own --plugin adds to the run's (the same file: loaded once)" "$VAE" eval --run run \
    --plugin "$T/my_lik.so" --is-samples 2 --quiet
expect 0 "resume keeps the plugin" "$VAE" train --resume --out run --epochs 2 --quiet --no-pictures
check "resumed run still names the plugin" \
    sh -c "$VAE export --run run --to w2 >/dev/null 2>&1 && grep -qx 'plugin $T/my_lik.so' w2/run.txt"

# ---- a user's program opens the checkpoint with vae_model_load ----
expect 1 "vae_model_load without the plugin names the likelihood and the plugin" "$MODEL_CHECK" run/checkpoint.vae
check "...message" grep -q "\"my-lik\" is not registered.*my_lik.so" err
expect 0 "vae_model_load after vae_plugin_load" "$MODEL_CHECK" --plugin ./my_lik.so run/checkpoint.vae
check "model_check output" grep -q "^ok likelihood=my-lik x_dim=1024 z_dim=2 logp=-[0-9]" out
expect 0 "a student-t run of the CLI" "$VAE" train --likelihood student-t --lik-param 5 $TINY --out st
expect 0 "vae_model_load with the student-t example built as a plugin" "$MODEL_CHECK" \
    --plugin "$STUDENT_T_SO" st/checkpoint.vae
check "student-t model_check output" grep -q "^ok likelihood=student-t x_dim=1024 z_dim=2" out
expect 0 "vae_model_load of a bernoulli run (no plugin)" "$VAE" train $TINY --out bern
expect 0 "...loads" "$MODEL_CHECK" bern/checkpoint.vae
check "bernoulli model_check output" grep -q "^ok likelihood=bernoulli" out

# ---- errors: a clear message and a non-zero exit ----
expect 1 "a missing plugin" "$VAE" train --plugin ./nope.so $TINY --out e1
check "...names the file" grep -q "plugin ./nope.so: No such file" err
# ---- an objective and a likelihood from plugins: train, eval, estimators run them by name ----
expect 0 "train with a plugin objective and a plugin likelihood" "$VAE" train --plugin ./mc_elbo.so \
    --plugin ./my_lik.so --objective mc-elbo:k=2 --likelihood my-lik $TINY --out runo
check "train reports the plugin objective" grep -q '"objective":"mc-elbo:k=2"' out
check "the log names the training bound" grep -q '"bound_name":"mc-elbo:k=2"' runo/log.jsonl
check "the bound is finite" grep -q '"train_bound":-[0-9]' runo/log.jsonl
expect 0 "eval of the run loads both plugins" "$VAE" eval --run runo --is-samples 5 --quiet
check "eval gives a finite log-likelihood" grep -q '"loglik":-[0-9]' out
expect 0 "estimators with the plugin objective" "$VAE" estimators --run runo --objective mc-elbo \
    --ks 1,2 --estimators reparam,score --draws 3 --batch 5 --quiet
check "estimators reports mc-elbo rows" grep -q '"estimator":"score","objective":"mc-elbo:k=2","k":2' out
expect 2 "a plugin objective with an unknown key" "$VAE" train --plugin ./mc_elbo.so \
    --objective mc-elbo:q=2 $TINY --out runq
check "...names the valid keys" grep -q "k" err
expect 2 "dreg is refused for mc-elbo" "$VAE" train --plugin ./mc_elbo.so --objective mc-elbo \
    --estimator dreg $TINY --out rund

expect 1 "a .so without the entry point" "$VAE" eval --plugin ./noentry.so --run run
check "...names the entry point" grep -q "noentry.so: no entry point vae_plugin_init" err
expect 1 "an init that fails" "$VAE" train --plugin ./failinit.so $TINY --out e2
check "...gives the plugin's message" grep -q "failinit.so: vae_plugin_init() failed: this plugin refuses to start" err
expect 1 "not a shared object" "$VAE" eval --plugin "$SRC/README.md" --run run
check "...cannot load" grep -q "cannot load" err
expect 2 "--plugin without a value" "$VAE" eval --run run --plugin
mv my_lik.so moved.so
expect 1 "a run whose plugin has gone" "$VAE" eval --run run --quiet
check "...names the missing plugin" grep -q "needs a plugin that cannot be loaded: plugin $T/my_lik.so: No such file" err

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
