//! A store from a parsed document, and a store written as the document
//! through serde (the reference the hand-written writer, `json_out`, is
//! tested against).

use super::section::{Kind, Section};
use super::Store;
use crate::cache::schema::Document;
#[cfg(test)]
use crate::cache::schema::{SectionOut, ACCT, AT, IDT, META, RT};
#[cfg(test)]
use serde::{ser::SerializeMap, Serialize, Serializer};

impl Store {
    pub fn from_document(doc: Document) -> Store {
        fn load<E: Kind>(entries: Vec<(String, E)>) -> Section<E> {
            let mut s = Section::with_capacity(entries.len());
            for (k, e) in entries {
                s.insert(k.into(), e);
            }
            s
        }
        Store {
            at: load(doc.at),
            rt: load(doc.rt),
            idt: load(doc.idt),
            acct: load(doc.acct),
            meta: load(doc.meta),
            other: doc.other,
            journal: None,
        }
    }
}

/// The document as `serde_json::to_string` writes it: what idflow wrote
/// before [`Store::to_json`], which must write the same bytes (tests only).
#[cfg(test)]
impl Serialize for Store {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        fn out<'a, E: Kind + 'a>(
            s: &'a Section<E>,
        ) -> SectionOut<'a, E, impl Iterator<Item = (&'a str, &'a E)>> {
            SectionOut(
                std::cell::Cell::new(Some(s.iter().map(|(_, k, e)| (k, e)))),
                std::marker::PhantomData,
            )
        }
        let mut m = ser.serialize_map(Some(5 + self.other.len()))?;
        m.serialize_entry(AT, &out(&self.at))?;
        m.serialize_entry(RT, &out(&self.rt))?;
        m.serialize_entry(IDT, &out(&self.idt))?;
        m.serialize_entry(ACCT, &out(&self.acct))?;
        m.serialize_entry(META, &out(&self.meta))?;
        for (k, v) in &self.other {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}
