//! JSON text written by hand, as `serde_json::to_string` writes it (compact,
//! the same escaping), faster: the pieces the store's writer
//! (`store/json_out.rs`) and each entry kind (`schema.rs`) write the cache
//! document with.
//!
//! Where the time went with serde_json: its string escaping looks at every
//! byte through a table, and a cache's text is mostly long base64url tokens
//! that need no escaping at all. Here a string is checked 8 bytes at a time
//! (one `u64` word: is any byte `"`, `\` or a control character?) and each
//! clean run is copied at once; an entry's strings, once found plain
//! ([`Plain`]), are copied without a look at all. The output is sized before
//! writing, so the buffer does not regrow, and it can be a buffer the caller
//! allocated ([`Filled`]: the Python binding's new `str`). What remains at
//! 100k users (342 MiB) is mostly the first touch of each new page of the
//! output (the kernel's page faults).
//!
//! Escaping is serde_json's: `"` and `\` escaped by a backslash, control
//! characters below 0x20 as `\b` `\f` `\n` `\r` `\t` or `\u00xx` (lower-case
//! hex); everything else (DEL, `/`, non-ASCII) as it is. Members idflow does
//! not type (`extra` of an entry, `other` top-level members) are written by
//! serde_json itself.

use serde_json::Value;
use std::sync::atomic::{AtomicU8, Ordering};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `w` that serde_json escapes (`"`, `\`,
/// below 0x20). Only the lowest flagged byte is sure: a flagged byte's borrow
/// can flag bytes above it. That is all the writer uses: the first byte to
/// escape, then it goes on after it (and the document's reader: a string's
/// first quote, escape or control character).
#[inline]
pub(crate) fn escapes(w: u64) -> u64 {
    let quote = w ^ (ONES * u64::from(b'"'));
    let backslash = w ^ (ONES * u64::from(b'\\'));
    let is_quote = quote.wrapping_sub(ONES) & !quote;
    let is_backslash = backslash.wrapping_sub(ONES) & !backslash;
    // A byte below 0x20 borrows when 0x20 is taken from it; `!w` leaves out
    // bytes of 0x80 and above (their high bit set already).
    let is_control = w.wrapping_sub(ONES * 0x20) & !w;
    (is_quote | is_backslash | is_control) & HIGHS
}

#[inline]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

fn push_escape<S: Sink>(out: &mut S, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'"' => out.push_str("\\\""),
        b'\\' => out.push_str("\\\\"),
        0x08 => out.push_str("\\b"),
        0x0c => out.push_str("\\f"),
        b'\n' => out.push_str("\\n"),
        b'\r' => out.push_str("\\r"),
        b'\t' => out.push_str("\\t"),
        _ => {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

/// Whether every byte of `s` is ASCII and none needs escaping: text a
/// writer copies as it is, and a fixed buffer takes without a look.
pub(crate) fn is_plain(s: &str) -> bool {
    let b = s.as_bytes();
    let mut words = b.chunks_exact(8);
    let mut flagged = 0;
    for word in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let w = u64::from_le_bytes(w);
        flagged |= escapes(w) | (w & HIGHS);
    }
    flagged == 0
        && words
            .remainder()
            .iter()
            .all(|&c| c.is_ascii() && !needs_escape(c))
}

/// A memo of [`is_plain`] for text that never changes (an entry's packed
/// strings): unknown until first asked. Atomic because readers share the
/// entry; racing readers compute the same answer.
#[derive(Default)]
pub(crate) struct Plain(AtomicU8);

// Unknown is 0 (the default).
const PLAIN: u8 = 1;
const NOT_PLAIN: u8 = 2;

impl Plain {
    /// Whether `text` (always the same text for this memo) is plain.
    #[inline]
    pub fn get(&self, text: &str) -> bool {
        match self.0.load(Ordering::Relaxed) {
            PLAIN => true,
            NOT_PLAIN => false,
            _ => {
                let plain = is_plain(text);
                self.0
                    .store(if plain { PLAIN } else { NOT_PLAIN }, Ordering::Relaxed);
                plain
            }
        }
    }
}

impl Clone for Plain {
    fn clone(&self) -> Self {
        Plain(AtomicU8::new(self.0.load(Ordering::Relaxed)))
    }
}

/// Appends plain text (see [`is_plain`]) quoted: what [`push_string`]
/// appends for it, without looking at it.
#[inline]
pub(crate) fn push_plain<S: Sink>(out: &mut S, s: &str) {
    out.push_ascii("\"");
    out.push_ascii(s);
    out.push_ascii("\"");
}

/// Appends `s` as a JSON string, quoted and escaped as serde_json does.
pub(crate) fn push_string<S: Sink>(out: &mut S, s: &str) {
    out.push('"');
    let b = s.as_bytes();
    // Bytes before `start` are written; every cut falls next to an ASCII
    // byte, so every slice of `s` below is on character boundaries.
    let mut start = 0;
    let mut i = 0;
    while let Some(word) = b.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let m = escapes(u64::from_le_bytes(w));
        if m == 0 {
            i += 8;
            continue;
        }
        let j = i + (m.trailing_zeros() / 8) as usize;
        out.push_str(&s[start..j]);
        push_escape(out, b[j]);
        i = j + 1;
        start = i;
    }
    while let Some(&c) = b.get(i) {
        if needs_escape(c) {
            out.push_str(&s[start..i]);
            push_escape(out, c);
            start = i + 1;
        }
        i += 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// The decimal digits of `v`.
pub(crate) fn digits(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 10 {
        v /= 10;
        n += 1;
    }
    n
}

/// `v` in decimal, written into `buf` (no allocation).
pub(crate) fn fmt_u64(mut v: u64, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("0")
}

/// Appends `v` in decimal, quoted (the schema's timestamps are strings).
pub(crate) fn push_secs<S: Sink>(out: &mut S, v: u64) {
    out.push('"');
    out.push_str(fmt_u64(v, &mut [0u8; 20]));
    out.push('"');
}

/// The length of `v` as serde_json writes it, exact when its strings need
/// no escaping (numbers counted at most 24 characters): to size the output.
pub(crate) fn value_len_hint(v: &Value) -> usize {
    match v {
        Value::Null => 4,
        Value::Bool(b) => 4 + usize::from(!b),
        Value::Number(_) => 24,
        Value::String(s) => s.len() + 2,
        // Commas between elements, none after the last.
        Value::Array(a) => 1 + a.len().max(1) + a.iter().map(value_len_hint).sum::<usize>(),
        Value::Object(m) => {
            1 + m.len().max(1)
                + m.iter()
                    .map(|(k, x)| k.len() + 3 + value_len_hint(x))
                    .sum::<usize>()
        }
    }
}

/// Where the writer appends text: a `String` it grows, or [`Filled`], a
/// buffer of a fixed size that someone else allocated (the Python binding
/// writes the document straight into a new `str`'s own memory that way).
pub(crate) trait Sink {
    fn push(&mut self, c: char);
    fn push_str(&mut self, s: &str);
    /// [`Sink::push_str`] for text known to be ASCII (see [`is_plain`]).
    fn push_ascii(&mut self, s: &str) {
        self.push_str(s)
    }
}

impl Sink for String {
    #[inline]
    fn push(&mut self, c: char) {
        String::push(self, c)
    }
    #[inline]
    fn push_str(&mut self, s: &str) {
        String::push_str(self, s)
    }
}

/// A fixed buffer written from its start. Text that does not fit is not
/// written and marks the buffer overflowed (the caller then writes the
/// document the ordinary way); whether everything written is ASCII is kept
/// as it goes (checked on text the writer has just read, not by a second
/// pass over the whole output). No `Debug`: the buffer holds tokens.
pub(crate) struct Filled<'a> {
    buf: &'a mut [u8],
    len: usize,
    overflowed: bool,
    ascii: bool,
}

impl<'a> Filled<'a> {
    pub fn new(buf: &'a mut [u8]) -> Filled<'a> {
        Filled {
            buf,
            len: 0,
            overflowed: false,
            ascii: true,
        }
    }

    /// The length written and whether it is all ASCII, or None when the
    /// text did not fit.
    pub fn finish(self) -> Option<(usize, bool)> {
        (!self.overflowed).then_some((self.len, self.ascii))
    }

    #[inline]
    fn copy(&mut self, b: &[u8]) {
        let end = self.len + b.len();
        match self.buf.get_mut(self.len..end) {
            Some(dst) => {
                dst.copy_from_slice(b);
                self.len = end;
            }
            None => self.overflowed = true,
        }
    }
}

impl Sink for Filled<'_> {
    #[inline]
    fn push(&mut self, c: char) {
        self.push_str(c.encode_utf8(&mut [0u8; 4]))
    }
    #[inline]
    fn push_str(&mut self, s: &str) {
        self.ascii &= s.is_ascii();
        self.copy(s.as_bytes());
    }
    #[inline]
    fn push_ascii(&mut self, s: &str) {
        debug_assert!(s.is_ascii());
        self.copy(s.as_bytes());
    }
}

/// The output, with a scratch buffer for what serde_json writes.
pub(crate) struct Out<S: Sink = String> {
    pub text: S,
    scratch: Vec<u8>,
}

impl Out<String> {
    pub fn with_capacity(n: usize) -> Out<String> {
        Out::new(String::with_capacity(n))
    }
}

impl<S: Sink> Out<S> {
    pub fn new(text: S) -> Out<S> {
        Out {
            text,
            scratch: Vec::new(),
        }
    }

    /// Appends a member name (already quoted, with its colon), after a
    /// comma unless it is the object's first.
    #[inline]
    pub fn name(&mut self, first: &mut bool, quoted: &str) {
        if !std::mem::take(first) {
            self.text.push(',');
        }
        self.text.push_str(quoted);
    }

    /// Appends a member whose name is any text: `"key":value`, the value
    /// written by serde_json (through a scratch buffer: the output is
    /// text, and what serde_json writes is UTF-8).
    pub fn member(&mut self, first: &mut bool, key: &str, v: &Value) {
        if !std::mem::take(first) {
            self.text.push(',');
        }
        push_string(&mut self.text, key);
        self.text.push(':');
        self.scratch.clear();
        // Writing a Value into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.scratch, v);
        if let Ok(s) = std::str::from_utf8(&self.scratch) {
            self.text.push_str(s);
        }
    }
}

/// An entry that writes itself as its `Serialize` impl does (the `entry!`
/// macro implements it for every kind).
pub(crate) trait JsonEntry {
    /// Appends the entry as one JSON object.
    fn write_json<S: Sink>(&self, out: &mut Out<S>);
    /// Whether all the entry's strings are plain text (see [`is_plain`]):
    /// then so is the document key computed from them.
    fn plain(&self) -> bool;
    /// The length [`JsonEntry::write_json`] appends, exact when no string
    /// needs escaping (numbers of extra members counted at their longest).
    fn json_len_hint(&self) -> usize;
}
