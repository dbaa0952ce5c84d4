//! What reaches the terminal. Provider text (a device-code instruction, an
//! error description, any string a response carries) is shown to the user;
//! a control character in it could clear the screen, move the cursor, retitle
//! the window or hide what came before (`ESC [ 2 J`, `ESC ] 0 ; … BEL`, the
//! C1 CSI `U+009B`, a carriage return). [`inert`] writes every control
//! character except newline and tab (C0, DEL and C1) as a visible `\uXXXX`,
//! so an escape sequence loses its first byte and prints as plain text.
//! That form is also JSON's escape, so a JSON document stays valid and reads
//! back the same.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` must not reach the terminal as it is.
fn is_unsafe(c: char) -> bool {
    c.is_control() && !matches!(c, '\n' | '\t')
}

/// `text` with every control character other than newline and tab written
/// as `\uXXXX`; borrowed when there is none.
pub fn inert(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::inert;

    #[test]
    fn control_characters_become_visible_escapes() {
        assert_eq!(inert("plain\ttext\nline"), "plain\ttext\nline");
        assert!(matches!(inert("plain"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(
            inert("a\u{1b}[2Jb\u{9b}31mc\u{7f}d\re\u{7}f\u{0}"),
            "a\\u001b[2Jb\\u009b31mc\\u007fd\\u000de\\u0007f\\u0000"
        );
        // Inside a JSON string the escape reads back as the same character.
        let doc = format!("{{\"d\": \"{}\"}}", inert("x\u{9b}y\u{7f}"));
        let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(v["d"], "x\u{9b}y\u{7f}");
    }
}
