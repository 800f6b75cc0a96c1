#!/bin/sh
# tests/fuzz/run.sh [SECONDS] - build the libFuzzer harness with clang (ASan + UBSan) and fuzz the file parsers
# for SECONDS (default 60), starting from the committed seed corpus tests/fuzz/corpus/. New inputs go to a scratch
# corpus in $FUZZ_WORK (default a temporary directory), never into the repository; a crash leaves its input
# there and makes the script fail. CI runs a short pass; developers run a long one: tests/fuzz/run.sh 1800
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-60}
CC=${CLANG:-clang}
work=${FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/vae_fuzz.XXXXXX")}
mkdir -p "$work/corpus"
$CC -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_POSIX_C_SOURCE=200809L -I. \
    tests/fuzz/fuzz_formats.c tensor/error.c tensor/crc32.c tensor/atomic_file.c tensor/file_read.c \
    tensor/npy.c tensor/io/inflate.c tensor/io/deflate.c tensor/io/png.c tensor/io/idx.c tensor/io/amat.c \
    tensor/io/csv.c -lm -lpthread -o "$work/fuzz_formats"
echo "fuzzing the parsers for ${secs}s (work dir $work)"
cd "$work"
./fuzz_formats -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    corpus "$OLDPWD/tests/fuzz/corpus"
