//! Declares the app's own commands, so the capability files must grant each one by name: a
//! command missing from `capabilities/` cannot be called from the web view.

const COMMANDS: &[&str] = &[
    "accounts",
    "refresh_account",
    "kinds",
    "detect",
    "add_account",
    "remove_account",
    "rename",
    "revoke",
    "revoke_all_others",
    "set_label",
    "ui_settings",
];

fn main() {
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)))
        .expect("tauri-build failed");
}
