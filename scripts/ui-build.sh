#!/usr/bin/env bash
# Builds the web UI (vite) into ui/dist, touching ui/dist only when what was built differs from
# what is there: the app embeds ui/dist and its build script reruns on any newer file in it, so an
# unchanged UI rebuilt must not recompile the app (a warm `make package` after `make test`'s
# end-to-end build only bundles). The log of a failed build goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d "${TMPDIR:-/tmp}/keyward-ui-dist.XXXXXX")
trap 'rm -rf "$out"' EXIT
(cd "$here/ui" && npx --no-install vite build --outDir "$out/dist" --emptyOutDir >"$out/build.log" 2>&1) || { cat "$out/build.log" >&2; exit 1; }
if ! diff -rq "$out/dist" "$here/ui/dist" >/dev/null 2>&1; then
  rm -rf "$here/ui/dist.old"
  [ ! -d "$here/ui/dist" ] || mv "$here/ui/dist" "$here/ui/dist.old"
  mv "$out/dist" "$here/ui/dist"
  rm -rf "$here/ui/dist.old"
fi
