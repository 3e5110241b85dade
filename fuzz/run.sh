#!/usr/bin/env bash
# Runs every libFuzzer target built in BUILD_DIR/fuzz for SECONDS each.
#
#   fuzz/run.sh BUILD_DIR SECONDS
#
# A target named <name>_fuzz starts from a copy of fuzz/corpus/<name>/ (the checked-in seeds are never
# modified) and uses fuzz/<name>.dict, or else fuzz/<first word of name>.dict, when present.
# Crash, leak and timeout inputs are kept in BUILD_DIR/fuzz/artifacts/<target>/. Exits non-zero if any
# target failed.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build_dir=$1
seconds=$2   # not $SECONDS: bash reserves that name
if ! [[ $seconds =~ ^[0-9]+$ ]] || [[ $seconds -eq 0 ]]; then
  echo "$0: SECONDS must be a positive integer, got '$seconds'" >&2
  exit 2
fi

fuzz_src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
target_dir=$build_dir/fuzz
if [[ ! -d $target_dir ]]; then
  echo "$0: $target_dir does not exist (configure with -DHERALD_BUILD_FUZZ=ON and build first)" >&2
  exit 2
fi

targets=()
for bin in "$target_dir"/*_fuzz; do
  [[ -f $bin && -x $bin ]] && targets+=("$bin")
done
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "$0: no *_fuzz executables in $target_dir" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/herald-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

failed=()
for bin in "${targets[@]}"; do
  target=$(basename "$bin")
  name=${target%_fuzz}
  corpus=$work/$name/corpus
  artifacts=$(cd "$target_dir" && pwd)/artifacts/$target
  mkdir -p "$corpus" "$artifacts"
  if [[ -d $fuzz_src/corpus/$name ]]; then
    cp -R "$fuzz_src/corpus/$name/." "$corpus/"
  else
    echo "note: no seed corpus fuzz/corpus/$name; starting empty"
  fi
  args=(-max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$artifacts/")
  for dict in "$fuzz_src/$name.dict" "$fuzz_src/${name%%_*}.dict"; do
    if [[ -f $dict ]]; then
      args+=(-dict="$dict")
      break
    fi
  done

  echo "=== $target: ${seconds}s, corpus $(ls "$corpus" | wc -l) seeds"
  rc=0
  "$bin" "${args[@]}" "$corpus" || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "=== $target FAILED (exit $rc); reproducer(s) in $artifacts:" >&2
    ls -1 "$artifacts" >&2 || true
    failed+=("$target")
  else
    echo "=== $target ok"
  fi
done

if [[ ${#failed[@]} -ne 0 ]]; then
  echo "fuzzing failed: ${failed[*]}" >&2
  exit 1
fi
echo "all ${#targets[@]} fuzz target(s) ran ${seconds}s without failure"
