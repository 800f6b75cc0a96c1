#!/bin/sh
# test_mpi.sh VAE CKPT_COMPARE - the MPI build's `vae` under mpirun (CI's extra step, -Dmpi=enabled; about 1 min):
#   - vae train on 2 ranks equals the one-process run within float rounding (the same batches and noise, the
#     gradient summed in another order), and with --deterministic-reduce bit for bit, also on 3 ranks (uneven
#     shards), with a score-function estimator and the moving-average baseline, and across an interrupted and
#     resumed run;
#   - vae eval and vae score on 2 ranks give the one-process numbers and CSV exactly.
# Prints "N passed, M failed" and exits 1 on any failure.
VAE=$1
CMP=$2
if [ ! -x "$VAE" ] || [ ! -f "$CMP" ]; then
    echo "usage: test_mpi.sh VAE CKPT_COMPARE"
    exit 1
fi
if ! command -v mpirun >/dev/null 2>&1; then
    echo "test_mpi.sh: no mpirun on PATH"
    exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/vae_mpi_test.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
# Open MPI: root in a container, and more ranks than cores on a small CI machine
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPI="mpirun --oversubscribe --bind-to none -n"
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
    failed=$((failed + 1))
    echo "FAIL: $*"
}
check() { # check DESCRIPTION COMMAND...: the command must succeed (its output is shown)
    d=$1
    shift
    if "$@"; then ok; else bad "$d"; fi
}
run() { # run DESCRIPTION COMMAND...: must exit 0; output kept in $T/out, $T/err
    d=$1
    shift
    if "$@" >"$T/out" 2>"$T/err"; then ok; else
        bad "$d: exit status $?"
        tail -5 "$T/err" | sed 's/^/    /'
    fi
}
same() { # same DESCRIPTION A B: two run directories hold bit-identical parameters and optimizer state
    check "$1" python3 "$CMP" "$2/checkpoint.vae" "$3/checkpoint.vae" --bitwise
}
near() { # near DESCRIPTION A B TOL
    check "$1" python3 "$CMP" "$2/checkpoint.vae" "$3/checkpoint.vae" --tol "$4"
}

# 270 steps of a small MLP VAE on sprites (built in: no files needed), batch 50
A="--data sprites --n-train 1500 --hidden 64 --latent 6 --batch 50 --epochs 10 --no-pictures --quiet --threads 1"
run "train, 1 process" "$VAE" train $A --out "$T/one"
run "train, 2 ranks" $MPI 2 "$VAE" train $A --out "$T/two"
near "2 ranks equal 1 process within float rounding after 270 steps" "$T/one" "$T/two" 1e-3
run "train, 1 process, --deterministic-reduce" "$VAE" train $A --deterministic-reduce --out "$T/d1"
run "train, 2 ranks, --deterministic-reduce" $MPI 2 "$VAE" train $A --deterministic-reduce --out "$T/d2"
same "--deterministic-reduce: 2 ranks equal 1 process bit for bit" "$T/d1" "$T/d2"
run "train, 3 ranks, --deterministic-reduce" $MPI 3 "$VAE" train $A --deterministic-reduce --out "$T/d3"
same "--deterministic-reduce: 3 ranks (uneven shards) equal 1 process bit for bit" "$T/d1" "$T/d3"
near "--deterministic-reduce is the same gradient summed in another order" "$T/one" "$T/d1" 1e-3
# stopped at step 130 and resumed on 2 ranks: the same bits as the run without a break
run "train, 2 ranks, stopped at 130 steps" $MPI 2 "$VAE" train $A --deterministic-reduce --max-steps 130 \
    --out "$T/r2"
run "train, 2 ranks, resumed" $MPI 2 "$VAE" train --resume --deterministic-reduce --out "$T/r2" --quiet
same "--resume under MPI continues the same run bit for bit" "$T/d1" "$T/r2"
check "rank 0 alone wrote the log (one row per epoch)" test "$(wc -l <"$T/r2/log.jsonl")" -eq 10

# score-function gradients with the moving-average baseline (a batch statistic: summed over the ranks too)
S="--data sprites --n-train 600 --hidden 32 --latent 4 --batch 40 --epochs 4 --estimator score --baseline ma \
--samples 2 --no-pictures --quiet --threads 1 --deterministic-reduce"
run "score/ma, 1 process" "$VAE" train $S --out "$T/s1"
run "score/ma, 2 ranks" $MPI 2 "$VAE" train $S --out "$T/s2"
same "score estimator with the MA baseline: 2 ranks equal 1 process bit for bit" "$T/s1" "$T/s2"

# sharded evaluation: the same numbers (every field but the time) and the same CSV
E="--run $T/one --is-samples 200 --n 450 --quiet --threads 1"
run "eval, 1 process" "$VAE" eval $E
sed 's/"seconds":[^,}]*//' "$T/out" >"$T/eval1"
run "eval, 2 ranks" $MPI 2 "$VAE" eval $E
sed 's/"seconds":[^,}]*//' "$T/out" >"$T/eval2"
check "eval on 2 ranks prints the 1-process result" cmp -s "$T/eval1" "$T/eval2"
check "eval prints one result" test "$(grep -c loglik "$T/eval2")" -eq 1
run "score, 1 process" "$VAE" score --run "$T/one" --is-samples 50 --n 450 --out "$T/s1.csv" --quiet
run "score, 3 ranks" $MPI 3 "$VAE" score --run "$T/one" --is-samples 50 --n 450 --out "$T/s3.csv" --quiet
check "score on 3 ranks writes the 1-process CSV" cmp -s "$T/s1.csv" "$T/s3.csv"
check "score CSV has a row per example" test "$(wc -l <"$T/s3.csv")" -eq 451

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
