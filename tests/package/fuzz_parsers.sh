#!/usr/bin/env bash
# Builds the libFuzzer harnesses in fuzz/ against only the parser sources they
# need (the header parsers compile alone) with ASan + UBSan, and runs each for
# FUZZ_SECONDS (default 15) seconds from the seed corpus in fuzz/corpus/.
# Exit 77 (CTest's SKIP_RETURN_CODE) when clang++ with libFuzzer is missing.
# Usage: fuzz_parsers.sh <source dir> <work dir>
set -euo pipefail
src="$1"; work="$2"; seconds="${FUZZ_SECONDS:-15}"
cxx="${FUZZ_CXX:-clang++}"
mkdir -p "$work"
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "SKIP: $cxx not found (apt-get install clang)"; exit 77
fi
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' >"$work/probe.cpp"
if ! "$cxx" -fsanitize=fuzzer "$work/probe.cpp" -o "$work/probe" >/dev/null 2>&1; then
  echo "SKIP: $cxx cannot link libFuzzer (-fsanitize=fuzzer)"; exit 77
fi
flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=undefined -I"$src/include" -I"$src")

run() {  # name, parser source
  local name="$1" parser="$2"
  echo "== building ${name}_header_fuzz"
  "$cxx" "${flags[@]}" "$src/fuzz/${name}_header_fuzz.cpp" "$src/$parser" "$src/host/core/error.cpp" \
    -o "$work/${name}_header_fuzz"
  rm -rf "$work/corpus-$name" && mkdir -p "$work/corpus-$name" && cp "$src/fuzz/corpus/$name/"* "$work/corpus-$name/"
  echo "== running ${name}_header_fuzz for ${seconds} s"
  if ! (cd "$work" && "./${name}_header_fuzz" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
          "corpus-$name" >"${name}_fuzz.log" 2>&1); then
    cat "$work/${name}_fuzz.log"; echo "FINDING in ${name}_header_fuzz (reproducer: $work/crash-*)"; exit 1
  fi
  tail -n 6 "$work/${name}_fuzz.log"
}
run npy host/io/npy_header.cpp
run cfl host/io/cfl_header.cpp
echo "no findings"
