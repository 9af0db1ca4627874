//! The one sanitiser for text that came from a server (a device name, a user id, a note, an error
//! message) before a terminal shows it. A hostile server must not be able to move the cursor,
//! recolour or retitle the terminal, hide or reorder what a line says, or flood it:
//! - control characters (C0, DEL, C1) and whole escape sequences (CSI `ESC [ … m`, OSC
//!   `ESC ] … BEL`, and the rest) are taken out; line breaks and tabs become one space;
//! - bidirectional overrides, embeddings, isolates and marks (U+202A–202E, U+2066–2069,
//!   U+200E/F, U+061C) are taken out, so text reads in the order it is stored;
//! - zero-width and other invisible characters (U+200B–200D, U+2060–2064, U+FEFF, U+180E,
//!   U+00AD) are taken out, so two names that look the same are the same;
//! - a value longer than the line allows is cut, and the cut is shown with "…".
//!
//! The full value stays untouched in the model and in `--json`; this is only for a terminal
//! line. Deliberately not here: HTML (the app isolates server text with `<bdi>` in its views),
//! and anything about what the text means.

use std::borrow::Cow;

/// The longest a server value is shown in one field of a line (a name, an id, a summary).
pub const FIELD_MAX: usize = 200;
/// The longest an error or note line from server words is shown.
pub const LINE_MAX: usize = 400;

/// `s` safe for one terminal line and at most `max` characters (the last one "…" when cut).
pub fn line(s: &str, max: usize) -> String {
    cut(&clean(s), max)
}

/// `s` safe for one terminal line at [`FIELD_MAX`].
pub fn field(s: &str) -> String {
    line(s, FIELD_MAX)
}

/// `s` without control characters, escape sequences, bidi controls or invisible characters,
/// with every run of whitespace (line breaks and tabs too) as one space, trimmed. Borrowed when
/// there was nothing to change.
pub fn clean(s: &str) -> Cow<'_, str> {
    if s.chars().all(|c| !needs_care(c)) && !s.contains("  ") && s.trim() == s {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    let mut space = false;
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            skip_escape(&mut chars);
            continue;
        }
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if c.is_control() || is_bidi_control(c) || is_invisible(c) {
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    Cow::Owned(out)
}

/// `s` cut to at most `max` characters, the last of them "…" when anything was cut.
pub fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some(_) if max == 0 => String::new(),
        Some(_) => {
            let end = s.char_indices().nth(max - 1).map_or(s.len(), |(i, _)| i);
            let mut out = s[..end].trim_end().to_string();
            out.push('…');
            out
        }
    }
}

fn needs_care(c: char) -> bool {
    c.is_control() || c.is_whitespace() && c != ' ' || is_bidi_control(c) || is_invisible(c)
}

/// The characters that change the direction text is shown in.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Characters that show nothing: zero-width spaces and joiners, word joiner and invisible
/// operators, the byte-order mark, the Mongolian vowel separator, the soft hyphen.
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{180E}' | '\u{00AD}')
}

/// Skips the rest of an escape sequence whose ESC was just read: CSI (`[` … final byte), OSC,
/// DCS, SOS, PM and APC strings (up to BEL or ESC `\`), or one more character.
fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => {
            // Parameters and intermediates, then one final byte in @..~.
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        }
        Some(']' | 'P' | 'X' | '^' | '_') => {
            while let Some(c) = chars.next() {
                if c == '\u{7}' || c == '\u{9c}' {
                    break;
                }
                if c == '\u{1b}' {
                    if chars.peek() == Some(&'\\') {
                        chars.next();
                    }
                    break;
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safe(s: &str) -> bool {
        s.chars().all(|c| !c.is_control() && !is_bidi_control(c) && !is_invisible(c))
    }

    #[test]
    fn plain_text_passes_unchanged_and_unallocated() {
        assert!(matches!(clean("Element Desktop on macOS"), Cow::Borrowed(_)));
        assert_eq!(field("Pixel 8 · 203.0.113.7"), "Pixel 8 · 203.0.113.7");
        assert_eq!(field("東京のiPhone"), "東京のiPhone");
    }

    #[test]
    fn escape_sequences_cannot_recolour_retitle_or_move_the_cursor() {
        assert_eq!(field("\u{1b}[31mred\u{1b}[0m device"), "red device");
        assert_eq!(field("a\u{1b}]0;pwned title\u{7}b"), "ab");
        assert_eq!(field("a\u{1b}]8;;http://evil/\u{1b}\\link\u{1b}]8;;\u{1b}\\b"), "alinkb");
        assert_eq!(field("x\u{1b}[2J\u{1b}[H\u{1b}[1;1Hy"), "xy");
        assert_eq!(field("\u{9b}31mC1 CSI"), "31mC1 CSI");
        assert_eq!(field("line\rover"), "line over");
        assert_eq!(field("bell\u{7}\u{8}\u{8}\u{0}z"), "bellz");
        assert_eq!(field("dangling\u{1b}"), "dangling");
    }

    #[test]
    fn line_breaks_and_tabs_become_one_space() {
        assert_eq!(field("two\nlines\r\n\tand  tab"), "two lines and tab");
        assert_eq!(field("  padded  "), "padded");
        assert_eq!(field("next\u{85}line\u{2028}sep\u{2029}para"), "next line sep para");
    }

    #[test]
    fn bidi_controls_cannot_reorder_what_a_line_says() {
        // "exe.txt" shown as "txt.exe" by an override.
        assert_eq!(field("invoice\u{202E}txt.exe"), "invoicetxt.exe");
        for c in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{200E}',
            '\u{200F}', '\u{061C}',
        ] {
            assert_eq!(field(&format!("a{c}b")), "ab", "{:04X}", c as u32);
        }
        assert_eq!(field("שלום"), "שלום", "right-to-left text itself stays");
    }

    #[test]
    fn invisible_characters_are_taken_out() {
        for c in ['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}'] {
            assert_eq!(field(&format!("Ke{c}yward")), "Keyward", "{:04X}", c as u32);
        }
    }

    #[test]
    fn long_values_are_cut_with_an_ellipsis() {
        let long = "x".repeat(10_000);
        let shown = field(&long);
        assert_eq!(shown.chars().count(), FIELD_MAX);
        assert!(shown.ends_with('…'));
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abcd", 4), "abcd");
        assert_eq!(cut("ab cd", 4), "ab…");
        assert_eq!(cut("äöüßé", 3), "äö…");
        assert_eq!(cut("abc", 0), "");
    }

    #[test]
    fn hostile_mixtures_come_out_safe_and_short() {
        let hostile = format!("{}\u{1b}[?1049h\u{202E}\u{200B}\u{0}\u{9b}2J{}", "A".repeat(50), "\u{1b}]0;t\u{7}".repeat(500));
        let shown = line(&hostile, 60);
        assert!(safe(&shown), "{shown:?}");
        assert!(shown.chars().count() <= 60);
    }
}
