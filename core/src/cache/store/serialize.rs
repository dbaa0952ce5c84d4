//! A store written as the document through serde (the reference the
//! hand-written writer, `json_out`, is tested against).

#[cfg(test)]
use super::section::{Kind, Section};
#[cfg(test)]
use super::Store;
#[cfg(test)]
use crate::cache::schema::{SectionOut, ACCT, AT, IDT, META, RT};
#[cfg(test)]
use serde::{ser::SerializeMap, Serialize, Serializer};
#[cfg(test)]
use std::borrow::Cow;

/// The document as `serde_json::to_string` writes it: what idflow wrote
/// before [`Store::to_json`], which must write the same bytes (tests only).
#[cfg(test)]
impl Serialize for Store {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        fn out<'a, E: Kind + 'a>(
            s: &'a Section<E>,
        ) -> SectionOut<'a, E, impl Iterator<Item = (Cow<'a, str>, &'a E)>> {
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
