#!/bin/sh
# test_families_cli.sh VAE - the `vae` command with the model families (--model cvae / --cond, --bayes-decoder):
# tiny runs end to end and the refusals. Prints "N passed, M failed" and exits 1 on any failure.
VAE=$1
if [ ! -x "$VAE" ]; then
    echo "usage: test_families_cli.sh VAE"
    exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/vae_families_test.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
    failed=$((failed + 1))
    echo "FAIL: $*"
}
# expect STATUS DESCRIPTION COMMAND...: stdout in $T/out, stderr in $T/err, compare the exit status
expect() {
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
# has FILE TEXT DESCRIPTION: FILE contains TEXT
has() { if grep -q -- "$2" "$1"; then ok; else bad "$3: no \"$2\" in $(cat "$1")"; fi; }
TINY="--data sprites:16 --hidden 32 --latent 2 --n-train 300 --batch 50 --epochs 1 --quiet"

# ---- conditional VAE: train, eval (log p(x|y)), sample one class, resume keeps it ----
expect 0 "cvae train" "$VAE" train $TINY --model cvae --out "$T/cv"
expect 0 "cvae eval" "$VAE" eval --run "$T/cv" --n 40 --is-samples 20 --quiet
has "$T/out" '"conditional":true' "cvae eval says conditional"
expect 0 "cvae sample --class 2" "$VAE" sample --run "$T/cv" --class 2 --n 8 --out "$T/cv/s"
has "$T/out" '"class":2' "cvae sample reports its class"
expect 2 "sample --class out of range" "$VAE" sample --run "$T/cv" --class 3
has "$T/err" "classes are 0..2" "--class out of range names the classes"
expect 0 "cvae score/encode/estimators" "$VAE" score --run "$T/cv" --n 20 --is-samples 5 --quiet
expect 0 "cvae encode" "$VAE" encode --run "$T/cv" --n 20
expect 0 "cvae estimators" "$VAE" estimators --run "$T/cv" --draws 2 --ks 1,2 --quiet
expect 0 "cvae resume" "$VAE" train --resume --out "$T/cv" --epochs 2 --quiet
has "$T/cv/checkpoint.vae" "classes 3" "the run stores its classes"
expect 0 "--cond with another objective, fixed prior" "$VAE" train $TINY --cond --objective iwae:k=3 --cond-prior normal --out "$T/cvi"
# ---- refusals ----
printf 'a,b,c\n' >"$T/d.csv"; for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do echo "$i,2,3" >>"$T/d.csv"; done
expect 1 "cvae without labels" "$VAE" train --data "csv:$T/d.csv" --model cvae --epochs 1 --quiet --out "$T/nolab"
has "$T/err" "needs labelled data" "cvae without labels says why"
# a CSV's class column (--label-column, 1-based): labels for the cVAE, the rest are the features
printf 'a,b,y\n' >"$T/lab.csv"
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do echo "$i.5,$((i % 3)).25,$((i % 2))" >>"$T/lab.csv"; done
expect 0 "cvae on a CSV label column" "$VAE" train --data "csv:$T/lab.csv" --label-column 3 --model cvae --hidden 8 --latent 1 --epochs 2 --batch 5 --quiet --out "$T/csvc"
has "$T/csvc/checkpoint.vae" "classes 2" "the CSV run has 2 classes"
has "$T/csvc/checkpoint.vae" "x_dim 2" "the label column is not a feature"
expect 0 "eval of the CSV cvae" "$VAE" eval --run "$T/csvc" --is-samples 5 --quiet
expect 2 "--label-column on a non-integer column" "$VAE" train --data "csv:$T/lab.csv" --label-column 1 --model cvae --epochs 1 --quiet --out "$T/csvbad"
has "$T/err" "not a class label" "a non-integer label column says why"
expect 2 "--label-column on images" "$VAE" train $TINY --label-column 1 --out "$T/imgcol"
expect 2 "--cond-prior without --cond" "$VAE" train $TINY --cond-prior normal --out "$T/x1"
expect 2 "--prior-scale without --bayes-decoder" "$VAE" train $TINY --prior-scale 2 --out "$T/x2"
expect 2 "--local-reparam without --bayes-decoder" "$VAE" train $TINY --local-reparam --out "$T/x3"
expect 2 "--bayes-decoder with --deterministic-reduce" "$VAE" train $TINY --bayes-decoder --deterministic-reduce --out "$T/x4"
expect 2 "--model cvae with --objective" "$VAE" train $TINY --model cvae --objective vae --out "$T/x5"

# ---- full VB decoder: train (both reparameterizations), eval over weight draws, the uncertainty picture ----
expect 0 "bayes train" "$VAE" train $TINY --bayes-decoder --prior-scale 0.5 --out "$T/bv"
[ -s "$T/bv/weight_uncertainty.png" ] && ok || bad "bayes run has weight_uncertainty.png"
has "$T/bv/checkpoint.vae" "prior_scale 0.5" "the run stores its prior scale"
expect 0 "bayes eval --weight-samples" "$VAE" eval --run "$T/bv" --n 20 --is-samples 10 --weight-samples 3 --quiet
has "$T/out" '"weight_samples":3' "bayes eval reports its weight draws"
expect 0 "bayes local reparam" "$VAE" train $TINY --bayes-decoder --local-reparam --out "$T/bl"
expect 0 "plain run for refusals" "$VAE" train $TINY --out "$T/pl"
expect 2 "--weight-samples on a plain model" "$VAE" eval --run "$T/pl" --weight-samples 2
expect 2 "--class on a plain model" "$VAE" sample --run "$T/pl" --class 0
has "$T/err" "conditional VAE" "--class on a plain model says why"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
