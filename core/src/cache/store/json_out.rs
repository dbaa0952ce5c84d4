//! The store written as msal's `SerializableTokenCache` JSON by hand: the
//! bytes `serde_json::to_string` writes for the store's `Serialize` (the
//! same member order), through the writers of `cache/json_text.rs`.

use super::section::{Kind, Section};
use super::Store;
use crate::cache::json_text::{push_string, value_len_hint, JsonEntry, Out};
use crate::cache::schema::{ACCT, AT, IDT, META, RT};

fn write_section<E: Kind + JsonEntry>(sec: &Section<E>, out: &mut Out) {
    let mut first = true;
    sec.for_each_keyed(|k, e| {
        if !std::mem::take(&mut first) {
            out.text.push(',');
        }
        push_string(&mut out.text, k);
        out.text.push(':');
        e.write_json(out);
    });
}

/// The length of a section's entries (`"key":{...}` members, a comma
/// after each) when no string needs escaping and keys are ASCII (computed
/// keys are counted, not written: writing them twice cost tens of
/// milliseconds at 100k users).
fn section_len_hint<E: Kind + JsonEntry>(sec: &Section<E>) -> usize {
    let mut n = 0;
    sec.for_each_key_len(|k, e| n += k + 4 + e.json_len_hint());
    n
}

impl Store {
    /// The store as msal's document: what `serde_json::to_string` of the
    /// store writes, byte for byte, into one `String` sized first by the
    /// length the document has when no string needs escaping (so it never
    /// regrows for a cache of tokens, whose text needs none).
    ///
    /// One thread writes it. Threads writing parts were measured slower on
    /// a busy 2-core machine (at 100k users, 387 ms against 226 ms): most
    /// of the time is the first touch of each new page of the output (the
    /// kernel's page faults), parts written apart fault twice when joined,
    /// and writing the final buffer from several threads needs a counting
    /// pass and a UTF-8 check of the whole document (this crate has no
    /// unsafe code).
    pub(crate) fn to_json(&self) -> String {
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
        let hint = 2
            + other
            + sections
                .iter()
                .map(|(name, n)| name.len() + 6 + n)
                .sum::<usize>();
        let mut out = Out::with_capacity(hint);
        out.text.push('{');
        let section = |out: &mut Out, name: &str, write: &dyn Fn(&mut Out)| {
            if out.text.len() > 1 {
                out.text.push(',');
            }
            push_string(&mut out.text, name);
            out.text.push_str(":{");
            write(out);
            out.text.push('}');
        };
        section(&mut out, AT, &|o| write_section(&self.at, o));
        section(&mut out, RT, &|o| write_section(&self.rt, o));
        section(&mut out, IDT, &|o| write_section(&self.idt, o));
        section(&mut out, ACCT, &|o| write_section(&self.acct, o));
        section(&mut out, META, &|o| write_section(&self.meta, o));
        let mut first = false;
        for (k, v) in &self.other {
            out.member(&mut first, k, v);
        }
        out.text.push('}');
        out.text
    }
}
