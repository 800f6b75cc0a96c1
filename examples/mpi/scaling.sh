#!/bin/sh
# scaling.sh VAE [REPS] - samples/s of `vae train` on W1/W2-like MNIST runs: one process with 2 threads against
# `mpirun -n 2 --bind-to core` with 1 thread per rank, interleaved in one run (the machine may be shared: compare
# medians of REPS runs each, default 5). Needs MNIST in $VAE_SHARED_DATA/mnist (or ../shared/data/mnist).
VAE=${1:?usage: scaling.sh VAE [REPS]}
REPS=${2:-5}
DATA=${VAE_SHARED_DATA:-../shared/data}/mnist
T=$(mktemp -d "${TMPDIR:-/tmp}/vae_scaling.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
W1="--hidden 400 --latent 20 --activation relu --batch 100 --max-steps 200"
W2="--hidden 200,200 --latent 50 --activation tanh --batch 20 --objective iwae:k=50 --max-steps 60"
COMMON="--data mnist:$DATA --n-train 20000 --no-pictures --quiet"
rate() { # samples/s from the train JSON: steps * batch / train_seconds
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("%.0f" % (j["step"]*int(sys.argv[2])/j["train_seconds"]))' "$1" "$2"
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for w in W1 W2; do
    eval "args=\$$w"
    b=$(echo "$args" | sed 's/.*--batch \([0-9]*\).*/\1/')
    one="" two=""
    for i in $(seq "$REPS"); do
        rm -rf "$T/a" "$T/b"
        "$VAE" train $COMMON $args --threads 2 --out "$T/a" >"$T/a.json" || exit 1
        one="$one $(rate "$T/a.json" "$b")"
        mpirun -n 2 --bind-to core "$VAE" train $COMMON $args --threads 1 --out "$T/b" >"$T/b.json" || exit 1
        two="$two $(rate "$T/b.json" "$b")"
    done
    m1=$(echo "$one" | median) m2=$(echo "$two" | median)
    echo "$w: 1 process x 2 threads: median $m1 samples/s (runs:$one)"
    echo "$w: 2 ranks x 1 thread:    median $m2 samples/s (runs:$two); ratio $(python3 -c "print('%.2f' % ($m2/$m1))")"
done
