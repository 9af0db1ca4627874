//! Hardening of the Keyward process itself, which every face does first thing ([`harden`]: the
//! CLI's `main`, the desktop app's `main`). The process holds passwords and tokens in memory for
//! a moment, so: no core dump may be written (a dump would hold them), and on Linux the process
//! is not dumpable, so another process of the same user can neither attach a debugger (ptrace)
//! nor read its memory through `/proc/<pid>/mem`.
//!
//! And the last line of defence for faces that print ([`one_line_panics`]): should a bug panic,
//! the user sees one plain line, not a backtrace or the panic's message (which could hold server
//! text).
//!
//! Deliberately not here: anything that can fail loudly. Hardening is best effort: a system that
//! refuses it (no `prctl`, a sandbox) still runs Keyward.

/// Turns off core dumps and, on Linux, ptrace-dumpability. Call before any secret is read.
pub fn harden() {
    #[cfg(unix)]
    no_core_dumps();
    #[cfg(target_os = "linux")]
    not_dumpable();
}

/// Whether this process is protected as [`harden`] makes it (for tests and diagnostics): core
/// dumps off, and on Linux not dumpable.
pub fn is_hardened() -> bool {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit { rlim_cur: 1, rlim_max: 1 };
        // SAFETY: getrlimit writes into the struct we own.
        let core_off = unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut limit) } == 0 && limit.rlim_cur == 0;
        #[cfg(target_os = "linux")]
        // SAFETY: PR_GET_DUMPABLE takes no pointers.
        let dumpable = unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) } != 0;
        #[cfg(not(target_os = "linux"))]
        let dumpable = false;
        core_off && !dumpable
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// Makes a panic print one line on stderr (`<name>: internal error at <file:line>; …`) and end
/// the process with status 1, instead of the message and a backtrace.
pub fn one_line_panics(name: &'static str) {
    std::panic::set_hook(Box::new(move |info| {
        let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("{name}: internal error{place}; this is a bug in Keyward, please report it");
        std::process::exit(1);
    }));
}

#[cfg(unix)]
fn no_core_dumps() {
    let none = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: setrlimit reads the struct we pass; it changes only this process's limits.
    if unsafe { libc::setrlimit(libc::RLIMIT_CORE, &none) } != 0 {
        tracing::debug!("could not turn off core dumps");
    }
}

#[cfg(target_os = "linux")]
fn not_dumpable() {
    // SAFETY: PR_SET_DUMPABLE takes plain integers and changes only this process.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
        tracing::debug!("could not make the process non-dumpable");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harden_turns_off_core_dumps_and_dumpability() {
        harden();
        assert!(is_hardened());
    }
}
