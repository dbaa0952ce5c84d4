//! The cache document's own reader, for the shape every MSAL library
//! writes: an object of sections, each an object of key → entry object whose
//! members are mostly plain strings.
//!
//! Why: at 100k users a load spent about half its parsing time in serde's
//! per-string work — each string scanned for its end, then checked as UTF-8
//! on its own, then handed through a visitor, member names included. Here a
//! string is scanned once, 8 bytes at a time, for its closing quote, and an
//! entry's text is checked as UTF-8 in one call once its closing brace is
//! found (while it is still in the cache), its strings then borrowed from it.
//!
//! What it does not read itself it hands to serde_json, value by value: a
//! string with an escape, a number, `null`, an object or array an entry
//! keeps in `extra`, a top-level member idflow does not know. Both readers
//! file members through [`ReadEntry`], so they build the same entries.
//!
//! Anything else — invalid JSON, bytes that are not UTF-8, a duplicate
//! section, a section or entry that is not an object, a value nested more
//! than [`NESTED`] deep — stops this reader ([`Unusual`]); the caller then
//! reads the document with serde_json, whose answer (the store, or the error
//! and its position) is the reference.

use super::json_text::escapes;
use super::schema::{
    AcctEntry, AtEntry, Chunk, Chunks, Extra, IdtEntry, Key, LenientCow, MetaEntry, Parsed,
    ReadEntry, RtEntry, SECTIONS,
};
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;

/// The document is not of the shape this reader takes: read it with
/// serde_json instead.
#[derive(Debug)]
pub(crate) struct Unusual;

/// A document's text: known to be UTF-8, or bytes to check as read.
#[derive(Clone, Copy)]
pub(crate) enum Text<'de> {
    Str(&'de str),
    Utf8(&'de [u8]),
}

/// Reads a whole document: each known section's entries go to the sink in
/// chunks of [`super::schema::CHUNK`] (an empty section as one empty chunk), as
/// `DocumentSeed` hands them; the value is the unknown top-level members.
/// On [`Unusual`] the chunks already handed over are to be discarded.
pub(crate) fn read<'de>(
    text: Text<'de>,
    sink: &mut dyn FnMut(Parsed<'de>),
) -> Result<Extra, Unusual> {
    let mut r = Reader {
        text,
        b: match text {
            Text::Str(s) => s.as_bytes(),
            Text::Utf8(b) => b,
        },
        pos: 0,
        members: Vec::new(),
        names: Vec::new(),
        values: Vec::new(),
    };
    let mut other = Extra::new();
    let mut seen = [false; 5];
    r.open()?;
    if !r.close() {
        loop {
            let k = r.key()?;
            r.expect(b':')?;
            match SECTIONS.iter().position(|s| *s == k) {
                Some(i) if std::mem::replace(&mut seen[i], true) => return Err(Unusual),
                Some(0) => r.section::<AtEntry>(&mut |v| sink(Parsed::At(v)))?,
                Some(1) => r.section::<RtEntry>(&mut |v| sink(Parsed::Rt(v)))?,
                Some(2) => r.section::<IdtEntry>(&mut |v| sink(Parsed::Idt(v)))?,
                Some(3) => r.section::<AcctEntry>(&mut |v| sink(Parsed::Acct(v)))?,
                Some(_) => r.section::<MetaEntry>(&mut |v| sink(Parsed::Meta(v)))?,
                None => {
                    let v = r.by_serde::<Value>()?;
                    too_deep(&v)?;
                    other.push((k.into_owned(), v));
                }
            }
            if r.next_member()? {
                break;
            }
        }
    }
    r.skip_space();
    if r.pos == r.b.len() {
        Ok(other)
    } else {
        Err(Unusual)
    }
}

/// Where a string lies in the document: between its quotes (it holds no
/// escape), or `(READ, _)`: it is the next of those serde_json read.
type Place = (usize, usize);
const READ: usize = usize::MAX;

struct Reader<'de> {
    text: Text<'de>,
    b: &'de [u8],
    pos: usize,
    /// The entry being read: its members' name and value by place (plain
    /// integers: a vector of enums built on the stack and copied in stalled
    /// the reader on every member), the names and values serde_json read,
    /// in document order. Kept to reuse their allocations.
    members: Vec<[Place; 2]>,
    names: Vec<Cow<'de, str>>,
    values: Vec<LenientCow<'de>>,
}

impl<'de> Reader<'de> {
    fn skip_space(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.b.get(self.pos) {
            self.pos += 1;
        }
    }

    /// The next byte that is not white space.
    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.b.get(self.pos).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), Unusual> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Unusual)
        }
    }

    fn open(&mut self) -> Result<(), Unusual> {
        self.expect(b'{')
    }

    /// Whether an object ends here (its `}` then read).
    fn close(&mut self) -> bool {
        let end = self.peek() == Some(b'}');
        if end {
            self.pos += 1;
        }
        end
    }

    /// After a member: `true` when the object ends, `false` when another
    /// member follows.
    fn next_member(&mut self) -> Result<bool, Unusual> {
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(false)
            }
            Some(b'}') => {
                self.pos += 1;
                Ok(true)
            }
            _ => Err(Unusual),
        }
    }

    /// At an opening quote: the string's place when it holds no escape (the
    /// reader then past its closing quote), `None` when it does (the reader
    /// still at its opening quote). A control character or the text's end
    /// inside a string is invalid JSON. Inlined: its answer returned through
    /// memory stalled the caller's read of it (two stores, one wider load).
    #[inline(always)]
    fn plain_string(&mut self) -> Result<Option<(usize, usize)>, Unusual> {
        let start = self.pos + 1;
        let i = run_end(self.b, start);
        match self.b.get(i) {
            Some(b'"') => {
                self.pos = i + 1;
                Ok(Some((start, i)))
            }
            Some(b'\\') => Ok(None),
            _ => Err(Unusual),
        }
    }

    /// A string's place; one with an escape is read by serde_json into
    /// `names`. Inlined, as `plain_string` is.
    #[inline(always)]
    fn place(&mut self) -> Result<Place, Unusual> {
        if self.peek() != Some(b'"') {
            return Err(Unusual);
        }
        match self.plain_string()? {
            Some(p) => Ok(p),
            None => {
                let s = self.by_serde::<Key<'de>>()?.0;
                self.names.push(s);
                Ok((READ, 0))
            }
        }
    }

    /// A member name or section key, as text.
    fn key(&mut self) -> Result<Cow<'de, str>, Unusual> {
        match self.place()? {
            (READ, _) => self.names.pop().ok_or(Unusual),
            (a, b) => self.slice(a, b).map(Cow::Borrowed),
        }
    }

    /// A member's value: a plain string's place, or read by serde_json into
    /// `values`. Inlined, as `plain_string` is.
    #[inline(always)]
    fn value(&mut self) -> Result<Place, Unusual> {
        if self.peek() == Some(b'"') {
            if let Some(p) = self.plain_string()? {
                return Ok(p);
            }
        }
        let v = self.by_serde::<LenientCow<'de>>()?;
        if let LenientCow::Other(v) = &v {
            too_deep(v)?;
        }
        self.values.push(v);
        Ok((READ, 0))
    }

    /// The text between two places, checked as UTF-8 unless known to be.
    fn slice(&self, a: usize, b: usize) -> Result<&'de str, Unusual> {
        match self.text {
            Text::Str(s) => s.get(a..b),
            Text::Utf8(t) => t.get(a..b).and_then(|t| std::str::from_utf8(t).ok()),
        }
        .ok_or(Unusual)
    }

    /// One JSON value read by serde_json, from here.
    fn by_serde<T: Deserialize<'de>>(&mut self) -> Result<T, Unusual> {
        let rest = self.b.get(self.pos..).ok_or(Unusual)?;
        let mut values = serde_json::Deserializer::from_slice(rest).into_iter::<T>();
        let v = values.next().ok_or(Unusual)?.map_err(|_| Unusual)?;
        self.pos += values.byte_offset();
        Ok(v)
    }

    fn section<E: ReadEntry<'de>>(
        &mut self,
        sink: &mut dyn FnMut(Chunk<'de, E>),
    ) -> Result<(), Unusual> {
        self.open()?;
        let mut chunks = Chunks::new(sink);
        if !self.close() {
            loop {
                let (key, e) = self.entry::<E>()?;
                chunks.push(key, e);
                if self.next_member()? {
                    break;
                }
            }
        }
        chunks.finish();
        Ok(())
    }

    /// `"key": {members}`: the entry's text is checked as UTF-8 once, when
    /// its end is found, and its strings borrowed from it.
    fn entry<E: ReadEntry<'de>>(&mut self) -> Result<(Cow<'de, str>, E), Unusual> {
        self.skip_space();
        let start = self.pos;
        self.members.clear();
        self.names.clear();
        self.values.clear();
        let key = self.place()?;
        self.expect(b':')?;
        self.open()?;
        if !self.close() {
            loop {
                let name = self.place()?;
                self.expect(b':')?;
                let value = self.value()?;
                self.members.push([name, value]);
                if self.next_member()? {
                    break;
                }
            }
        }
        let text = self.slice(start, self.pos)?;
        let at = |(a, b): Place| text.get(a - start..b - start).ok_or(Unusual);
        let mut names = self.names.drain(..);
        let mut text_at = |p: Place| match p {
            (READ, _) => names.next().ok_or(Unusual),
            p => at(p).map(Cow::Borrowed),
        };
        let key = text_at(key)?;
        let mut values = self.values.drain(..);
        let mut e = E::default();
        let mut vals = E::Vals::default();
        for &[name, value] in &self.members {
            let v = match value {
                (READ, _) => values.next().ok_or(Unusual)?,
                p => LenientCow::Str(Cow::Borrowed(at(p)?)),
            };
            e.member(&mut vals, text_at(name)?, v);
        }
        Ok((key, e.finish(vals)))
    }
}

/// Arrays and objects nested in one value read by serde_json, at most.
/// serde_json counts its nesting limit (127) from the document's root, and
/// from the value here: a value nested deeper than this is left with the
/// whole document to serde_json, so that the reader never takes a document
/// serde_json refuses (the document, a section and an entry are three
/// levels; this leaves a margin).
const NESTED: usize = 100;

fn too_deep(v: &Value) -> Result<(), Unusual> {
    fn depth(v: &Value) -> usize {
        match v {
            Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
            Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
            _ => 0,
        }
    }
    if depth(v) > NESTED {
        Err(Unusual)
    } else {
        Ok(())
    }
}

/// Bytes a block is checked for at once. Most of a cache's bytes are its
/// tokens' secrets, strings of a kilobyte or more with nothing to escape.
const BLOCK: usize = 64;

/// The index of the first byte from `i` on that ends a plain string's run:
/// a quote, a backslash or a control character (`b.len()` when none does).
#[inline(always)]
fn run_end(b: &[u8], mut i: usize) -> usize {
    // Whole blocks first, each checked as one reduction over a fixed-size
    // array, which the compiler turns into vector instructions (SSE2 is part
    // of every x86-64): several times fewer instructions per byte than the
    // word-at-a-time check below.
    while let Some(block) = b
        .get(i..i + BLOCK)
        .and_then(|w| <&[u8; BLOCK]>::try_from(w).ok())
    {
        // A quote or a backslash XORed with itself is zero, a control
        // character is below 0x20: two byte-wise minimums, which vectorize
        // as such (no compare and mask per byte). Written as comparisons:
        // the optimiser makes the same vector minimums of them as of
        // `u8::min`, which an unoptimised build (the tests') calls three
        // times per byte.
        let (mut quote_or_backslash, mut lowest) = (u8::MAX, u8::MAX);
        for &c in block {
            let (quote, backslash) = (c ^ b'"', c ^ b'\\');
            if quote < quote_or_backslash {
                quote_or_backslash = quote;
            }
            if backslash < quote_or_backslash {
                quote_or_backslash = backslash;
            }
            if c < lowest {
                lowest = c;
            }
        }
        if quote_or_backslash == 0 || lowest < 0x20 {
            break;
        }
        i += BLOCK;
    }
    // Then 8 bytes at a time to the first one flagged: the lowest flagged
    // byte is exact (a borrow only ever flags bytes above a true match).
    while let Some(w) = b.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(w);
        let m = escapes(u64::from_le_bytes(word));
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            return i;
        }
        i += 1;
    }
    i
}
