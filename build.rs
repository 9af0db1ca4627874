//! Build script of the `keyward` crate: embeds the uap-core user agent patterns.
//!
//! The patterns come from the npm package `uap-core`, pinned in the root `package.json` and
//! installed by `npm ci` at the repo root into `node_modules/` (never copied into the repo).
//! `KEYWARD_UAP_CORE_REGEXES` may point at another `regexes.yaml`. The file is copied into
//! `OUT_DIR` and `src/clients.rs` embeds it with `include_bytes!`; it is parsed and compiled at
//! run time, once. Nothing else is generated here.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=KEYWARD_UAP_CORE_REGEXES");
    let source = regexes_path();
    println!("cargo:rerun-if-changed={}", source.display());
    if !source.is_file() {
        panic!(
            "\n\nthe uap-core user agent patterns are missing: {} does not exist.\n\
             Run `npm ci` at the repo root (make does it), or set KEYWARD_UAP_CORE_REGEXES to a regexes.yaml.\n\n",
            source.display()
        );
    }
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("uap-regexes.yaml");
    std::fs::copy(&source, &out).unwrap_or_else(|e| panic!("cannot copy {} to {}: {e}", source.display(), out.display()));
}

/// `$KEYWARD_UAP_CORE_REGEXES`, else `node_modules/uap-core/regexes.yaml` beside this file.
fn regexes_path() -> PathBuf {
    match env::var_os("KEYWARD_UAP_CORE_REGEXES") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
            .join("node_modules/uap-core/regexes.yaml"),
    }
}
