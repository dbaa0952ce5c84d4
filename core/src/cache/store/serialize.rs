//! A store written as the document.

use super::section::{Kind, Section};
use super::Store;
use crate::cache::schema::{SectionOut, ACCT, AT, IDT, META, RT};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use std::borrow::Cow;

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
