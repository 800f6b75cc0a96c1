#!/bin/sh
# test_applies.sh VAE - every option a `vae` command accepts acts or is refused with a reason (the options table,
# examples/vae/applies.c), and the hardening options of the run-reading commands (--quiet, --max-memory).
# One row per case; each refusal must exit 2 with one line naming the option and the reason, then the hint.
# Prints "N passed, M failed" and exits 1 on any failure.
VAE=$1
if [ ! -x "$VAE" ]; then
    echo "usage: test_applies.sh VAE"
    exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/vae_applies_test.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
    failed=$((failed + 1))
    echo "FAIL: $*"
}
# expect STATUS DESCRIPTION COMMAND...: stdout in $T/out, stderr in $T/err
expect() {
    want=$1
    d=$2
    shift 2
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" -eq "$want" ]; then ok; else
        bad "$d: exit status $got, expected $want"
        sed 's/^/    /' "$T/err" | tail -3
    fi
}
# refused TEXT DESCRIPTION ARGS...: `vae ARGS` exits 2 and its message contains TEXT
refused() {
    text=$1
    d=$2
    shift 2
    expect 2 "$d" "$VAE" "$@"
    if grep -q -- "$text" "$T/err" && [ "$(wc -l <"$T/err")" -le 2 ]; then ok; else
        bad "$d: the message does not say \"$text\" in two lines"
        sed 's/^/    /' "$T/err" | tail -3
    fi
}
TINY="--hidden 16 --latent 2 --n-train 300 --batch 100 --epochs 1 --no-pictures --quiet"
awk 'BEGIN { print "a,b,c"; for (i = 0; i < 300; i++) printf "%d,%.3f,%.3f\n", 100 + i % 7, i * 0.01, -(i % 11) * 2.5 }' \
    >"$T/real.csv"
awk 'BEGIN { print "a,b,c,d"; for (i = 0; i < 300; i++) printf "%d,%d,%d,%d\n", i % 2, int(i / 2) % 2, i % 3 == 0, i % 5 == 0 }' \
    >"$T/binary.csv"

# ---- vae train: options of the objective that the objective does not read ----
refused "--beta does not act with --capacity" "--beta with --capacity" train $TINY --beta 4 --capacity 1000,25,100 --out "$T/x"
refused "--kl-warmup does not act with --capacity" "--kl-warmup with --capacity" train $TINY --kl-warmup 10 \
    --capacity 1000,25,100 --out "$T/x"
refused "needs objective beta-vae (here objective is iwae)" "--beta with iwae" train $TINY --model iwae --beta 4 --out "$T/x"
refused "--kl-warmup does not act" "--kl-warmup with iwae" train $TINY --model iwae --kl-warmup 10 --out "$T/x"
refused "--free-bits does not act" "--free-bits with iwae" train $TINY --model iwae --free-bits 1 --out "$T/x"
refused "--capacity does not act" "--capacity with iwae" train $TINY --model iwae --capacity 1000,25,100 --out "$T/x"
# ... and the same within a spec: Burgess's capacity (gamma > 0) has no beta and no KL warm-up
refused "objective.beta 4 does not act" "beta with the capacity in a spec" train $TINY \
    --objective beta-vae:beta=4,gamma=1000,cmax=25,csteps=100 --out "$T/x"
refused "objective.warmup 10 does not act" "warmup with the capacity in a spec" train $TINY \
    --objective beta-vae:warmup=10,gamma=1000,cmax=25 --out "$T/x"
refused "objective.cmax 25 does not act" "cmax without gamma in a spec" train $TINY --objective beta-vae:cmax=25 --out "$T/x"
refused "objective.csteps 9 does not act" "csteps without gamma in a spec" train $TINY --objective beta-vae:beta=2,csteps=9 \
    --out "$T/x"
refused "--mc-kl does not act" "--mc-kl with iwae" train $TINY --model iwae --mc-kl --out "$T/x"
refused "--mc-kl does not act when estimator is stl" "--mc-kl with stl" train $TINY --mc-kl --estimator stl --out "$T/x"
# ---- estimators: a score-function baseline with the reparameterized estimator ----
refused "--baseline ma does not act" "--baseline ma with reparam" train $TINY --baseline ma --out "$T/x"
refused "--baseline vimco does not act" "--baseline vimco with stl" train $TINY --objective vae:l=2 --estimator stl \
    --baseline vimco --out "$T/x"
expect 0 "--baseline none with reparam (the default, said aloud) acts as the default" "$VAE" train $TINY --baseline none \
    --out "$T/bl0"
# ---- model and optimizer options of another choice ----
refused "--lik-param does not act when likelihood is bernoulli" "--lik-param with bernoulli" train $TINY --lik-param 2 \
    --out "$T/x"
refused "--lik-param does not act when likelihood is laplace" "--lik-param with laplace" train $TINY --likelihood laplace \
    --lik-param 2 --out "$T/x"
refused "--activation does not act when hidden is 0" "--activation without hidden layers" train $TINY --hidden 0 \
    --activation tanh --out "$T/x"
refused "needs schedule step" "--lr-gamma without --schedule step" train $TINY --lr-gamma 0.5 --out "$T/x"
refused "needs schedule step" "--lr-decay-every with cosine" train $TINY --schedule cosine --lr-decay-every 10 --out "$T/x"
refused "needs optimizer adam|adamw" "--adam-beta1 with sgd" train $TINY --optimizer sgd --adam-beta1 0.5 --out "$T/x"
refused "needs optimizer adam|adamw" "--adam-beta2 with adagrad" train $TINY --optimizer adagrad --adam-beta2 0.9 --out "$T/x"
refused "sgd has no eps" "--opt-eps with sgd" train $TINY --optimizer sgd --opt-eps 1e-4 --out "$T/x"
# ---- data: image-only options on tabular data, a likelihood of [0, 1] data on real values ----
refused "needs features image" "--binarize on CSV" train $TINY --data "csv:$T/real.csv" --binarize dynamic --out "$T/x"
refused "use --likelihood gaussian" "Bernoulli on real-valued CSV" train $TINY --data "csv:$T/real.csv" \
    --likelihood bernoulli --out "$T/x"
refused "here values is real" "continuous Bernoulli on real-valued CSV" train $TINY --data "csv:$T/real.csv" \
    --likelihood cbernoulli --out "$T/x"
expect 0 "Bernoulli on 0/1 CSV trains (the columns kept as they are)" "$VAE" train $TINY --data "csv:$T/binary.csv" \
    --likelihood bernoulli --out "$T/bin"
b=$(sed -n 's/.*"valid_elbo":\(-*[0-9.e+-]*\).*/\1/p' "$T/out")
case "$b" in -*) ok ;; *) bad "Bernoulli on 0/1 CSV: the ELBO $b is not negative" ;; esac
awk 'BEGIN { print "a,b,c,d"; for (i = 0; i < 300; i++) printf "%d,%d,%.2f,%d\n", i % 2, 3 * (i % 2), i % 7 - 3, 1 }' \
    >"$T/real4.csv"
refused "here values is real" "eval of the Bernoulli run on real-valued data" eval --run "$T/bin" \
    --data "csv:$T/real4.csv" --split train --is-samples 0 --quiet
if [ -d "${VAE_SHARED_DATA:-/nonexistent}/binarized_mnist" ]; then
    refused "binarized MNIST has its own validation file" "--valid-fraction on binarized-mnist" train $TINY \
        --data "binarized-mnist:$VAE_SHARED_DATA/binarized_mnist" --valid-fraction 0.2 --out "$T/x"
else
    echo "skip: binarized MNIST not found"
fi
# ---- output options that another option switches off ----
refused "--pictures-every does not act with --no-pictures" "--pictures-every with --no-pictures" train $TINY \
    --pictures-every 1 --out "$T/x"
refused "--log-every does not act with --quiet" "--log-every with --quiet" train $TINY --log-every 5 --out "$T/x"
for o in "study-draws 5" "study-batch 5" "study-ks 1,2" "study-estimators reparam" "study-objective iwae"; do
    refused "study-every is 0" "--${o% *} without --study-every" train $TINY --$o --out "$T/x"
done
refused "study-every is 0" "--study-ks with --study-every 0" train $TINY --study-every 0 --study-ks 1,2 --out "$T/x"
refused "study-every is 0" "--study-draws on --resume without --study-every" train --resume --out "$T/bl0" --study-draws 3
refused "cannot change when resuming" "a model option on --resume" train --resume --out "$T/bl0" --beta 2
# ---- vae estimators: a fresh model's options with --run ----
refused "--latent does not act without --data" "estimators --run --latent" estimators --run "$T/bl0" --latent 5
refused "--hidden does not act without --data" "estimators --run --hidden" estimators --run "$T/bl0" --hidden 8
refused "--likelihood does not act without --data" "estimators --run --likelihood" estimators --run "$T/bl0" \
    --likelihood gaussian
refused "use --likelihood gaussian" "estimators --data real CSV --likelihood bernoulli" estimators \
    --data "csv:$T/real.csv" --likelihood bernoulli --draws 2 --ref-draws 0 --ks 1 --out "$T/est" --quiet
# ---- vae bench ----
refused "--mnist does not act without --workloads" "bench --mnist without --workloads" bench --smoke --mnist "$T"
# ---- --help shows the table's rows ----
expect 0 "train --help" "$VAE" train --help
if grep -q "only with objective beta-vae, no --capacity" "$T/out" && grep -q "only with --schedule step" "$T/out" &&
    grep -q "bernoulli needs values binary|unit" "$T/out"; then ok; else bad "train --help does not show the table's rows"; fi
expect 0 "estimators --help" "$VAE" estimators --help
if grep -q "only with --data" "$T/out"; then ok; else bad "estimators --help does not show the table's rows"; fi

# ---- --quiet on every command that reads a run (the README's promise) ----
expect 0 "sample --quiet" "$VAE" sample --run "$T/bl0" --n 4 --quiet --out "$T/s"
expect 0 "encode --quiet" "$VAE" encode --run "$T/bl0" --quiet --out "$T/e"
if [ ! -s "$T/err" ]; then ok; else bad "encode --quiet printed on stderr: $(cat "$T/err")"; fi
expect 0 "export --quiet" "$VAE" export --run "$T/bl0" --quiet --to "$T/w"
# encode of single-file data without --quiet says which split it used; --quiet keeps it quiet (above)
expect 0 "encode of CSV data notes its split" "$VAE" encode --run "$T/bin" --out "$T/e2"
if grep -q "no test split" "$T/err"; then ok; else bad "encode without --quiet gave no note"; fi
expect 0 "encode --quiet of CSV data" "$VAE" encode --run "$T/bin" --out "$T/e2" --quiet
if [ ! -s "$T/err" ]; then ok; else bad "encode --quiet printed a note"; fi

# ---- --max-memory on the commands that load data: refused with the estimate, and accepted under a roomy limit ----
for c in eval score encode estimators; do
    extra=""
    [ $c = eval ] && extra="--is-samples 10 --n 50"
    [ $c = score ] && extra="--is-samples 10 --n 50 --out $T/sc.csv"
    [ $c = encode ] && extra="--out $T/enc"
    [ $c = estimators ] && extra="--draws 2 --ref-draws 0 --ks 1 --estimators reparam --out $T/est2"
    expect 1 "$c --max-memory 1M refuses" "$VAE" $c --run "$T/bl0" --max-memory 1M --quiet $extra
    if grep -q "estimated" "$T/err"; then ok; else bad "$c --max-memory: no estimate in the message"; fi
    expect 0 "$c --max-memory 2G runs" "$VAE" $c --run "$T/bl0" --max-memory 2G --quiet $extra
    expect 2 "$c --max-memory lots" "$VAE" $c --run "$T/bl0" --max-memory lots --quiet $extra
done
# the work, not only the data (16x16 sprites: a few MB): 5000 importance samples of 100 images at a time need
# about 130 MB; K = 2000 particles of a batch of 20 in the study about 160 MB
expect 0 "a 16x16 sprites run" "$VAE" train $TINY --data sprites:16 --out "$T/s16"
expect 1 "eval: the evaluation's own memory is estimated" "$VAE" eval --run "$T/s16" --max-memory 100M --is-samples 5000 \
    --quiet
if grep -q "the evaluation needs an estimated" "$T/err"; then ok; else bad "eval --max-memory 100M: $(cat "$T/err")"; fi
expect 1 "estimators: the study's own memory is estimated" "$VAE" estimators --run "$T/s16" --max-memory 100M --ks 2000 \
    --draws 2 --ref-draws 0 --estimators reparam --out "$T/est3" --quiet
if grep -q "the study needs an estimated" "$T/err"; then ok; else bad "estimators --max-memory 100M: $(cat "$T/err")"; fi

# ---- model families: options of one family given to another, and families that do not combine ----
TINYC="--latent 2 --n-train 300 --batch 100 --epochs 1 --no-pictures --quiet" # no --hidden: the conv net has none
refused "needs estimator gumbel" "--temperature without gumbel" train $TINY --temperature 0.5 --out "$T/x"
refused "needs estimator gumbel" "--straight-through without gumbel" train $TINY --straight-through --out "$T/x"
refused "--conv-channels does not act" "--conv-channels without --net conv" train $TINY --conv-channels 8,16 --out "$T/x"
refused "--lik-param does not act" "--lik-param with poisson" train $TINY --likelihood poisson --lik-param 2 --out "$T/x"
refused "not with --layers 2" "--net conv with two layers" train $TINYC --net conv --layers 2 --out "$T/x"
refused "not with --flow" "--net conv with a flow" train $TINYC --net conv --flow planar:2 --out "$T/x"
refused "not with discrete latents" "--net conv with discrete latents" train $TINYC --net conv \
    --latent-kind bernoulli:2 --estimator score --out "$T/x"
refused "with two stochastic layers: not supported" "a prior with two layers" train $TINY --layers 2 --prior mog:3 \
    --out "$T/x"
refused "not with a learned prior" "discrete latents with a mixture prior" train $TINY --latent-kind bernoulli:2 \
    --estimator score --prior mog:3 --out "$T/x"
refused "not with two stochastic layers" "discrete latents with two layers" train $TINY --latent-kind bernoulli:2 \
    --estimator score --layers 2 --out "$T/x"
refused "not with --net conv" "a conditional VAE with the conv net" train $TINYC --model cvae --net conv --out "$T/x"
refused "not with --layers 2" "a Bayesian decoder with two layers" train $TINY --bayes-decoder --layers 2 --out "$T/x"
refused "not with --flow" "a conditional VAE with a flow" train $TINY --cond --flow planar:2 --out "$T/x"
refused "--net does not act" "estimators --net with --run" estimators --run "$T/bl0" --net conv --quiet

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
