//! Declares the app's own commands (the one list, `src/command_list.in`), so the capability files
//! must grant each one by name: a command missing from `capabilities/` cannot be called from the
//! web view.
//!
//! The web UI is built by npm (`scripts/build-app.sh`), not here. So that `cargo build
//! --workspace` works before it has been built, a missing `ui/dist` gets a one-page placeholder
//! that says how to build the real one.

use std::path::Path;

macro_rules! commands {
    ($($command:ident),* $(,)?) => {
        &[$(stringify!($command)),*]
    };
}

const COMMANDS: &[&str] = include!("src/command_list.in");

const PLACEHOLDER: &str = "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Keyward</title>\
<body><p>This build of Keyward has no user interface: build it with <code>bash scripts/build-app.sh</code> \
(or <code>npm ci &amp;&amp; npm run build</code> in <code>ui/</code>, then build the app again).</p></body></html>\n";

fn main() {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dist");
    if !dist.join("index.html").exists() {
        std::fs::create_dir_all(&dist).expect("cannot create ui/dist");
        std::fs::write(dist.join("index.html"), PLACEHOLDER).expect("cannot write ui/dist/index.html");
    }
    println!("cargo:rerun-if-changed=../ui/dist");
    println!("cargo:rerun-if-changed=src/command_list.in");
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)))
        .expect("tauri-build failed");
}
