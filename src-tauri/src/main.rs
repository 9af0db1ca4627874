//! Keyward's desktop app: a thin layer of Tauri commands (`commands.rs`) over the core's
//! [`Keyward`]. One instance only: a second launch brings the first one's window to the front.
//! The web view may call only the app's own commands (`command_list.in`); it cannot open URLs
//! by itself, only ask `open_page`, which the core checks. The window reopens at the size and
//! place it was closed at. Closing it can leave a background watch running (`background.rs`).

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod background;
mod bindings;
mod commands;
mod ui_error;

use keyward::Keyward;
use tauri::Manager;

fn main() {
    keyward::process::harden();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("KEYWARD_LOG").unwrap_or_else(|_| "off".into()))
        .with_writer(std::io::stderr)
        .init();
    let kw = match Keyward::open() {
        Ok(kw) => kw,
        Err(e) => {
            eprintln!("keyward-app: {e}");
            std::process::exit(1);
        }
    };
    let commands = bindings::builder();
    tauri::Builder::default()
        // First, so that a second instance exits before it opens anything.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| focus_main(app)))
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        // Size, place and maximised state, saved on close and restored before the window shows.
        .plugin(tauri_plugin_window_state::Builder::default().with_state_flags(window_state_flags()).build())
        .manage(kw)
        .manage(commands::BrowserFlows::default())
        .manage(commands::Confirmations::default())
        .invoke_handler(commands.invoke_handler())
        .on_window_event(background::on_window_event)
        .setup(|app| {
            // The client recogniser's patterns (uap-core, thousands of regexes) compile here, off
            // the UI thread, while the window shows the cached listing.
            std::thread::spawn(keyward::clients::warm_up);
            background::start(app.handle());
            if let (Some(window), Some(theme)) = (app.get_webview_window("main"), commands::theme_override()) {
                let theme = if theme == commands::Theme::Dark { tauri::Theme::Dark } else { tauri::Theme::Light };
                let _ = window.set_theme(Some(theme));
            }
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("error while running Keyward");
}

/// What is remembered of the window: its size, place and maximised state, never whether it was
/// hidden (a window restored hidden would look like an app that does not start).
fn window_state_flags() -> tauri_plugin_window_state::StateFlags {
    use tauri_plugin_window_state::StateFlags;
    StateFlags::SIZE | StateFlags::POSITION | StateFlags::MAXIMIZED
}

/// Brings the main window to the front (another launch of the app asked for it).
pub(crate) fn focus_main(app: &tauri::AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}
