//! A store from a document's text. Each section is built (entries into
//! slots, then its indexes) as soon as it has been read, and a big section
//! on a thread of its own while the parse goes on: loading a large cache
//! then takes about as long as parsing it, where building after the parse
//! took the parse's time plus the indexing's (at 100k users, ≈ 0.5 s + 0.7 s
//! on two cores).

use super::section::{Kind, Section};
use super::Store;
use crate::cache::schema::{DocumentSeed, Parsed};
use serde::de::DeserializeSeed;
use std::sync::mpsc;
use std::thread::{Scope, ScopedJoinHandle};

/// Sections with fewer entries are built on the calling thread: starting a
/// thread costs more than indexing them (and a small app's caches never
/// start one).
pub(crate) const THREADED: usize = 8_192;

/// A section being built: done, or on its own thread.
enum Built<'s, E: Kind> {
    Ready(Section<E>),
    Pending(ScopedJoinHandle<'s, Option<Section<E>>>),
}

impl<'s, E: Kind + Send + 's> Built<'s, E>
where
    E::Index: Send,
{
    fn start(scope: &'s Scope<'s, '_>, entries: Vec<(String, E)>) -> Self {
        if entries.len() < THREADED {
            return Built::Ready(Section::load(entries));
        }
        // The entries go over a channel once the thread exists, so a thread
        // that cannot be started leaves them here to be built in place.
        let (tx, rx) = mpsc::sync_channel::<Vec<(String, E)>>(1);
        let spawned = std::thread::Builder::new()
            .name("idflow-cache-load".into())
            .spawn_scoped(scope, move || rx.recv().ok().map(Section::load));
        match spawned {
            Ok(h) => match tx.send(entries) {
                Ok(()) => Built::Pending(h),
                Err(mpsc::SendError(entries)) => Built::Ready(Section::load(entries)),
            },
            Err(_) => Built::Ready(Section::load(entries)),
        }
    }

    fn finish(this: Option<Self>) -> Section<E> {
        match this {
            None => Section::default(),
            Some(Built::Ready(s)) => s,
            Some(Built::Pending(h)) => match h.join() {
                Ok(s) => s.unwrap_or_default(),
                // A panic while indexing is a bug; it surfaces where it would
                // have, had the section been built on this thread.
                Err(panic) => std::panic::resume_unwind(panic),
            },
        }
    }
}

impl Store {
    /// Parses a cache document (msal's `SerializableTokenCache` JSON) into a
    /// store. Invalid JSON or a section that is not an object of entry
    /// objects is an error, and no store.
    pub fn parse(json: &str) -> Result<Store, serde_json::Error> {
        std::thread::scope(|scope| {
            let (mut at, mut rt, mut idt, mut acct, mut meta) = (None, None, None, None, None);
            let mut de = serde_json::Deserializer::from_str(json);
            let other = DocumentSeed(&mut |p| match p {
                Parsed::At(v) => at = Some(Built::start(scope, v)),
                Parsed::Rt(v) => rt = Some(Built::start(scope, v)),
                Parsed::Idt(v) => idt = Some(Built::start(scope, v)),
                Parsed::Acct(v) => acct = Some(Built::start(scope, v)),
                Parsed::Meta(v) => meta = Some(Built::start(scope, v)),
            })
            .deserialize(&mut de)?;
            de.end()?;
            Ok(Store {
                at: Built::finish(at),
                rt: Built::finish(rt),
                idt: Built::finish(idt),
                acct: Built::finish(acct),
                meta: Built::finish(meta),
                other,
                journal: None,
            })
        })
    }

    /// How many entries the store holds, all sections together.
    pub fn entries(&self) -> usize {
        self.at.len() + self.rt.len() + self.idt.len() + self.acct.len() + self.meta.len()
    }

    /// Frees a store that is no longer used. A big one is freed on a thread
    /// of its own: freeing 100k users' entries and indexes takes ≈ 0.2 s
    /// that the caller replacing its cache need not wait for.
    pub fn release(self) {
        if self.entries() < THREADED {
            return;
        }
        // When no thread can be started, the closure (and the store in it)
        // is dropped right here instead.
        let _ = std::thread::Builder::new()
            .name("idflow-cache-free".into())
            .spawn(move || drop(self));
    }
}
