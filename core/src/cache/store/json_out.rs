//! The store written as msal's `SerializableTokenCache` JSON by hand: the
//! bytes `serde_json::to_string` writes for the store's `Serialize` (the
//! same member order), through the writers of `cache/json_text.rs`.

use super::section::{Kind, Section};
use super::Store;
use crate::cache::json_text::{push_string, value_len_hint, Filled, JsonEntry, Out, Sink};
use crate::cache::schema::{ACCT, AT, IDT, META, RT};

/// A section as the writer of a part of the document sees it: one object
/// type for the five kinds of entry, so a part can name any of them.
trait Members<S: Sink> {
    /// Appends the members of entries `from..to` (`to` past the end is the
    /// end), each after a comma unless it is the section's first.
    fn write(&self, out: &mut Out<S>, from: usize, to: usize);
    /// Adds the members' lengths to `used` (commas between them, when no
    /// string needs escaping), calling `mark` with an entry's index and
    /// `used` before it at every `every`th entry but the first.
    fn count(&self, used: &mut usize, every: usize, mark: &mut dyn FnMut(usize, usize));
    /// How many entries the section holds.
    fn entries(&self) -> usize;
}

impl<E: Kind + JsonEntry, S: Sink> Members<S> for Section<E> {
    fn write(&self, out: &mut Out<S>, from: usize, to: usize) {
        let mut i = from;
        self.for_each_keyed_in(from, to, |k, computed, e| {
            if i > 0 {
                out.text.push(',');
            }
            i += 1;
            // A key computed from plain strings (folded, joined by `-`) needs
            // no escaping; it is still appended as any text (a fixed buffer
            // checks it is ASCII), so that the ASCII flag never rests on how
            // keys are computed.
            if computed && e.plain() {
                out.text.push('"');
                out.text.push_str(k);
                out.text.push('"');
            } else {
                push_string(&mut out.text, k);
            }
            out.text.push(':');
            e.write_json(out);
        });
    }

    fn count(&self, used: &mut usize, every: usize, mark: &mut dyn FnMut(usize, usize)) {
        for (i, (k, e)) in self.key_lens().enumerate() {
            if i > 0 && i % every == 0 {
                mark(i, *used);
            }
            *used += usize::from(i > 0) + k + 3 + e.json_len_hint();
        }
    }

    fn entries(&self) -> usize {
        self.len()
    }
}

/// Where the document is cut in two: before entry `entry` of section
/// `section` (in [`Store::sections`]' order); entry 0 is before the
/// section's name, and section 5 is after the last section.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Cut {
    pub section: usize,
    pub entry: usize,
}

const START: Cut = Cut {
    section: 0,
    entry: 0,
};

const END: Cut = Cut {
    section: 5,
    entry: 0,
};

/// A document of this many bytes or more is written by two threads, each
/// into its own part of the buffer (below it, a thread costs more than it
/// saves).
const HALVES_MIN: usize = 4 << 20;

/// A store of this many entries or more is counted by two threads.
const COUNT_THREADED: usize = 8192;

/// A section's text as counted: its length, and each place inside where
/// the document can be cut (the entry, the length of the section's text
/// before it).
type Counted = (usize, Vec<(usize, usize)>);

/// Where the two threads may meet inside a section: every this many
/// entries (a few hundred bytes each), close enough to the middle.
const EVERY: usize = 1024;

/// The document's length as [`Store::json_len_hint`] counts it, and the cut
/// nearest its middle with the length before it (None for a document of
/// one section's start alone).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Layout {
    pub len: usize,
    pub cut: Option<(Cut, usize)>,
}

impl Store {
    /// The document's length: exact when no string needs escaping and no
    /// entry's extra member holds a number (counted at its longest, 24
    /// characters); what the output is sized by.
    pub(crate) fn json_len_hint(&self) -> usize {
        self.cuts(usize::MAX).0
    }

    /// [`Store::json_len_hint`], and the cut nearest the middle of the
    /// document among every section's start and every [`EVERY`]th entry:
    /// where [`Store::write_json_into`] has two threads meet.
    pub(crate) fn json_layout(&self) -> Layout {
        let (len, cuts) = self.cuts(EVERY);
        let cut = cuts.into_iter().min_by_key(|&(_, at)| at.abs_diff(len / 2));
        Layout { len, cut }
    }

    /// The document's length as [`Store::json_len_hint`] counts it, and the
    /// places it can be cut (each section's start but the first's, each
    /// `every`th entry of a section but its first) with the length before
    /// each, in order.
    pub(crate) fn cuts(&self, every: usize) -> (usize, Vec<(Cut, usize)>) {
        let mut cuts = Vec::new();
        // `{`, each section `"name":{...}` after a comma but the first, the
        // other members (each with its comma), `}`.
        let mut used = 1;
        for (section, (len, inside)) in self.count_sections(every).into_iter().enumerate() {
            if section > 0 {
                cuts.push((Cut { section, entry: 0 }, used));
            }
            cuts.extend(
                inside
                    .into_iter()
                    .map(|(entry, at)| (Cut { section, entry }, used + at)),
            );
            used += len;
        }
        let other: usize = self
            .other
            .iter()
            .map(|(k, v)| k.len() + 4 + value_len_hint(v))
            .sum();
        (used + other + 1, cuts)
    }

    /// Each section counted by [`Store::count_section`], in order; for a
    /// big store the later sections on a second thread (the bindings count
    /// before each write: ≈ 10 ms on one thread at 100k users, 7 on two,
    /// against the write's 60–70 ms).
    fn count_sections(&self, every: usize) -> Vec<Counted> {
        let count = |range: std::ops::Range<usize>| -> Vec<Counted> {
            range.map(|s| self.count_section(s, every)).collect()
        };
        let entries = self.sections::<String>().map(|(_, sec)| sec.entries());
        let total: usize = entries.iter().sum();
        if total < COUNT_THREADED {
            return count(0..5);
        }
        // This thread counts the first `k` sections: as near half the
        // entries as sections allow.
        let mut prefix = 0;
        let mut best = (total, 0);
        for (k, n) in entries.iter().enumerate() {
            prefix += n;
            best = best.min(((2 * prefix).abs_diff(total), k + 1));
        }
        let k = best.1;
        std::thread::scope(|scope| {
            let other = std::thread::Builder::new()
                .name("idflow-cache-count".into())
                .spawn_scoped(scope, || count(k..5));
            let mut mine = count(0..k);
            match other.ok().and_then(|h| h.join().ok()) {
                Some(rest) => mine.extend(rest),
                None => mine.extend(count(k..5)),
            }
            mine
        })
    }

    /// Section `s`'s text as [`Store::json_len_hint`] counts it, from the
    /// comma before it to its closing brace, with the places it can be cut
    /// inside (see [`Store::cuts`]).
    fn count_section(&self, s: usize, every: usize) -> Counted {
        let (name, sec) = self.sections::<String>()[s];
        let mut used = usize::from(s > 0) + name.len() + 4;
        let mut cuts = Vec::new();
        sec.count(&mut used, every, &mut |entry, at| cuts.push((entry, at)));
        (used + 1, cuts)
    }

    /// The store as msal's document: what `serde_json::to_string` of the
    /// store writes, byte for byte, into one `String` sized first by
    /// [`Store::json_len_hint`] (so it never regrows for a cache of tokens,
    /// whose text needs no escaping).
    ///
    /// One thread writes it. Threads writing parts into strings of their
    /// own were measured slower on a busy 2-core machine (at 100k users,
    /// 387 ms against 226 ms): parts written apart fault their pages twice
    /// when joined, and a `String` cannot be written in parts without a
    /// UTF-8 check of the whole document (this crate has no unsafe code).
    /// [`Store::write_json_into`] writes bytes, so its two threads share
    /// the one buffer.
    pub(crate) fn to_json(&self) -> String {
        let mut out = Out::with_capacity(self.json_len_hint());
        self.write_json(&mut out, START, END);
        out.text
    }

    /// The document written into `buf` from its start: its length and
    /// whether it is all ASCII, or None when it does not fit (then what
    /// `buf` holds is not the document).
    ///
    /// A big document is written by two threads at once, each into its own
    /// part of `buf`, cut where `layout` (the count a length hint just
    /// made, when the cache has not changed since) or a new count puts the
    /// middle: less time on two cores, and both threads' writes are
    /// the first touch of their pages (the bindings' buffers are fresh
    /// memory), so the kernel's page faults are shared too. When the first
    /// part's text is not exactly its counted length (an extra member's
    /// number, a string that needed escaping) the parts do not join and one
    /// thread writes the document again.
    pub(crate) fn write_json_into(
        &self,
        buf: &mut [u8],
        layout: Option<Layout>,
    ) -> Option<(usize, bool)> {
        if buf.len() >= HALVES_MIN {
            let layout = layout
                .filter(|l| l.len == buf.len())
                .unwrap_or_else(|| self.json_layout());
            if let Some(done) = layout
                .cut
                .and_then(|(cut, mid)| self.write_halves_into(buf, cut, mid))
            {
                return Some(done);
            }
        }
        let mut out = Out::new(Filled::new(buf));
        self.write_json(&mut out, START, END);
        out.text.finish()
    }

    /// The document written as two parts, `..cut` into `buf[..mid]` on this
    /// thread and `cut..` after it on another: None unless the first part
    /// is exactly `mid` bytes and the second fits.
    pub(crate) fn write_halves_into(
        &self,
        buf: &mut [u8],
        cut: Cut,
        mid: usize,
    ) -> Option<(usize, bool)> {
        let (head, tail) = buf.split_at_mut_checked(mid)?;
        let (first, second) = std::thread::scope(|scope| {
            let other = std::thread::Builder::new()
                .name("idflow-cache-write".into())
                .spawn_scoped(scope, || {
                    let mut out = Out::new(Filled::new(tail));
                    self.write_json(&mut out, cut, END);
                    out.text.finish()
                })
                .ok()?;
            let mut out = Out::new(Filled::new(head));
            self.write_json(&mut out, START, cut);
            Some((out.text.finish(), other.join().ok()?))
        })?;
        match (first?, second?) {
            ((len, a), (rest, b)) if len == mid => Some((mid + rest, a && b)),
            _ => None,
        }
    }

    /// The five sections in the document's order, with their names.
    fn sections<S: Sink>(&self) -> [(&'static str, &dyn Members<S>); 5] {
        [
            (AT, &self.at),
            (RT, &self.rt),
            (IDT, &self.idt),
            (ACCT, &self.acct),
            (META, &self.meta),
        ]
    }

    /// The document's text from `from` up to `to` (see [`Cut`]): the whole
    /// document from [`START`] to [`END`].
    fn write_json<S: Sink>(&self, out: &mut Out<S>, from: Cut, to: Cut) {
        if from == START {
            out.text.push('{');
        }
        for (s, (name, sec)) in self.sections::<S>().into_iter().enumerate() {
            if s < from.section || s > to.section || (s == to.section && to.entry == 0) {
                continue;
            }
            let lo = if s == from.section { from.entry } else { 0 };
            let hi = if s == to.section {
                to.entry
            } else {
                usize::MAX
            };
            if lo == 0 {
                if s > 0 {
                    out.text.push(',');
                }
                push_string(&mut out.text, name);
                out.text.push_str(":{");
            }
            sec.write(out, lo, hi);
            if hi == usize::MAX {
                out.text.push('}');
            }
        }
        if to == END {
            let mut first = false;
            for (k, v) in &self.other {
                out.member(&mut first, k, v);
            }
            out.text.push('}');
        }
    }
}
