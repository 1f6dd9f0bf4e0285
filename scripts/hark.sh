#!/usr/bin/env bash
# Hark's one entry point for building, running and testing on Debian 12 (bookworm).
#
#   ./scripts/hark.sh deps              install the Debian packages Hark needs (only missing ones)
#   ./scripts/hark.sh build [release|asan|tsan]
#                                       configure and build build/release, build/asan or build/tsan
#   ./scripts/hark.sh run [hark args…]  deps + release build, then run the daemon in the foreground
#   ./scripts/hark.sh test              deps + release build + ctest, then the same under ASan+UBSan,
#                                       and a short run of each fuzzer
#   ./scripts/hark.sh tsan              deps + TSan build, then the tests where threads meet
#
# Every subcommand is idempotent: running it twice does the work once.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

# ccache may reuse precompiled headers (cmake/HarkPrecompiledHeaders.cmake) only with these.
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}

# Build and runtime dependencies (Debian 12 package names), plus the clients the tests drive.
DEBIAN_PACKAGES="build-essential cmake ninja-build ccache pkg-config git ca-certificates
  libboost1.81-dev libboost-url1.81-dev libssl-dev libnghttp2-dev nlohmann-json3-dev
  libsqlite3-dev libspdlog-dev libgtest-dev libgmock-dev libcli11-dev libtomlplusplus-dev
  libsystemd-dev libbenchmark-dev zlib1g-dev libbrotli-dev libzstd-dev
  python3 curl sqlite3 openssl nghttp2-client clang-14 libclang-rt-14-dev chromium"

# The npm packages the integration tests use (tests/integration): the JA3/JA4 reference the
# fingerprint cross-check compares Hark with, and the HAR 1.2 schema validator every HAR export
# is checked with.
JA_REFERENCE_PACKAGE="read-tls-client-hello@2.0.0"
HAR_VALIDATOR_PACKAGE="har-validator@5.1.5"
# WebSocket client and origin of tests/integration/test_websocket.py (ws_peer.js).
WS_PACKAGE="ws@8.18.3"
# Drives Debian's chromium in test_websocket.py (a browser's wss:// through Hark) and
# test_web_ui.py (the web UI).
PUPPETEER_PACKAGE="puppeteer-core@24.43.1"
# The real gRPC client and server of the HTTP/2 integration test (grpc_peer.js).
GRPC_PACKAGE="@grpc/grpc-js@1.14.7"

log() { printf 'hark.sh: %s\n' "$*" >&2; }

# timed LABEL CMD… — runs CMD and logs how long it took (the phases CI's time budget is made
# of), keeping its exit status.
timed() {
  local label=$1 start rc=0
  shift
  start=$(date +%s)
  "$@" || rc=$?
  log "time: $label $(($(date +%s) - start)) s (exit $rc)"
  return "$rc"
}
die() { log "$*"; exit 1; }

usage() {
  sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root to run: $* (sudo not found)"
  fi
}

cmd_deps() {
  command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: this script targets Debian 12"
  local missing=() pkg status
  for pkg in $DEBIAN_PACKAGES; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "installed" ] || missing+=("$pkg")
  done
  # Node.js drives the fingerprint cross-check; a Node.js already installed (e.g. a newer one
  # from another repository, which bundles npm) is kept.
  if ! command -v node >/dev/null 2>&1; then
    missing+=(nodejs npm)
  fi
  if [ "${#missing[@]}" -eq 0 ]; then
    log "deps: all packages present"
  else
    log "deps: installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
  npm_deps
}

# The npm packages of the integration tests, into tests/integration/node_modules. Both run on
# Debian 12's Node.js 18: read-tls-client-hello declares Node >= 20 in its package.json but
# uses nothing newer than 18 has (crypto.createHash, streams), and test_ja4_reference.py runs
# it on 18 in CI; --engine-strict=false keeps npm from refusing it there.
npm_deps() {
  local dir="$ROOT/tests/integration" packages=("$HAR_VALIDATOR_PACKAGE" "$JA_REFERENCE_PACKAGE"
    "$WS_PACKAGE" "$PUPPETEER_PACKAGE" "$GRPC_PACKAGE")
  if ! command -v npm >/dev/null 2>&1; then
    log "deps: npm missing, JA4 cross-check, HAR validation, WebSocket and web UI tests skipped"
    return 0
  fi
  if [ -d "$dir/node_modules/har-validator" ] && [ -d "$dir/node_modules/read-tls-client-hello" ] &&
    [ -d "$dir/node_modules/ws" ] && [ -d "$dir/node_modules/puppeteer-core" ] &&
    [ -d "$dir/node_modules/@grpc/grpc-js" ]; then
    return 0
  fi
  log "deps: npm install ${packages[*]}"
  # All in one call: `npm install --no-save` removes packages it was not asked for.
  npm install --no-save --no-audit --no-fund --engine-strict=false --prefix "$dir" \
    "${packages[@]}" >/dev/null ||
    log "deps: npm install failed, JA4 cross-check, HAR validation, WebSocket and web UI tests skipped"
}

# build_dir FLAVOR -> prints build/FLAVOR
build_dir() { printf '%s/build/%s' "$ROOT" "$1"; }

cmd_build() {
  local flavor=${1:-release}
  local dir args=(-G Ninja -DHARK_WERROR=ON)
  case "$flavor" in
    release) args+=(-DCMAKE_BUILD_TYPE=Release -DHARK_SANITIZE=OFF) ;;
    # The benchmarks are not built under ASan: none of its tests runs them.
    asan) args+=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DHARK_SANITIZE=ON -DHARK_BUILD_BENCH=OFF) ;;
    # Only the tests where threads meet run under TSan (TSAN_UNIT_TESTS): the others are not
    # compiled there, nor are the benchmarks.
    tsan) args+=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DHARK_TSAN=ON -DHARK_BUILD_BENCH=OFF
      "-DHARK_UNIT_TEST_FILTER=$TSAN_UNIT_TESTS") ;;
    *) die "build: unknown flavor '$flavor' (release|asan|tsan)" ;;
  esac
  if command -v ccache >/dev/null 2>&1; then
    args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  dir=$(build_dir "$flavor")
  # Explicit returns: callers use `cmd_build … || rc=$?`, where `set -e` does not apply.
  log "build: configuring $dir"
  cmake -S "$ROOT" -B "$dir" "${args[@]}" >/dev/null || return
  log "build: compiling $flavor with $(nproc) jobs"
  cmake --build "$dir" -j "$(nproc)" || return
  if [ "$flavor" = release ] && [ -x "$dir/hark" ]; then
    ln -sfn release/hark "$ROOT/build/hark" || return
  fi
  return 0
}

cmd_run() {
  cmd_deps
  cmd_build release
  exec "$(build_dir release)/hark" "$@"
}

# run_ctest FLAVOR [ctest args…] -> ctest's exit status
run_ctest() {
  local dir
  dir=$(build_dir "$1")
  shift
  log "test: ctest in $dir"
  (cd "$dir" && ctest --output-on-failure -j2 --timeout 600 "$@")
}

# Tests the ASan pass leaves to the others (a ctest -E expression): the stress test, whose load
# runs under TSan too and whose C++ paths the other integration tests run under ASan.
ASAN_SKIP='^integration[.]test_stress$'

# The unit tests built and run under TSan (a regular expression over tests/unit paths): the
# store writer and its threads, the event hub, the recorder, the process resolver, the API
# server, the listener and the log file sink.
TSAN_UNIT_TESTS='(store/writer_test|store/capture_log_test|capture/|api/server_test|api/events_api_test|net/listener_test|core/log_sink_test)[.]cpp$'
# The ctest names run under TSan: those unit tests, and the integration tests that put the
# daemon's threads under load (log reopen while serving, the stress test in its short form).
TSAN_CTEST='^((writer|capture_log|event_hub|recorder|process_resolver|api_server|api_events|net_|reopenable_file_sink|tls_registry|entry_json)[a-z_]*[.]|integration[.]test_(signals|stress)$)'

# run_tsan -> the TSan run's exit status
run_tsan() {
  local dir
  dir=$(build_dir tsan)
  log "test: ctest under TSan in $dir"
  (cd "$dir" && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$ROOT/tests/tsan.supp" \
    ctest --output-on-failure -j2 --timeout 600 -R "$TSAN_CTEST")
}

# The libFuzzer targets of tests/fuzz that the test command runs, HARK_FUZZ_SECONDS each.
FUZZ_TARGETS="hark_client_hello_fuzz hark_h2_session_fuzz hark_ws_frame_fuzz hark_h2_frame_log_fuzz
  hark_http1_head_fuzz hark_har_import_fuzz hark_api_json_fuzz hark_time_fuzz"

# A short libFuzzer run of every target in FUZZ_TARGETS, built with clang in build/fuzz. Each
# target keeps its corpus in build/fuzz/corpus/<target>, so a second run starts where one ended.
run_fuzz() {
  local dir seconds=${HARK_FUZZ_SECONDS:-20} target name rc=0 extra seeds
  dir=$(build_dir fuzz)
  if ! command -v clang++-14 >/dev/null 2>&1; then
    log "fuzz: clang++-14 missing"
    return 1
  fi
  log "fuzz: building $dir"
  # The I/O modules (net, layers) are left out of hark_core here: no fuzz target needs them.
  local fuzz_args=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14
    -DHARK_FUZZ=ON "-DHARK_MODULES=core;capture;store;api;tls;h2;ws" -DHARK_BUILD_APP=OFF
    -DHARK_BUILD_BENCH=OFF)
  if command -v ccache >/dev/null 2>&1; then
    fuzz_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S "$ROOT" -B "$dir" "${fuzz_args[@]}" >/dev/null || return
  # shellcheck disable=SC2086 # the list is word-split on purpose
  timed "fuzz build" cmake --build "$dir" --target $FUZZ_TARGETS -j "$(nproc)" || return
  for target in $FUZZ_TARGETS; do
    name=${target#hark_}
    name=${name%_fuzz}
    mkdir -p "$dir/corpus/$target"
    # Seed inputs kept in the repository (tests/fuzz/seeds/<target>), read but never written,
    # and the target's dictionary (tests/fuzz/<name>.dict) when it has one.
    extra=()
    if [ -f "$ROOT/tests/fuzz/$name.dict" ]; then
      extra+=("-dict=$ROOT/tests/fuzz/$name.dict")
    fi
    seeds=()
    [ -d "$ROOT/tests/fuzz/seeds/$target" ] && seeds=("$ROOT/tests/fuzz/seeds/$target")
    log "fuzz: ${seconds} s of $target"
    if ! "$dir/tests/fuzz/$target" -max_total_time="$seconds" -print_final_stats=1 \
      -timeout=10 -rss_limit_mb=2048 "${extra[@]}" "$dir/corpus/$target" "${seeds[@]}" \
      2>"$dir/$target.log"; then
      tail -n 40 "$dir/$target.log" >&2
      rc=1
      continue
    fi
    grep -E '^(stat::number_of_executed_units|Done)' "$dir/$target.log" >&2 || true
  done
  return "$rc"
}

# verdict_of RC -> "passed" or "failed (RC)"
verdict_of() { [ "$1" -eq 0 ] && echo passed || echo "failed ($1)"; }

cmd_test() {
  local release_rc=0 asan_rc=0 fuzz_rc=0 build_rc=0 started
  started=$(date +%s)
  timed deps cmd_deps
  # Every tool the integration tests use is installed now: a missing one fails its test instead
  # of skipping it (tests/integration/harklib.py, missing()).
  export HARK_REQUIRE_TOOLS=1
  timed "release build" cmd_build release || build_rc=$?
  if [ "$build_rc" -eq 0 ]; then
    timed "release tests" run_ctest release || release_rc=$?
  else
    release_rc=$build_rc
  fi

  build_rc=0
  timed "asan build" cmd_build asan || build_rc=$?
  if [ "$build_rc" -eq 0 ]; then
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      timed "asan tests" run_ctest asan -E "$ASAN_SKIP" || asan_rc=$?
  else
    asan_rc=$build_rc
  fi

  # The TSan pass (`./scripts/hark.sh tsan`) is not part of the test command yet: it joins once
  # it has run green within the CI time budget.

  timed fuzz run_fuzz || fuzz_rc=$?

  local verdict=PASS
  if [ "$release_rc" -ne 0 ] || [ "$asan_rc" -ne 0 ] || [ "$fuzz_rc" -ne 0 ]; then
    verdict=FAIL
  fi
  log "time: total $(($(date +%s) - started)) s"
  printf 'hark.sh test: %s (release: %s, asan: %s, fuzz: %s)\n' "$verdict" \
    "$(verdict_of "$release_rc")" "$(verdict_of "$asan_rc")" "$(verdict_of "$fuzz_rc")"
  [ "$verdict" = PASS ]
}

main() {
  local sub=${1:-}
  [ $# -gt 0 ] && shift
  case "$sub" in
    deps) cmd_deps "$@" ;;
    build) cmd_build "$@" ;;
    run) cmd_run "$@" ;;
    test) cmd_test "$@" ;;
    tsan) cmd_deps && cmd_build tsan && run_tsan ;;
    -h | --help | help | "") usage ;;
    *) usage >&2; die "unknown subcommand '$sub'" ;;
  esac
}

main "$@"
