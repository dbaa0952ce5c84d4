//! App metadata, by (environment, client).

use super::index::{ikey, with_ikey, Id, Map, Op};
use super::section::{Kind, Section};
use crate::cache::keys;
use crate::cache::schema::MetaEntry;

/// The app-metadata index.
#[derive(Default)]
pub(crate) struct MetaIndex {
    /// (environment, client), case-folded → the entry. The document key is
    /// not lower-cased (as msal writes it), so two entries may fold alike:
    /// the one saved last is found.
    by: Map<Box<str>, Id>,
}

impl Kind for MetaEntry {
    type Index = MetaIndex;

    /// An account list reads the app's family from its metadata.
    fn same_listing(&self, new: &Self) -> bool {
        self.same_strings(new)
    }

    const LISTED: bool = true;

    fn write_key(&self, out: &mut impl keys::KeySink) {
        keys::app_metadata_into(
            out,
            self.environment().unwrap_or(""),
            self.client_id().unwrap_or(""),
        );
    }

    fn update(idx: &mut MetaIndex, id: Id, e: &MetaEntry, op: Op) {
        let parts = [e.environment().unwrap_or(""), e.client_id().unwrap_or("")];
        match op {
            Op::Add => {
                idx.by.insert(ikey(&parts), id);
            }
            Op::Del => with_ikey(&parts, |k| {
                if idx.by.get(k) == Some(&id) {
                    idx.by.remove(k);
                }
            }),
        }
    }
}

impl Section<MetaEntry> {
    /// The app's metadata in an environment.
    pub fn of(&self, env: &str, client: &str) -> Option<&MetaEntry> {
        self.get(with_ikey(&[env, client], |k| self.idx.by.get(k).copied())?)
    }
}
