#!/usr/bin/env bash
# Build the libFuzzer targets (clang, with ASan and UBSan) and run each for a bounded time.
#   bash fuzz/run.sh [SECONDS-PER-TARGET]      (tox -e fuzz)
# The corpus in fuzz/corpus/ seeds each run and is not changed; crashes are kept in ./fuzz-crashes/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:-60}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for target in cfg walk; do
  clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -o "$work/fuzz_$target" "$here/fuzz_$target.c"
  mkdir -p "$work/corpus_$target" "$work/crashes_$target"
  cp "$here/corpus/$target/"* "$work/corpus_$target/"
  if ! "$work/fuzz_$target" -max_total_time="$seconds" -close_fd_mask=2 -print_final_stats=1 \
      -artifact_prefix="$work/crashes_$target/" "$work/corpus_$target" >"$work/log_$target" 2>&1; then
    status=1
    mkdir -p fuzz-crashes && cp "$work/crashes_$target/"* fuzz-crashes/ 2>/dev/null || true
    tail -40 "$work/log_$target"
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log_$target")
  crashes=$(find "$work/crashes_$target" -type f | wc -l)
  echo "fuzz_$target: ${runs:-?} executions in ${seconds}s, $crashes crashes"
done
exit $status
