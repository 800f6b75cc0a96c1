#!/bin/sh
# reproduce_burda.sh - Burda, Grosse & Salakhutdinov (2016), "Importance weighted autoencoders", Table 1, MNIST,
# one stochastic layer: rows VAE k=1, IWAE k=5, IWAE k=50 (paper: test NLL 86.76, 85.54, 84.78).
#
# Usage:
#   examples/reproduce_burda.sh measure [STEPS]   time STEPS optimizer steps of each row (default 300) and project
#                                                 the seconds per pass and the total of the 3,280 passes
#   examples/reproduce_burda.sh run [ROW...]      train each row (vae1 iwae5 iwae50; all by default) to the end,
#                                                 resuming a row whose checkpoint exists, then evaluate it
# Environment: VAE (the binary; default build/examples/vae/vae), MNIST (IDX directory; default
# ../shared/data/mnist), OUT (runs directory; default runs/burda), THREADS (default 0 = all cores).
#
# The protocol, and where this run differs from the paper's code (github.com/yburda/iwae):
#   data     MNIST IDX grey images, dynamically binarized (x ~ Bernoulli(grey)) at every pass. 400 of the 60,000
#            training images are held out for validation (--valid-fraction 400/60000): the official code holds out
#            the LAST 400 without shuffling; here the 400 are drawn by the run's seed. The test set is binarized
#            once with a fixed seed (the run's seed xor a constant, as every valid/test split here), where the
#            official code draws a new binarization each time it evaluates.
#   model    784-200-200-(50) tanh encoder, decoder mirrored, Bernoulli likelihood, the decoder's output bias at
#            the training mean's logit.
#   training batch 20; Adam with beta1 = 0.9, beta2 = 0.999 and eps = 1e-4 as the paper states (the official
#            code's default beta1 is 0.99, with the second moments started at 1). 3^i passes at lr 0.001 * 10^(-i/7), i = 0..7
#            (--schedule burda: 3,280 passes; the official code rounds the factor to one decimal, 7.2e-4 ...).
#   eval     test NLL = -IS log p(x) with K = 5000 over all 10,000 test images (vae eval), with its standard
#            error across images; active units at Var_x E_q[z_j] > 0.01.
set -eu
VAE=${VAE:-build/examples/vae/vae}
MNIST=${MNIST:-../shared/data/mnist}
OUT=${OUT:-runs/burda}
THREADS=${THREADS:-0}
PASSES=3280
STEPS_PER_PASS=2980 # (60,000 - 400) / 20

objective() {
    case $1 in
    vae1) echo "vae" ;;
    iwae5) echo "iwae:k=5" ;;
    iwae50) echo "iwae:k=50" ;;
    *) echo "unknown row $1 (vae1, iwae5, iwae50)" >&2 && exit 2 ;;
    esac
}

train() { # row, extra options...
    row=$1
    shift
    "$VAE" train --data "mnist:$MNIST" --binarize dynamic --valid-fraction 0.0066667 \
        --hidden 200,200 --activation tanh --latent 50 --likelihood bernoulli \
        --objective "$(objective "$row")" --batch 20 --optimizer adam --lr 0.001 --opt-eps 1e-4 --schedule burda \
        --epochs $PASSES --threads "$THREADS" --no-pictures --quiet --out "$OUT/$row" "$@"
}

# a number from the JSON summary line
field() { sed -n "s/.*\"$1\":\([-0-9.eE+]*\).*/\1/p" | tail -n 1; }

case ${1:-measure} in
measure)
    STEPS=${2:-300}
    printf '%-8s %-10s %10s %12s %16s\n' row objective ms/step s/pass "3280 passes (h)"
    for row in vae1 iwae5 iwae50; do
        rm -rf "$OUT/measure-$row"
        json=$(OUT="$OUT" train "$row" --max-steps "$STEPS" --out "$OUT/measure-$row")
        secs=$(echo "$json" | field train_seconds)
        awk -v r="$row" -v o="$(objective "$row")" -v s="$secs" -v n="$STEPS" -v spp=$STEPS_PER_PASS \
            -v P=$PASSES 'BEGIN { ms = 1000 * s / n; pass = ms * spp / 1000;
                printf "%-8s %-10s %10.2f %12.1f %16.1f\n", r, o, ms, pass, pass * P / 3600 }'
    done
    ;;
run)
    shift
    rows=${*:-vae1 iwae5 iwae50}
    for row in $rows; do
        if [ -f "$OUT/$row/checkpoint.vae" ]; then
            "$VAE" train --resume --out "$OUT/$row" --threads "$THREADS" --quiet
        else
            train "$row"
        fi
        echo "== $row: learning curve (pass, valid bound, seconds) from $OUT/$row/log.jsonl"
        sed -n 's/.*"epoch":\([0-9]*\).*"valid_bound":\([-0-9.eE+]*\).*"seconds":\([0-9.eE+]*\).*/\1 \2 \3/p' \
            "$OUT/$row/log.jsonl" | awk '{ printf "  %5d %10.3f %10.1f\n", $1, $2, $3 }'
        echo "== $row: test NLL, K = 5000, all 10,000 test images"
        "$VAE" eval --run "$OUT/$row" --split test --is-samples 5000 --threads "$THREADS" --quiet |
            tee "$OUT/$row/eval_k5000.json"
    done
    ;;
*)
    sed -n '2,12p' "$0"
    exit 2
    ;;
esac
