#!/bin/sh
# test_cli.sh VAE CLI_CHECK - end-to-end tests of the `vae` command on tiny runs (about 30 s).
# Prints "N passed, M failed" and exits 1 on any failure.
VAE=$1
CHECK=$2
if [ ! -x "$VAE" ] || [ ! -x "$CHECK" ]; then
    echo "usage: test_cli.sh VAE CLI_CHECK"
    exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/vae_cli_test.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
    failed=$((failed + 1))
    echo "FAIL: $*"
}
check() { # check DESCRIPTION COMMAND...: the command must succeed
    d=$1
    shift
    if "$@"; then ok; else bad "$d"; fi
}
# expect STATUS DESCRIPTION COMMAND...: run, keep stdout in $T/out and stderr in $T/err, compare the exit status
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
lines() { wc -l <"$1" | tr -d ' '; }
TINY="--hidden 32 --latent 2 --n-train 500 --batch 100 --quiet"

# ---- help, version, usage errors (exit 2, one message naming the problem, a hint) ----
expect 0 "vae --help" "$VAE" --help
check "--help lists train" grep -q "train" "$T/out"
expect 0 "vae --version" "$VAE" --version
for c in train eval sample encode score export estimators compare bench; do
    expect 0 "vae $c --help" "$VAE" $c --help
    check "vae $c --help shows usage" grep -q "Usage: vae $c" "$T/out"
done
expect 2 "unknown command" "$VAE" frobnicate
expect 2 "no command" "$VAE"
expect 2 "bad integer" "$VAE" train --latent abc
check "bad integer message names the option" grep -q -- "--latent" "$T/err"
check "usage error gives a hint" grep -q -- "--help" "$T/err"
check "usage error is short" test "$(lines "$T/err")" -le 2
expect 2 "unknown option" "$VAE" train --frobnicate 3
expect 2 "out of range" "$VAE" train --epochs 0
expect 2 "bad choice" "$VAE" train --model gan
expect 2 "missing value" "$VAE" train --epochs
expect 2 "bad hidden list" "$VAE" train --hidden 400,,200
expect 2 "bad likelihood" "$VAE" train --likelihood no-such-likelihood
expect 2 "bad combination" "$VAE" train --estimator dreg
expect 2 "vimco needs samples" "$VAE" train --estimator score --baseline vimco
expect 2 "lik-param out of range" "$VAE" train --lik-param -1
# --objective: any registered bound by spec, stored in the run, rebuilt by eval/estimators; bad specs are usage errors
expect 2 "unknown objective" "$VAE" train --objective gan
check "unknown objective lists the registered ones" grep -q "registered: vae, beta-vae, iwae, vr, miwae, ciwae" "$T/err"
expect 2 "unknown objective option" "$VAE" train --objective vr:beta=2
check "unknown option lists the valid keys" grep -q "valid: alpha, k" "$T/err"
expect 2 "objective option out of range" "$VAE" train --objective iwae:k=0
check "out of range names the range" grep -q "out of range 1..100000" "$T/err"
expect 2 "--objective with --samples" "$VAE" train --objective iwae:k=3 --samples 4
expect 2 "estimator the objective lacks" "$VAE" train --objective vr --estimator dreg
expect 0 "train --objective vr" "$VAE" train $TINY --epochs 1 --objective vr:alpha=0.5,k=3 --out "$T/vr"
check "train JSON names the objective" grep -q '"objective":"vr:k=3"' "$T/out"
check "train JSON gives the validation standard errors" "$CHECK" keys "$T/out" valid_bound_se valid_elbo_se
check "log.jsonl names the bound" "$CHECK" keys "$T/vr/log.jsonl" bound_name train_bound train_elbo valid_bound \
    valid_elbo kl_weight beta capacity
check "log.jsonl bound_name" grep -q '"bound_name":"vr:k=3"' "$T/vr/log.jsonl"
check "log.jsonl standard errors" "$CHECK" keys "$T/vr/log.jsonl" valid_bound_se valid_elbo_se
VSE=$("$CHECK" num "$T/vr/log.jsonl" 1 valid_bound_se)
ESE=$("$CHECK" num "$T/vr/log.jsonl" 1 valid_elbo_se)
check "the standard errors are positive and small" awk "BEGIN { exit !($VSE > 0 && $VSE < 20 && $ESE > 0 && $ESE < 20) }"
check "valid bound and valid ELBO differ" test "$("$CHECK" num "$T/vr/log.jsonl" 1 valid_bound)" != \
    "$("$CHECK" num "$T/vr/log.jsonl" 1 valid_elbo)"
expect 0 "export of the vr run" "$VAE" export --run "$T/vr" --to "$T/vr/w"
check "run.txt keeps the objective" grep -q "^objective vr:k=3" "$T/vr/w/run.txt"
expect 0 "eval of the vr run" "$VAE" eval --run "$T/vr" --is-samples 10 --quiet
expect 0 "estimators --objective vr" "$VAE" estimators --run "$T/vr" --objective vr:alpha=0.5 \
    --estimators reparam,score:vimco --ks 2,3 --draws 3 --batch 5 --out "$T/vr/est" --quiet
check "estimators rows name the bound" grep -q '"objective":"vr:k=3"' "$T/vr/est/estimators.json"
# two stochastic layers: stored, rebuilt by eval/sample/resume, active units per layer
expect 2 "--latent2 with --layers 1" "$VAE" train --layers 1 --latent2 4
check "the message names the option" grep -q -- "--latent2" "$T/err"
expect 0 "train --layers 2" "$VAE" train --hidden 32 --n-train 500 --batch 100 --quiet --epochs 1 --latent 4 \
    --latent2 3 --hidden2 8 --objective iwae:k=3 --estimator dreg --out "$T/hier"
check "train JSON gives both layers" grep -q '"latent":4,"latent2":3' "$T/out"
check "train JSON gives active units per layer" grep -q '"active_units_per_layer":\[' "$T/out"
expect 0 "export of the two-layer run" "$VAE" export --run "$T/hier" --to "$T/hier/w"
check "run.txt keeps latent2" grep -qx "latent2 3" "$T/hier/w/run.txt"
check "run.txt keeps hidden2" grep -qx "hidden2 8" "$T/hier/w/run.txt"
expect 0 "eval of the two-layer run" "$VAE" eval --run "$T/hier" --is-samples 10 --quiet
check "eval gives the layers" grep -q '"latent":7,"latent_per_layer":\[4,3\],"active_units_per_layer":\[' "$T/out"
expect 0 "sample from the two-layer prior" "$VAE" sample --run "$T/hier" --n 4 --out "$T/hier/s"
expect 0 "resume the two-layer run" "$VAE" train --resume --out "$T/hier" --epochs 2 --quiet --no-pictures
expect 2 "--layers cannot change on resume" "$VAE" train --resume --out "$T/hier" --epochs 3 --layers 1
# Adam's betas and eps (Burda et al.'s protocol uses eps 1e-4): stored, used, kept on resume
expect 0 "train --opt-eps --adam-beta1" "$VAE" train $TINY --epochs 1 --opt-eps 1e-4 --adam-beta1 0.99 --out "$T/adam"
ADAM_BOUND=$("$CHECK" num "$T/adam/log.jsonl" 1 train_bound)
expect 0 "export of the adam run" "$VAE" export --run "$T/adam" --to "$T/adam/w"
check "run.txt keeps opt_eps" grep -qx "opt_eps 0.0001" "$T/adam/w/run.txt"
check "run.txt keeps adam_beta1" grep -q "^adam_beta1 0.98999" "$T/adam/w/run.txt"
expect 0 "the same run with the default Adam" "$VAE" train $TINY --epochs 1 --out "$T/adam0"
check "the betas and eps act on training" test "$ADAM_BOUND" != "$("$CHECK" num "$T/adam0/log.jsonl" 1 train_bound)"
expect 0 "resume keeps them" "$VAE" train --resume --out "$T/adam" --epochs 2 --quiet --no-pictures
expect 2 "--opt-eps out of range" "$VAE" train --opt-eps 2 --out "$T/x"
expect 2 "--adam-beta1 out of range" "$VAE" train --adam-beta1 1 --out "$T/x"
expect 0 "train --objective miwae" "$VAE" train $TINY --epochs 1 --objective miwae:m=2,k=3 --estimator dreg \
    --out "$T/miwae"
check "train JSON names miwae" grep -q '"objective":"miwae:m=2,k=3"' "$T/out"
check "miwae log: a finite training bound" grep -q '"train_bound":-[0-9]' "$T/miwae/log.jsonl"
expect 0 "eval of the miwae run" "$VAE" eval --run "$T/miwae" --is-samples 10 --quiet
expect 0 "train --objective ciwae" "$VAE" train $TINY --epochs 1 --objective ciwae:beta=0.25,k=3 --out "$T/ciwae"
check "train JSON names ciwae" grep -q '"objective":"ciwae:beta=0.25,k=3"' "$T/out"
expect 0 "train beta-vae by the old options" "$VAE" train $TINY --epochs 1 --beta 4 --kl-warmup 10 --out "$T/bv"
check "old options become a spec" grep -q '"objective":"beta-vae:beta=4,warmup=10"' "$T/out"
check "log.jsonl kl_weight and beta" grep -q '"beta":4' "$T/bv/log.jsonl"
# the registered example likelihood, its option and the N/M scaling are stored in the run and read back by eval
expect 0 "student-t run with --lik-param and --n-over-m" "$VAE" train $TINY --epochs 1 --likelihood student-t \
    --lik-param 6 --n-over-m --out "$T/st"
expect 0 "export of the student-t run" "$VAE" export --run "$T/st" --to "$T/st/w"
check "run.txt keeps lik_param" grep -q "^lik_param 6" "$T/st/w/run.txt"
check "run.txt keeps n_over_m" grep -q "^n_over_m 1" "$T/st/w/run.txt"
expect 0 "eval of the student-t run" "$VAE" eval --run "$T/st" --is-samples 10 --quiet
# ---- model families: --flow and --prior travel in the run; flows refuse the estimators they cannot serve ----
expect 0 "train --flow planar:2 --prior mog:3" "$VAE" train $TINY --epochs 1 --flow planar:2 --prior mog:3 \
    --objective iwae:k=3 --out "$T/flow"
expect 0 "export of the flow run" "$VAE" export --run "$T/flow" --to "$T/flow/w"
check "run.txt keeps flow" grep -qx "flow planar:2" "$T/flow/w/run.txt"
check "run.txt keeps prior" grep -qx "prior mog:3" "$T/flow/w/run.txt"
check "the flow's parameters are exported" test -s "$T/flow/w/enc.flow.amort.weight.npy"
expect 0 "eval of the flow run" "$VAE" eval --run "$T/flow" --is-samples 10 --quiet
check "eval gives a finite log p(x)" grep -q '"loglik":-[0-9]' "$T/out"
expect 0 "sample from the mixture prior" "$VAE" sample --run "$T/flow" --n 8 --out "$T/flow/s"
expect 0 "resume the flow run" "$VAE" train --resume --out "$T/flow" --epochs 2 --quiet --no-pictures
expect 0 "train --prior vamp:4" "$VAE" train $TINY --epochs 1 \
    --prior vamp:4 --out "$T/vamp"
expect 2 "a flow with the stl estimator is refused" "$VAE" train $TINY --flow iaf:2 --estimator stl --out "$T/x"
check "the refusal names the estimator" grep -q "stl estimator" "$T/err"
expect 2 "a flow with the vamp prior is refused" "$VAE" train $TINY --flow iaf:2 --prior vamp:4 --out "$T/x"
expect 2 "estimators on a flow run refuse the score estimator" "$VAE" estimators --run "$T/flow" --estimators score --draws 2
check "the estimators refusal names the reason" grep -q "inverse" "$T/err"
expect 2 "a flow spec without K" "$VAE" train $TINY --flow planar --out "$T/x"
expect 2 "an unknown prior" "$VAE" train $TINY --prior gmm:3 --out "$T/x"
expect 2 "non-finite real" "$VAE" train --lr nan
expect 2 "eval without a run" "$VAE" eval
expect 2 "export without --to" "$VAE" export --run "$T/nowhere"
expect 1 "eval of a missing run" "$VAE" eval --run "$T/nowhere"
check "missing run message" grep -q "no such file" "$T/err"
expect 2 "unknown data spec" "$VAE" train --data bogus:thing --out "$T/bogus" $TINY

# ---- a tiny training run and its output directory ----
R="$T/run"
expect 0 "train tiny" "$VAE" train $TINY --epochs 2 --out "$R"
check "train prints one JSON line" test "$(lines "$T/out")" -eq 1
check "train JSON keys" "$CHECK" keys "$T/out" command status interrupted out checkpoint epochs step train_elbo \
    valid_elbo active_units seconds
for f in checkpoint.vae log.jsonl samples.png reconstructions.png traversal.png manifold.png learning_curve.png \
    learning_curve.svg; do
    check "run has $f" test -s "$R/$f"
done
check "log.jsonl lines are JSON" "$CHECK" json "$R/log.jsonl" >/dev/null
check "log.jsonl has 2 epochs" test "$(lines "$R/log.jsonl")" -eq 2
check "log.jsonl keys" "$CHECK" keys "$R/log.jsonl" epoch step train_elbo train_rec train_kl valid_elbo valid_kl \
    kl_per_dim active_units seconds samples_per_s
check "PNGs decode" "$CHECK" png "$R/samples.png" "$R/reconstructions.png" "$R/traversal.png" "$R/manifold.png" \
    "$R/learning_curve.png"
check "svg is svg" grep -q "<svg" "$R/learning_curve.svg"
expect 1 "train refuses to overwrite a run" "$VAE" train $TINY --epochs 1 --out "$R"
# without --out, a second run takes the next free name instead of touching the first
VAE_ABS=$(cd "$(dirname "$VAE")" && pwd)/$(basename "$VAE")
mkdir -p "$T/cwd" && (cd "$T/cwd" && "$VAE_ABS" train $TINY --epochs 1 >/dev/null 2>&1 && "$VAE_ABS" train $TINY --epochs 1 \
    >"$T/out2" 2>/dev/null)
check "default --out: first run kept" test -f "$T/cwd/runs/sprites-vae/checkpoint.vae"
check "default --out: second run beside it" test -f "$T/cwd/runs/sprites-vae-2/checkpoint.vae"
check "default --out: JSON names the new directory" grep -q '"out":"runs/sprites-vae-2"' "$T/out2"
check "overwrite message suggests --resume" grep -q -- "--resume" "$T/err"
expect 2 "resume cannot change the model" "$VAE" train --resume --out "$R" --latent 5
expect 1 "resume without a checkpoint" "$VAE" train --resume --out "$T/empty"

# ---- stop at --max-steps, resume, and match an uninterrupted run exactly ----
# 500 examples, 10% valid -> 450 train -> 5 steps per epoch; 3 epochs = 15 steps.
expect 0 "uninterrupted reference" "$VAE" train $TINY --epochs 3 --out "$T/full" --no-pictures
cp "$T/out" "$T/full.json"
expect 0 "train stopped by --max-steps" "$VAE" train $TINY --epochs 3 --out "$T/part" --max-steps 7 --no-pictures
check "max-steps JSON step 7" test "$("$CHECK" num "$T/out" 1 step)" = 7
check "max-steps log has 1 epoch" test "$(lines "$T/part/log.jsonl")" -eq 1
expect 0 "resume" "$VAE" train --resume --out "$T/part" --no-pictures --quiet
check "resumed JSON step 15" test "$("$CHECK" num "$T/out" 1 step)" = 15
check "resumed log has 3 epochs" test "$(lines "$T/part/log.jsonl")" -eq 3
check "resumed log epoch 3 at step 15" test "$("$CHECK" num "$T/part/log.jsonl" 3 step)" = 15
check "resumed run equals the uninterrupted one" test "$("$CHECK" num "$T/out" 1 valid_elbo)" = \
    "$("$CHECK" num "$T/full.json" 1 valid_elbo)"
expect 0 "resume with more epochs" "$VAE" train --resume --out "$T/part" --epochs 4 --no-pictures --quiet
check "extended log has 4 epochs" test "$(lines "$T/part/log.jsonl")" -eq 4
# a diverging run (Adam with lr 10 reaches a NaN ELBO within 5 steps) stops with exit 1 and writes no checkpoint
expect 1 "diverging run" "$VAE" train $TINY --epochs 3 --lr 10 --out "$T/diverge" --no-pictures
check "divergence message names the step and the norm" grep -q "training diverged at step .*gradient norm" "$T/err"
check "no checkpoint from a diverged run" test ! -e "$T/diverge/checkpoint.vae"
# --profile: the same bits, a table of the 15 steps in profile.txt (and on stderr unless --quiet)
expect 0 "train --profile" "$VAE" train $TINY --epochs 3 --out "$T/prof" --no-pictures --profile
check "profiled run equals the unprofiled one" test "$("$CHECK" num "$T/out" 1 valid_elbo)" = \
    "$("$CHECK" num "$T/full.json" 1 valid_elbo)"
check "profile.txt names the steps, linear and the optimizer" sh -c \
    "grep -q '15 steps' '$T/prof/profile.txt' && grep -q '^linear ' '$T/prof/profile.txt' && grep -q '^(optimizer) ' '$T/prof/profile.txt'"
check "--quiet keeps the profile off stderr" test ! -s "$T/err"
expect 0 "train --profile without --quiet" "$VAE" train --hidden 32 --latent 2 --n-train 500 --batch 100 --epochs 1 \
    --out "$T/prof2" --no-pictures --profile
check "the profile table on stderr" grep -q "^bernoulli_logits_lp " "$T/err"

# ---- Ctrl-C: saves, prints interrupted JSON, exits 130; --resume continues ----
S="$T/sig"
"$VAE" train --hidden 32 --latent 2 --n-train 2000 --epochs 100000 --out "$S" --quiet --no-pictures \
    >"$T/sig.out" 2>"$T/sig.err" &
pid=$!
i=0
while [ ! -s "$S/log.jsonl" ] && [ $i -lt 600 ]; do
    sleep 0.1
    i=$((i + 1))
done
kill -INT $pid
wait $pid
st=$?
check "SIGINT exit status 130 (got $st)" test $st -eq 130
check "SIGINT JSON says interrupted" grep -q '"interrupted":true' "$T/sig.out"
done_epochs=$("$CHECK" num "$T/sig.out" 1 epochs)
expect 0 "resume after SIGINT" "$VAE" train --resume --out "$S" --epochs $((done_epochs + 1)) --no-pictures --quiet
check "resume after SIGINT finishes the next epoch" test "$("$CHECK" num "$T/out" 1 epochs)" = $((done_epochs + 1))

# ---- damaged checkpoints: exit 1 with one line, never a crash ----
mkdir -p "$T/bad"
cp "$R/log.jsonl" "$T/bad/"
head -c 1000 "$R/checkpoint.vae" >"$T/bad/checkpoint.vae"
expect 1 "truncated checkpoint" "$VAE" eval --run "$T/bad" --is-samples 0
check "truncated checkpoint: one-line message" test "$(lines "$T/err")" -eq 1
cp "$R/checkpoint.vae" "$T/bad/checkpoint.vae"
size=$(wc -c <"$R/checkpoint.vae")
printf 'XXXX' | dd of="$T/bad/checkpoint.vae" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
expect 1 "corrupted checkpoint" "$VAE" sample --run "$T/bad"
check "corrupted checkpoint: one-line message" test "$(lines "$T/err")" -eq 1
: >"$T/bad/checkpoint.vae"
expect 1 "empty checkpoint" "$VAE" encode --run "$T/bad"
head -c 5000 /dev/urandom >"$T/bad/checkpoint.vae" 2>/dev/null || printf 'garbage' >"$T/bad/checkpoint.vae"
expect 1 "garbage checkpoint" "$VAE" train --resume --out "$T/bad"

# ---- the other subcommands on the tiny run ----
expect 0 "eval" "$VAE" eval --run "$R" --is-samples 20 --n 200 --elbo-samples 3 --quiet
check "eval JSON keys" "$CHECK" keys "$T/out" loglik elbo rec kl kl_per_dim active_units mig mig_per_factor \
    loglik_se elbo_se subset n_total elbo_samples
check "eval says a subset" grep -q '"subset": *true' "$T/out"
expect 0 "eval on the valid split" "$VAE" eval --run "$R" --split valid --is-samples 0 --quiet
expect 0 "sample" "$VAE" sample --run "$R" --n 16 --out "$T/smp"
check "sample PNG decodes" "$CHECK" png "$T/smp/samples.png"
check "samples.npy shape" test "$("$CHECK" npy "$T/smp/samples.npy")" = "16,32,32"
expect 0 "encode" "$VAE" encode --run "$R" --n 50 --out "$T/enc"
check "latents_mu.npy shape" test "$("$CHECK" npy "$T/enc/latents_mu.npy")" = "50,2"
check "latents_logvar.npy shape" test "$("$CHECK" npy "$T/enc/latents_logvar.npy")" = "50,2"
check "labels.npy shape" test "$("$CHECK" npy "$T/enc/labels.npy")" = "50"
expect 0 "score" "$VAE" score --run "$R" --n 40 --is-samples 10 --out "$T/scores.csv" --quiet
check "scores.csv rows" test "$(lines "$T/scores.csv")" -eq 41
check "score JSON keys" "$CHECK" keys "$T/out" mean_elbo mean_loglik mean_loglik_se lowest
check "scores.csv has per-example standard errors" test "$(head -n 1 "$T/scores.csv")" = "index,elbo,loglik,loglik_se,label"
expect 0 "export" "$VAE" export --run "$R" --to "$T/exp"
check "exported weight shape" test "$("$CHECK" npy "$T/exp/enc.0.weight.npy")" = "1024,32"
check "manifest is JSON" "$CHECK" json "$T/exp/manifest.json" >/dev/null
expect 0 "estimators" "$VAE" estimators --run "$R" --estimators reparam,score:vimco,dreg --ks 1,3 --draws 4 \
    --ref-draws 6 --batch 5 --out "$T/est" --quiet
check "estimators.json" "$CHECK" json "$T/est/estimators.json" >/dev/null
check "estimators pictures decode" "$CHECK" png "$T/est/estimators_snr.png" "$T/est/estimators_variance.png" \
    "$T/est/estimators_bias.png"
check "estimators groups: heads and tensors" grep -q '"name":"encoder.logvar".*"name":"enc.0.weight"' "$T/out"
check "estimators statistics with SE and bias" grep -q '"trace_cov":{"est":[-0-9.e]*,"se":.*"bias_norm2"' "$T/out"
# the study along training, per-step records, and runs side by side
expect 0 "train --study-every --log-steps (reparam)" "$VAE" train $TINY --epochs 2 --no-pictures --study-every 1 \
    --study-draws 3 --study-ks 1,2 --study-estimators reparam,dreg --log-steps 2 --out "$T/cmp1"
check "study.jsonl: one line per epoch" test "$("$CHECK" json "$T/cmp1/study.jsonl")" -eq 2
check "study.jsonl rows with groups" grep -q '"epoch":2,.*"estimator":"dreg","objective":"iwae:k=2".*"name":"encoder.mu"' \
    "$T/cmp1/study.jsonl"
check "log.jsonl step records" test "$(grep -c '"kind":"step".*"grad_norm":[0-9]' "$T/cmp1/log.jsonl")" -eq 5
expect 0 "resume keeps the step records" "$VAE" train --resume --out "$T/cmp1" --epochs 3 --log-steps 2 --quiet --no-pictures
check "step records after resume" test "$(grep -c '"kind":"step"' "$T/cmp1/log.jsonl")" -eq 7
expect 2 "bad --study-ks" "$VAE" train --study-every 1 --study-ks 0
expect 0 "train score+vimco" "$VAE" train $TINY --epochs 2 --no-pictures --objective vae:l=2 --estimator score \
    --baseline vimco --out "$T/cmp2"
expect 0 "train score" "$VAE" train $TINY --epochs 2 --no-pictures --estimator score --out "$T/cmp3"
expect 0 "compare three runs" "$VAE" compare "$T/cmp1" "$T/cmp2" "$T/cmp3" --out "$T/cmp"
check "compare.png decodes" "$CHECK" png "$T/cmp/compare.png"
check "compare.csv: a header and every epoch and step row" test "$(lines "$T/cmp/compare.csv")" -eq $((1 + 3 + 7 + 2 + 2))
check "compare legend: the options that differ" grep -q '"legend":"est=score bl=vimco obj=vae:l=2' "$T/out"
check "compare legend does not list equal options" test "$(grep -c 'latent=' "$T/cmp/compare.csv")" -eq 0
expect 2 "compare without runs" "$VAE" compare --out "$T/cmp"
expect 1 "compare a missing run" "$VAE" compare "$T/nothing"
expect 2 "estimators --ref-draws 1" "$VAE" estimators --run "$R" --ref-draws 1
expect 0 "bench --smoke" "$VAE" bench --smoke
check "bench prints JSON" "$CHECK" json "$T/out" >/dev/null
expect 0 "bench --workloads --smoke" "$VAE" bench --workloads --smoke
check "bench prints JSON" "$CHECK" json "$T/out" >/dev/null

# ---- CSV data: Gaussian likelihood, CSV pictures in original units ----
awk 'BEGIN { print "a,b,c"; for (i = 0; i < 300; i++) printf "%d,%.3f,%.3f\n", 100 + i % 7, i * 0.01, -(i % 11) * 2.5 }' \
    >"$T/data.csv"
expect 0 "train on CSV" "$VAE" train --data "csv:$T/data.csv" --epochs 2 --hidden 16 --latent 2 --out "$T/csv" --quiet
check "CSV run uses the gaussian likelihood" grep -q '"likelihood":"gaussian"' "$T/out"
check "CSV samples.csv" test "$(lines "$T/csv/samples.csv")" -eq 65
check "CSV reconstructions.csv" test -s "$T/csv/reconstructions.csv"
expect 0 "sample from the CSV run" "$VAE" sample --run "$T/csv" --n 5
check "CSV samples.npy shape" test "$("$CHECK" npy "$T/csv/samples.npy")" = "5,3"
expect 0 "score the CSV run on its own file" "$VAE" score --run "$T/csv" --data "csv:$T/data.csv" --split train \
    --is-samples 5 --quiet
expect 2 "--binarize on CSV" "$VAE" train --data "csv:$T/data.csv" --binarize threshold --out "$T/csv2" --quiet

# ---- --labels: train on shapes 0 and 1 of the sprites, score the others (labels = shape) ----
SP="--data sprites:16 --hidden 16 --latent 2 --n-train 300 --batch 50 --epochs 1 --no-pictures --quiet"
expect 0 "train --labels 0,1" "$VAE" train $SP --labels 0,1 --out "$T/lab"
expect 0 "export of the --labels run" "$VAE" export --run "$T/lab" --to "$T/lab/w"
check "run.txt keeps labels" grep -q "^labels 0,1$" "$T/lab/w/run.txt"
expect 0 "score reuses the run's labels" "$VAE" score --run "$T/lab" --is-samples 0 --out "$T/lab01.csv" --quiet
check "scored labels are 0 and 1" test "$(tail -n +2 "$T/lab01.csv" | cut -d, -f5 | sort -u | tr '\n' ' ')" = "0 1 "
expect 0 "score --labels 2 (the unseen shape)" "$VAE" score --run "$T/lab" --labels 2 --is-samples 0 \
    --out "$T/lab2.csv" --quiet
check "scored labels are 2" test "$(tail -n +2 "$T/lab2.csv" | cut -d, -f5 | sort -u)" = "2"
check "score --labels 2 keeps every test example of shape 2" test "$(lines "$T/lab2.csv")" -gt 100
expect 0 "eval --labels 2" "$VAE" eval --run "$T/lab" --labels 2 --is-samples 0 --quiet
check "eval --labels JSON" "$CHECK" keys "$T/out" elbo kl active_units
expect 2 "train --labels with a bad list" "$VAE" train $SP --labels 0,x --out "$T/lab_bad"
check "bad --labels message names the option" grep -q -- "--labels" "$T/err"
expect 2 "score --labels empty" "$VAE" score --run "$T/lab" --labels ""
expect 2 "eval --labels negative" "$VAE" eval --run "$T/lab" --labels -1
expect 2 "train --labels that match nothing" "$VAE" train $SP --labels 7 --out "$T/lab_none"
check "no-match message" grep -q "no example" "$T/err"
expect 2 "--labels cannot change on resume" "$VAE" train --resume --out "$T/lab" --labels 1
expect 2 "--labels on data without labels" "$VAE" train --data "csv:$T/data.csv" --labels 0 --out "$T/csv3" --quiet
check "no-labels message" grep -q "has no labels" "$T/err"

# ---- --net conv: the conv encoder/decoder on images, remembered by the run; refused on tabular data ----
CV="--data sprites:16 --net conv --conv-channels 4,8 --latent 2 --n-train 200 --batch 50 --epochs 1 --no-pictures --quiet"
expect 0 "train --net conv" "$VAE" train $CV --out "$T/conv"
expect 0 "export of the conv run" "$VAE" export --run "$T/conv" --to "$T/conv/w"
check "run.txt keeps the net" grep -q "^net conv$" "$T/conv/w/run.txt"
check "run.txt keeps the conv channels" grep -q "^conv_channels 4,8$" "$T/conv/w/run.txt"
expect 0 "eval rebuilds the conv net" "$VAE" eval --run "$T/conv" --is-samples 5 --n 20 --quiet
check "eval of the conv run" "$CHECK" keys "$T/out" loglik elbo
expect 0 "sample from the conv run" "$VAE" sample --run "$T/conv" --n 4 --out "$T/conv_smp"
expect 0 "resume the conv run" "$VAE" train --resume --out "$T/conv" --epochs 2 --quiet --no-pictures
expect 2 "--net cannot change on resume" "$VAE" train --resume --out "$T/conv" --net mlp
expect 2 "--net conv on CSV" "$VAE" train --data "csv:$T/data.csv" --net conv --out "$T/csv_conv" --quiet
check "--net conv on tabular data says why" grep -q "is tabular: use --net mlp" "$T/err"
expect 2 "--conv-channels without --net conv" "$VAE" train $SP --conv-channels 4,8 --out "$T/cc"
expect 2 "--conv-channels with one count" "$VAE" train $CV --conv-channels 4 --out "$T/cc"
expect 0 "train --net conv --conv-hidden" "$VAE" train $CV --conv-hidden 12,6 --out "$T/convh"
expect 0 "export of the conv-hidden run" "$VAE" export --run "$T/convh" --to "$T/convh/w"
check "run.txt keeps the fc sizes" grep -q "^conv_hidden 12,6$" "$T/convh/w/run.txt"
check "the encoder's second fc layer" grep -q "enc.fc.1.weight" "$T/convh/w/manifest.json"
expect 0 "eval rebuilds the conv-hidden net" "$VAE" eval --run "$T/convh" --is-samples 5 --n 20 --quiet
expect 2 "--conv-hidden without --net conv" "$VAE" train $SP --conv-hidden 12 --out "$T/cc"
check "--conv-hidden without conv says why" grep -q "does not act.*add --net conv" "$T/err"
expect 2 "--hidden with --net conv" "$VAE" train $CV --hidden 12 --out "$T/cc"
check "--hidden with conv names --conv-hidden" grep -q "and --conv-hidden" "$T/err"
expect 2 "--conv-hidden with a bad size" "$VAE" train $CV --conv-hidden 12,0 --out "$T/cc"
expect 2 "bad --net" "$VAE" train --net rnn
expect 0 "estimators on a fresh conv net" "$VAE" estimators --data sprites:16 --net conv --ks 1 --draws 4 \
    --ref-draws 0 --estimators reparam --batch 10 --out "$T/conv_est" --quiet
check "estimator groups of the conv net" grep -q '"name":"enc.conv0.weight"' "$T/out"
check "the conv net's mu/logvar split" grep -q '"name":"encoder.mu"' "$T/out"

# ---- binarized MNIST keeps its standard validation split (50000 / 10000 / 10000) ----
BM="${VAE_SHARED_DATA:-/nonexistent}/binarized_mnist"
if [ -f "$BM/binarized_mnist_valid.amat.gz" ] || [ -f "$BM/binarized_mnist_valid.amat" ]; then
    expect 0 "train on binarized-mnist" "$VAE" train --data "binarized-mnist:$BM" --n-train 200 --epochs 1 \
        --hidden 16 --latent 2 --no-pictures --out "$T/bm"
    check "binarized-mnist validation is its valid file" grep -q "200 train / 10000 valid" "$T/err"
else
    echo "skip: binarized MNIST not found at $BM"
fi

# ---- one writer per run: a second `vae train` on a live run is refused naming the holder; after a kill -9 the
# run resumes and the killed save's stale temporary is cleaned ----
L="$T/lock"
"$VAE" train --hidden 32 --latent 2 --n-train 2000 --epochs 100000 --out "$L" --quiet --no-pictures \
    >"$T/lock.out" 2>"$T/lock.err" &
pid=$!
i=0
while [ ! -s "$L/log.jsonl" ] && [ $i -lt 600 ]; do
    sleep 0.1
    i=$((i + 1))
done
expect 1 "a second writer (--resume) on a live run is refused" "$VAE" train --resume --out "$L" --quiet --no-pictures
check "the refusal names the process holding the run" grep -q "in use by process $pid" "$T/err"
expect 1 "a fresh run into a live run's directory is refused" "$VAE" train --out "$L" --quiet --no-pictures
check "the live run still runs" kill -0 $pid
kill -KILL $pid
wait $pid 2>/dev/null
dead=$(sh -c 'echo $$') # a pid that no longer runs
: >"$L/checkpoint.vae.tmp-$dead-0"
expect 0 "resume after kill -9" "$VAE" train --resume --out "$L" --epochs $(($(lines "$L/log.jsonl") + 1)) \
    --quiet --no-pictures
check "the killed save's stale temporary is removed" test ! -e "$L/checkpoint.vae.tmp-$dead-0"

# ---- a CRC-valid checkpoint that claims the impossible ----
mkdir -p "$T/claim"
cp "$R/checkpoint.vae" "$T/claim/"
check "setcfg" "$CHECK" setcfg "$T/claim/checkpoint.vae" batch_in_epoch 999
expect 1 "a mid-epoch position past the epoch's end is refused" "$VAE" train --resume --out "$T/claim" --quiet
check "the position message names the batch" grep -q "batch 999" "$T/err"
cp "$R/checkpoint.vae" "$T/claim/"
"$CHECK" setcfg "$T/claim/checkpoint.vae" h 16 && "$CHECK" setcfg "$T/claim/checkpoint.vae" w 64
expect 1 "the same pixel count in another image shape is refused" "$VAE" eval --run "$T/claim" --is-samples 0 --quiet
check "the shape message names both shapes" grep -q "16x64x1" "$T/err"

# ---- --max-memory: work whose estimate exceeds it is refused with the estimate ----
expect 1 "--max-memory refuses a load over the limit" "$VAE" train --max-memory 8M --out "$T/mm" --quiet
check "the refusal gives the estimate" grep -q "estimated" "$T/err"
expect 2 "--max-memory needs a size" "$VAE" train --max-memory lots --out "$T/mm" --quiet

# ---- discrete latents (models/discrete.h): refusals, a tiny run, eval's exact log p(x), the estimator study ----
DS="--data sprites:16 --hidden 16 --n-train 300 --batch 50 --epochs 1 --no-pictures --quiet"
expect 2 "reparam on discrete latents is refused" "$VAE" train $DS --latent-kind categorical:2x3 --out "$T/dz"
check "the refusal names the discrete latents" grep -q "discrete (categorical:2x3)" "$T/err"
expect 2 "stl on discrete latents is refused" "$VAE" train $DS --latent-kind bernoulli:4 --estimator stl --out "$T/dz"
expect 2 "gumbel on Gaussian latents is refused" "$VAE" train $DS --estimator gumbel --out "$T/dz"
expect 2 "a bad latent kind" "$VAE" train $DS --latent-kind categorical:3x1 --out "$T/dz"
expect 2 "--latent conflicting with the kind" "$VAE" train $DS --latent-kind categorical:2x3 --latent 5 --estimator score --out "$T/dz"
expect 2 "--temperature without gumbel" "$VAE" train $DS --latent-kind bernoulli:4 --estimator score --temperature 0.5 --out "$T/dz"
expect 0 "gumbel, annealed, straight-through" "$VAE" train $DS --latent-kind categorical:2x3 --estimator gumbel \
    --temperature 2 --temp-anneal 0.01 --straight-through --out "$T/dg"
expect 0 "score with NVIL's baseline" "$VAE" train $DS --latent-kind bernoulli:4 --estimator score --baseline nvil --out "$T/dn"
expect 0 "eval of a discrete run" "$VAE" eval --run "$T/dn" --is-samples 200 --n 20 --quiet
check "eval reports the exact log p(x) over the 16 configurations" grep -q '"latent_configs":16,"loglik_exact"' "$T/out"
expect 0 "estimators on a discrete run" "$VAE" estimators --run "$T/dg" --objective vae --ks 2 --draws 20 \
    --estimators score:vimco,score:nvil,gumbel:0.5,reparam --out "$T/dg" --quiet
check "the study's reference is the exact gradient" grep -q '"exact_ref":true' "$T/out"
check "reparam is skipped on discrete latents" sh -c "! grep -q '\"estimator\":\"reparam\"' $T/out"

check "run configuration survives mutations" "$CHECK" config "$R/checkpoint.vae" >/dev/null
check "run configurations from before --objective load" "$CHECK" legacy
check "MIG self-test" "$CHECK" mig >/dev/null

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
