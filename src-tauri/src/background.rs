//! Keeping watch after the window closes, when the user chose it (the core's `keep_watching`
//! setting, off by default): closing the window then only hides it, a tray icon (Open Keyward,
//! Quit; hidden again when the setting goes off) stays, and the core's
//! [`Keyward::background_watch`] tells each new sign-in in a desktop notification, in the core's
//! words. Where the desktop shows no tray icon, closing quits as always, whatever the setting.
//!
//! Only the wiring is here: the rounds, their timing, what is news and how it is worded are the
//! core's. The watch runs for as long as the app does and does nothing while the setting is off.

use std::sync::OnceLock;

use keyward::insight::watcher::{Notice, DEFAULT_INTERVAL};
use keyward::Keyward;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, WindowEvent};
use tauri_plugin_notification::NotificationExt;

const TRAY: &str = "keyward";

/// Starts the background watch (idle while the setting is off) and, when the setting is on,
/// the tray icon.
pub fn start(app: &AppHandle) {
    // Asked here, on the main thread, before any command needs the answer.
    tray_available();
    sync_tray(app);
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let kw = app.state::<Keyward>();
        kw.background_watch(interval(), |n| notify(&app, &n)).await;
    });
}

/// How often the watch refreshes: 15 minutes, or `KEYWARD_WATCH_MINUTES` (for trying it out;
/// the core keeps a floor).
fn interval() -> std::time::Duration {
    std::env::var("KEYWARD_WATCH_MINUTES")
        .ok()
        .and_then(|m| m.trim().parse::<f64>().ok())
        .filter(|m| m.is_finite() && *m > 0.0 && *m <= 7.0 * 24.0 * 60.0)
        .map_or(DEFAULT_INTERVAL, |m| std::time::Duration::from_secs_f64(m * 60.0))
}

fn notify(app: &AppHandle, n: &Notice) {
    if let Err(e) = app.notification().builder().title(&n.title).body(&n.body).show() {
        tracing::warn!("cannot show a notification: {e}");
    }
}

/// Closing the window hides it instead, while the watch is on and its tray icon is there to
/// bring it back; otherwise the window closes and the app quits.
pub fn on_window_event(window: &tauri::Window, event: &WindowEvent) {
    if let WindowEvent::CloseRequested { api, .. } = event {
        let app = window.app_handle();
        let on = app.state::<Keyward>().keep_watching().unwrap_or(false);
        // The icon is there (and shown, as the setting is on) to bring the window back.
        if on && app.tray_by_id(TRAY).is_some() {
            api.prevent_close();
            let _ = window.hide();
        }
    }
}

/// Shows the tray icon while the setting is on (where the desktop has a tray), hides it when
/// off. Returns whether it is shown.
///
/// Made once and then only shown and hidden: on Linux a tray icon dropped is only marked passive
/// and stays registered with the desktop's watcher under the same bus path, so one made again
/// after it would not be the one the desktop shows.
pub fn sync_tray(app: &AppHandle) -> bool {
    let on = app.state::<Keyward>().keep_watching().unwrap_or(false);
    let existing = app.tray_by_id(TRAY);
    if !on || !tray_available() {
        if let Some(tray) = existing {
            let _ = tray.set_visible(false);
        }
        return false;
    }
    if let Some(tray) = existing {
        return match tray.set_visible(true) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!("cannot show the tray icon: {e}");
                false
            }
        };
    }
    match build_tray(app) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!("cannot show the tray icon: {e}");
            false
        }
    }
}

fn build_tray(app: &AppHandle) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "Open Keyward", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &quit])?;
    let mut tray = TrayIconBuilder::with_id(TRAY)
        .tooltip("Keyward is watching your accounts")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "open" => crate::focus_main(app),
            "quit" => app.exit(0),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click { button: MouseButton::Left, button_state: MouseButtonState::Up, .. } = event {
                crate::focus_main(tray.app_handle());
            }
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

/// Does this desktop show tray icons? Asked once. On Linux: a status-icon host
/// (`org.kde.StatusNotifierWatcher`, which GNOME's AppIndicator extension, KDE, Xfce and others
/// provide) on the session bus, and the AppIndicator library the icon is drawn with.
pub fn tray_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        #[cfg(target_os = "linux")]
        {
            status_icon_host() && appindicator_library()
        }
        #[cfg(not(target_os = "linux"))]
        {
            true
        }
    })
}

#[cfg(target_os = "linux")]
fn status_icon_host() -> bool {
    let ask = || -> zbus::Result<bool> {
        let bus = zbus::blocking::Connection::session()?;
        let name = zbus::names::BusName::try_from("org.kde.StatusNotifierWatcher")?;
        Ok(zbus::blocking::fdo::DBusProxy::new(&bus)?.name_has_owner(name)?)
    };
    ask().unwrap_or(false)
}

/// The library the tray icon is drawn with, by the names the tray itself loads it by (without it,
/// making the icon would abort the app).
#[cfg(target_os = "linux")]
fn appindicator_library() -> bool {
    ["libayatana-appindicator3.so.1", "libappindicator3.so.1", "libayatana-appindicator3.so", "libappindicator3.so"].iter().any(|name| {
        // SAFETY: the same library, by the same names, that the tray loads anyway when it is made;
        // it is unloaded again at once.
        unsafe { libloading::Library::new(name) }.is_ok()
    })
}
