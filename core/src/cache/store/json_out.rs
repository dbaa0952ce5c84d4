//! The store written as msal's `SerializableTokenCache` JSON by hand: the
//! bytes `serde_json::to_string` writes for the store's `Serialize` (the
//! same member order), through the writers of `cache/json_text.rs`.

use super::section::{Kind, Section};
use super::Store;
use crate::cache::json_text::{push_string, value_len_hint, Filled, JsonEntry, Out, Sink};
use crate::cache::schema::{ACCT, AT, IDT, META, RT};

fn write_section<E: Kind + JsonEntry, S: Sink>(sec: &Section<E>, out: &mut Out<S>) {
    let mut first = true;
    sec.for_each_keyed(|k, computed, e| {
        if !std::mem::take(&mut first) {
            out.text.push(',');
        }
        // A key computed from plain strings (folded, joined by `-`) needs no
        // escaping; it is still appended as any text (a fixed buffer checks
        // it is ASCII), so that the ASCII flag never rests on how keys are
        // computed.
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

/// The length of a section's entries (`"key":{...}` members joined by
/// commas) when no string needs escaping and keys are ASCII (computed keys
/// are counted, not written: writing them twice cost tens of milliseconds
/// at 100k users).
fn section_len_hint<E: Kind + JsonEntry>(sec: &Section<E>) -> usize {
    let (mut n, mut count) = (0, 0usize);
    sec.for_each_key_len(|k, e| {
        n += k + 3 + e.json_len_hint();
        count += 1;
    });
    n + count.saturating_sub(1)
}

impl Store {
    /// The document's length: exact when no string needs escaping and no
    /// entry's extra member holds a number (counted at its longest, 24
    /// characters); what the output is sized by.
    pub(crate) fn json_len_hint(&self) -> usize {
        let other: usize = self
            .other
            .iter()
            .map(|(k, v)| k.len() + 4 + value_len_hint(v))
            .sum();
        let sections = [
            (AT, section_len_hint(&self.at)),
            (RT, section_len_hint(&self.rt)),
            (IDT, section_len_hint(&self.idt)),
            (ACCT, section_len_hint(&self.acct)),
            (META, section_len_hint(&self.meta)),
        ];
        // `{`, each section `"name":{...}`, commas between them, the other
        // members (each with its comma), `}`.
        2 + other
            + (sections.len() - 1)
            + sections
                .iter()
                .map(|(name, n)| name.len() + 5 + n)
                .sum::<usize>()
    }

    /// The store as msal's document: what `serde_json::to_string` of the
    /// store writes, byte for byte, into one `String` sized first by
    /// [`Store::json_len_hint`] (so it never regrows for a cache of tokens,
    /// whose text needs no escaping).
    ///
    /// One thread writes it. Threads writing parts were measured slower on
    /// a busy 2-core machine (at 100k users, 387 ms against 226 ms): most
    /// of the time is the first touch of each new page of the output (the
    /// kernel's page faults), parts written apart fault twice when joined,
    /// and writing the final buffer from several threads needs a counting
    /// pass and a UTF-8 check of the whole document (this crate has no
    /// unsafe code).
    pub(crate) fn to_json(&self) -> String {
        let mut out = Out::with_capacity(self.json_len_hint());
        self.write_json(&mut out);
        out.text
    }

    /// The document written into `buf` from its start: its length and
    /// whether it is all ASCII, or None when it does not fit (then what
    /// `buf` holds is not the document).
    pub(crate) fn write_json_into(&self, buf: &mut [u8]) -> Option<(usize, bool)> {
        let mut out = Out::new(Filled::new(buf));
        self.write_json(&mut out);
        out.text.finish()
    }

    fn write_json<S: Sink>(&self, out: &mut Out<S>) {
        out.text.push('{');
        let section = |out: &mut Out<S>, name: &str, write: &dyn Fn(&mut Out<S>)| {
            if out.text.len() > 1 {
                out.text.push(',');
            }
            push_string(&mut out.text, name);
            out.text.push_str(":{");
            write(out);
            out.text.push('}');
        };
        section(out, AT, &|o| write_section(&self.at, o));
        section(out, RT, &|o| write_section(&self.rt, o));
        section(out, IDT, &|o| write_section(&self.idt, o));
        section(out, ACCT, &|o| write_section(&self.acct, o));
        section(out, META, &|o| write_section(&self.meta, o));
        let mut first = false;
        for (k, v) in &self.other {
            out.member(&mut first, k, v);
        }
        out.text.push('}');
    }
}
