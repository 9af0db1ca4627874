//! A string that is a secret: a password, a token, a cookie. It prints as `<secret>` in `Debug`,
//! has no `Display` and no `Serialize`, and is wiped from memory when dropped. Getting at the
//! value takes an explicit `expose()`, which makes every use easy to find and review.
//!
//! The ways a secret comes in and goes out keep it in wiped buffers too: [`Secret::read_stdin_line`]
//! and [`Secret::prompt`] read it byte by byte into a zeroising buffer (no stdin buffer or
//! growing `String` keeps a copy, and nothing past the line is consumed), and [`SecretBody`]
//! builds a request body that carries a secret (a login with a password, a token refresh)
//! straight into a zeroising buffer that the HTTP client owns until it is sent, then wipes.

use std::fmt;
use std::io::Read;

use zeroize::{Zeroize, Zeroizing};

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(Zeroizing::new(s.into()))
    }

    /// The secret's text. Send it to its server or the keyring; never print, log or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The secret in `bytes`, without a copy; `None` (and the bytes wiped) when they are not
    /// UTF-8.
    pub fn from_utf8(bytes: Zeroizing<Vec<u8>>) -> Option<Secret> {
        SecretBuf(bytes).into_secret().ok()
    }

    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// Reads one secret from a reader: the next line, without its line ending. Reads byte by
    /// byte, so a reader without a buffer (standard input's file descriptor) gives up nothing
    /// past the line and keeps no copy.
    pub fn read_line(mut r: impl Read) -> std::io::Result<Secret> {
        let mut line = SecretBuf::new();
        let mut byte = [0u8; 1];
        loop {
            match r.read(&mut byte) {
                Ok(0) => break,
                Ok(_) if byte[0] == b'\n' => break,
                Ok(_) => line.push(byte[0]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        byte.zeroize();
        if line.last() == Some(b'\r') {
            line.pop();
        }
        line.into_secret()
    }

    /// Reads the next line of standard input as a secret, without the buffer `io::stdin()`
    /// keeps (which would hold the secret, and the lines after it, for the life of the process).
    pub fn read_stdin_line() -> std::io::Result<Secret> {
        #[cfg(unix)]
        {
            use std::os::unix::io::FromRawFd;
            // SAFETY: fd 0 stays open for the life of the process; ManuallyDrop never closes it.
            let stdin = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(0) });
            Secret::read_line(&*stdin)
        }
        #[cfg(not(unix))]
        {
            Secret::read_line(std::io::stdin().lock())
        }
    }

    /// Asks for a secret on the terminal without echoing it: `prompt` on the terminal, then one
    /// line typed there (Backspace and Ctrl-U edit it; Ctrl-C cancels with an `Interrupted`
    /// error). The terminal is put back as it was however this ends.
    pub fn prompt(prompt: &str) -> std::io::Result<Secret> {
        #[cfg(unix)]
        {
            tty::prompt(prompt)
        }
        #[cfg(not(unix))]
        {
            rpassword::prompt_password(prompt).map(Secret::new)
        }
    }
}

/// A zeroising byte buffer that never reallocates in place of a copy left behind: when it must
/// grow, it moves to a new buffer and wipes the old one.
struct SecretBuf(Zeroizing<Vec<u8>>);

impl SecretBuf {
    fn new() -> Self {
        SecretBuf(Zeroizing::new(Vec::with_capacity(256)))
    }

    fn push(&mut self, b: u8) {
        if self.0.len() == self.0.capacity() {
            let mut bigger = Zeroizing::new(Vec::with_capacity(self.0.capacity() * 2));
            bigger.extend_from_slice(&self.0);
            self.0 = bigger; // the old buffer is wiped as it drops
        }
        self.0.push(b);
    }

    fn pop(&mut self) -> Option<u8> {
        self.0.pop()
    }

    fn last(&self) -> Option<u8> {
        self.0.last().copied()
    }

    fn clear(&mut self) {
        self.0.zeroize();
    }

    /// Removes the last character (all of its UTF-8 bytes).
    fn pop_char(&mut self) {
        while let Some(b) = self.0.pop() {
            if b & 0xC0 != 0x80 {
                break;
            }
        }
    }

    fn into_secret(mut self) -> std::io::Result<Secret> {
        let bytes = std::mem::take(&mut *self.0);
        match String::from_utf8(bytes) {
            Ok(s) => Ok(Secret(Zeroizing::new(s))),
            Err(e) => {
                let mut bytes = e.into_bytes();
                bytes.zeroize();
                Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "the secret is not valid UTF-8 text"))
            }
        }
    }
}

/// The terminal side of [`Secret::prompt`] on Unix: `/dev/tty` in non-canonical mode without
/// echo, read byte by byte.
#[cfg(unix)]
mod tty {
    use std::io::{Read, Write};
    use std::os::unix::io::AsRawFd;

    use super::{Secret, SecretBuf};

    /// Puts the terminal's settings back when dropped.
    struct Restore {
        fd: i32,
        saved: libc::termios,
    }

    impl Drop for Restore {
        fn drop(&mut self) {
            // SAFETY: `saved` came from tcgetattr on the same fd.
            unsafe { libc::tcsetattr(self.fd, libc::TCSAFLUSH, &self.saved) };
        }
    }

    pub(super) fn prompt(prompt: &str) -> std::io::Result<Secret> {
        let mut tty = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty")?;
        let fd = tty.as_raw_fd();
        // SAFETY: termios is plain data; tcgetattr fills it or fails.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut quiet = saved;
        quiet.c_lflag &= !(libc::ECHO | libc::ECHONL | libc::ICANON | libc::ISIG);
        quiet.c_cc[libc::VMIN] = 1;
        quiet.c_cc[libc::VTIME] = 0;
        tty.write_all(prompt.as_bytes())?;
        tty.flush()?;
        // SAFETY: `quiet` is a valid termios derived from the terminal's own.
        if unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &quiet) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let restore = Restore { fd, saved };
        let mut line = SecretBuf::new();
        let mut byte = [0u8; 1];
        let outcome = loop {
            match tty.read(&mut byte) {
                Ok(0) => break Ok(()),
                Ok(_) => match byte[0] {
                    b'\n' | b'\r' => break Ok(()),
                    0x7f | 0x08 => line.pop_char(),
                    0x15 => line.clear(),
                    0x03 => break Err(std::io::Error::new(std::io::ErrorKind::Interrupted, "cancelled")),
                    0x04 if line.last().is_none() => break Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "nothing typed")),
                    b => line.push(b),
                },
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(e),
            }
        };
        zeroize::Zeroize::zeroize(&mut byte);
        drop(restore);
        let _ = tty.write_all(b"\n");
        outcome?;
        line.into_secret()
    }
}

/// A request body that carries a secret, for `reqwest::RequestBuilder`: serialised straight into
/// a zeroising buffer that the client owns until the request is sent (and, for a retry, until
/// the last copy of the request is gone), then wiped. Build the value from borrowed `&str`
/// fields (a `#[derive(Serialize)]` struct), not with `json!`, which copies every string.
pub trait SecretBody {
    /// A JSON body (`application/json`).
    fn secret_json<T: serde::Serialize + ?Sized>(self, value: &T) -> Self;
    /// A form body (`application/x-www-form-urlencoded`).
    fn secret_form<K: AsRef<str>, V: AsRef<str>>(self, fields: &[(K, V)]) -> Self;
}

impl SecretBody for reqwest::RequestBuilder {
    fn secret_json<T: serde::Serialize + ?Sized>(self, value: &T) -> Self {
        match json_bytes(value) {
            Ok(bytes) => self.header(reqwest::header::CONTENT_TYPE, "application/json").body(wiped_body(bytes)),
            // Cannot happen for the plain structs used; an empty body makes the server refuse.
            Err(_) => self,
        }
    }

    fn secret_form<K: AsRef<str>, V: AsRef<str>>(self, fields: &[(K, V)]) -> Self {
        self.header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(wiped_body(form_bytes(fields)))
    }
}

/// `value` as JSON in a zeroising buffer of exactly the right size (measured first, so it never
/// grows and leaves a copy behind).
pub fn json_bytes<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<Zeroizing<Vec<u8>>> {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer(&mut count, value)?;
    let mut out = Zeroizing::new(Vec::with_capacity(count.0));
    serde_json::to_writer(&mut *out, value)?;
    Ok(out)
}

/// `fields` URL-encoded as a form in a zeroising buffer of exactly the right size.
pub fn form_bytes<K: AsRef<str>, V: AsRef<str>>(fields: &[(K, V)]) -> Zeroizing<Vec<u8>> {
    let pieces = || {
        fields.iter().enumerate().flat_map(|(i, (k, v))| {
            let sep: &[&str] = if i == 0 { &[] } else { &["&"] };
            sep.iter()
                .copied()
                .chain(url::form_urlencoded::byte_serialize(k.as_ref().as_bytes()))
                .chain(std::iter::once("="))
                .chain(url::form_urlencoded::byte_serialize(v.as_ref().as_bytes()))
        })
    };
    let len = pieces().map(str::len).sum();
    let mut out = Zeroizing::new(Vec::with_capacity(len));
    for p in pieces() {
        out.extend_from_slice(p.as_bytes());
    }
    out
}

/// A body the HTTP client reads without copying and that is wiped when its last user drops it.
fn wiped_body(bytes: Zeroizing<Vec<u8>>) -> reqwest::Body {
    reqwest::Body::from(bytes::Bytes::from_owner(bytes))
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::new(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "<secret>");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn reads_one_line_and_nothing_after_it() {
        let mut input = &b"pa ss\r\nsecond\nthird"[..];
        assert_eq!(Secret::read_line(&mut input).unwrap().expose(), "pa ss");
        assert_eq!(input, b"second\nthird", "the next line is left for the next read");
        assert_eq!(Secret::read_line(&mut input).unwrap().expose(), "second");
        assert_eq!(Secret::read_line(&mut input).unwrap().expose(), "third");
        assert_eq!(Secret::read_line(&mut input).unwrap().expose(), "");
    }

    #[test]
    fn a_long_secret_survives_the_buffer_growing() {
        let long = "ü".repeat(1000);
        let s = Secret::read_line(format!("{long}\n").as_bytes()).unwrap();
        assert_eq!(s.expose(), long);
        assert!(Secret::read_line(&b"\xff\xfe\n"[..]).is_err(), "bytes that are not UTF-8 are refused");
    }

    #[test]
    fn secret_bodies_hold_exactly_the_encoded_value() {
        #[derive(serde::Serialize)]
        struct Login<'a> {
            user: &'a str,
            password: &'a str,
        }
        let json = json_bytes(&Login { user: "alice", password: "p\"w ü" }).unwrap();
        assert_eq!(std::str::from_utf8(&json).unwrap(), r#"{"user":"alice","password":"p\"w ü"}"#);
        assert_eq!(json.len(), json.capacity(), "measured, never grown");
        let form = form_bytes(&[("username", "a b"), ("password", "p&w=ü")]);
        assert_eq!(&form[..], b"username=a+b&password=p%26w%3D%C3%BC");
        assert_eq!(form.len(), form.capacity());
    }
}

/// `#[serde(with = "crate::secret::stored")]` for the fields of a provider's stored-secret type,
/// which is serialised only to go into the keyring (see `provider::Session::save`).
pub mod stored {
    use super::Secret;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(s: &Secret, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(s.expose())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Secret, D::Error> {
        String::deserialize(de).map(Secret::new)
    }

    /// The same for `Option<Secret>`.
    pub mod option {
        use super::super::Secret;
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(s: &Option<Secret>, ser: S) -> Result<S::Ok, S::Error> {
            match s {
                Some(s) => ser.serialize_some(s.expose()),
                None => ser.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Secret>, D::Error> {
            Option::<String>::deserialize(de).map(|o| o.map(Secret::new))
        }
    }
}
