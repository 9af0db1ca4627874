#!/usr/bin/env bash
# Benchmarks for docs/performance.md (not part of `make test`; they measure, never assert):
#   - `keyward list --json` over a Matrix-like account with 5,000 devices against the raw HTTP time
#     of the same requests (Keyward's overhead, as a ratio);
#   - a refresh of 20 accounts behind 500 ms of added latency per request against one account (the
#     ratio; parallel is ≈ 1), with the requests and keyring reads per refresh.
# Both sides of each ratio run side by side, alternating, in one run, against a tiny local server
# of canned JSON (scripts/bench/matrix_canned.py), in a private keyring session, with the release
# CLI (built in the cached target dir). BENCH_RUNS sets the runs per side (default 7).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/env.sh"
bash "$here/scripts/system-deps.sh"
bash "$here/scripts/npm-ci.sh" "$here"
(cd "$here" && cargo build -q --locked --release --bin keyward)
T=$(mktemp -d "${TMPDIR:-/tmp}/keyward-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
echo "keyward $(git -C "$here" rev-parse --short HEAD), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
TMPDIR="$T" bash "$here/scripts/with-keyring.sh" python3 "$here/scripts/bench/run.py" "$CARGO_TARGET_DIR/release/keyward" "$T"
