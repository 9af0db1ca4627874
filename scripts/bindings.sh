#!/usr/bin/env bash
# Writes the UI's generated TypeScript bindings (ui/src/lib/bindings.ts) from the app's commands
# and the Rust types they use. `cargo test -p keyward-app` (part of `make test`) fails whenever
# the committed file differs from what this writes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/env.sh
KEYWARD_WRITE_BINDINGS=1 cargo test -p keyward-app --locked -- bindings_are_generated_from_the_rust_types
echo "wrote ui/src/lib/bindings.ts"
