//! A store from a document's text. Entries are indexed as they are read: a
//! big section on a thread of its own, fed chunk by chunk while the parse
//! goes on, so loading a large cache takes about as long as the longer of
//! parsing and indexing it, where building after the parse took both (at
//! 100k users ≈ 0.5 s + 0.7 s on two cores).

use super::section::{computed_keys, Kind, Section};
use super::Store;
use crate::cache::document_reader::{self, Text, Unusual};
use crate::cache::schema::{DocumentSeed, Extra, Parsed, CHUNK};
use serde::de::DeserializeSeed;
use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::{Scope, ScopedJoinHandle};

/// A section whose first chunk is full (more may follow) is built on a
/// thread of its own; smaller ones on the calling thread: starting a thread
/// costs more than indexing them, and a small app's caches never start one.
pub(crate) const THREADED: usize = CHUNK;

/// Chunks read ahead of a section's builder thread, at most (the parse
/// waits beyond that, so the read-ahead stays a few megabytes).
const QUEUE: usize = 4;

/// A section being built from its chunks: here, or on a thread of its own
/// fed over a channel.
enum Builder<'s, 'j, E: Kind> {
    Here(Section<E>),
    There(
        mpsc::SyncSender<Checked<'j, E>>,
        ScopedJoinHandle<'s, Section<E>>,
        Arc<AtomicUsize>,
    ),
}

/// Entries as read, keys borrowed from the document's text.
type Chunk<'j, E> = Vec<(Cow<'j, str>, E)>;

/// A chunk for a builder thread, with whether each key is the computed one
/// (see [`computed_keys`]) when the parsing thread found that out: ≈ 10 % of
/// an indexing thread's work, which the parsing thread, having just read
/// the entries, does cheaper; but it is worth moving only while the builder
/// is the slower of the two (a document of one big section: 100k app tokens
/// 122–124 → 118–120 ms), not when the parse feeds several builders and is
/// itself what bounds the load. Decided chunk by chunk, a 100k-user load
/// takes ≈ 280 ms where either thread always checking took ≈ 300.
type Checked<'j, E> = (Chunk<'j, E>, Option<Vec<bool>>);

/// A builder that has this many chunks or more waiting when another is sent
/// is taken to be the slower thread (see [`Checked`]).
const LAGGING: usize = 1;

fn checked<'j, E: Kind>(chunk: Chunk<'j, E>, waiting: &AtomicUsize) -> Checked<'j, E> {
    let lagging = waiting.fetch_add(1, Ordering::Relaxed) >= LAGGING;
    let computed = lagging.then(|| computed_keys(&chunk));
    (chunk, computed)
}

impl<'s, 'j: 's, E: Kind + Send + 's> Builder<'s, 'j, E>
where
    E::Index: Send,
{
    fn feed(this: &mut Option<Self>, scope: &'s Scope<'s, '_>, chunk: Chunk<'j, E>) {
        match this {
            None => *this = Some(Self::start(scope, chunk)),
            Some(Builder::Here(s)) => s.extend(chunk),
            // The builder is gone only by a panic, which `finish` surfaces.
            Some(Builder::There(tx, _, waiting)) => drop(tx.send(checked(chunk, waiting))),
        }
    }

    fn start(scope: &'s Scope<'s, '_>, chunk: Chunk<'j, E>) -> Self {
        if chunk.len() < THREADED {
            return Builder::Here(Section::load(chunk));
        }
        // The first chunk goes over the channel once the thread exists, so a
        // thread that cannot be started leaves it here to be built in place.
        let (tx, rx) = mpsc::sync_channel::<Checked<'j, E>>(QUEUE);
        let waiting = Arc::new(AtomicUsize::new(0));
        let taken = Arc::clone(&waiting);
        let spawned = std::thread::Builder::new()
            .name("idflow-cache-load".into())
            .spawn_scoped(scope, move || {
                let mut s = Section::loading();
                for (chunk, computed) in rx {
                    taken.fetch_sub(1, Ordering::Relaxed);
                    match computed {
                        Some(computed) => s.extend_known(chunk, &computed),
                        None => s.extend(chunk),
                    }
                }
                s
            });
        match spawned {
            Ok(h) => {
                drop(tx.send(checked(chunk, &waiting)));
                Builder::There(tx, h, waiting)
            }
            Err(_) => Builder::Here(Section::load(chunk)),
        }
    }

    fn finish(this: Option<Self>) -> Section<E> {
        match this {
            None => Section::default(),
            Some(Builder::Here(s)) => s.loaded(),
            Some(Builder::There(tx, h, _)) => {
                // The section's last chunk has been sent: closing the
                // channel ends the builder's loop.
                drop(tx);
                match h.join() {
                    Ok(s) => s.loaded(),
                    // A panic while indexing is a bug; it surfaces where it
                    // would have, had the section been built on this thread.
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        }
    }
}

impl Store {
    /// Parses a cache document (msal's `SerializableTokenCache` JSON) into a
    /// store. Invalid JSON or a section that is not an object of entry
    /// objects is an error, and no store.
    pub fn parse(json: &str) -> Result<Store, serde_json::Error> {
        Self::read(Text::Str(json))
            .or_else(|Unusual| Self::parse_serde(serde_json::Deserializer::from_str(json)))
    }

    /// [`Store::parse`] of the document's UTF-8 bytes: each entry is checked
    /// as the reader reaches its end (while its bytes are in the cache)
    /// instead of the whole document first, a pass over memory of its own
    /// (342 MiB at 100k users). Bytes that are not UTF-8 are an error.
    pub fn parse_utf8(json: &[u8]) -> Result<Store, serde_json::Error> {
        Self::read(Text::Utf8(json))
            .or_else(|Unusual| Self::parse_serde(serde_json::Deserializer::from_slice(json)))
    }

    /// The document through its own reader, when it is of the usual shape.
    pub(crate) fn read(text: Text<'_>) -> Result<Store, Unusual> {
        Self::build(|sink| document_reader::read(text, sink))
    }

    /// The document through serde_json: the reference for any document
    /// (the unusual ones, and the error of one that is not a cache).
    pub(crate) fn parse_serde<'de, R: serde_json::de::Read<'de>>(
        mut de: serde_json::Deserializer<R>,
    ) -> Result<Store, serde_json::Error> {
        Self::build(|sink| {
            let other = DocumentSeed(sink).deserialize(&mut de)?;
            de.end()?;
            Ok(other)
        })
    }

    /// A store from what `read` hands over: each section indexed as its
    /// chunks come, a big one on a thread of its own.
    fn build<'j, Error>(
        read: impl FnOnce(&mut dyn FnMut(Parsed<'j>)) -> Result<Extra, Error>,
    ) -> Result<Store, Error> {
        std::thread::scope(|scope| {
            let (mut at, mut rt, mut idt, mut acct, mut meta) = (None, None, None, None, None);
            let other = read(&mut |p| match p {
                Parsed::At(v) => Builder::feed(&mut at, scope, v),
                Parsed::Rt(v) => Builder::feed(&mut rt, scope, v),
                Parsed::Idt(v) => Builder::feed(&mut idt, scope, v),
                Parsed::Acct(v) => Builder::feed(&mut acct, scope, v),
                Parsed::Meta(v) => Builder::feed(&mut meta, scope, v),
            })?;
            Ok(Store {
                at: Builder::finish(at),
                rt: Builder::finish(rt),
                idt: Builder::finish(idt),
                acct: Builder::finish(acct),
                meta: Builder::finish(meta),
                other,
                journal: None,
            })
        })
    }

    /// A number that stays the same while every account list read from this
    /// store would (see [`Section::stamp`]): the latest stamp of the three
    /// sections a list is read from. Any change of them takes a stamp above
    /// every earlier one, so the number moves; a store loaded in this one's
    /// place has other stamps, unless both hold none of these entries.
    pub fn accounts_stamp(&self) -> u64 {
        self.acct
            .stamp()
            .max(self.rt.stamp())
            .max(self.meta.stamp())
    }

    /// Where this store's account lists stand: the three listed sections'
    /// identities and [`Self::accounts_stamp`].
    pub fn accounts_mark(&self) -> AccountsMark {
        AccountsMark {
            births: [self.acct.birth(), self.rt.birth(), self.meta.birth()],
            stamp: self.accounts_stamp(),
        }
    }

    /// Appends to `out` the home account ids (as stored) whose listing may
    /// have changed since `mark` was taken of this store; `false` when that
    /// cannot be told (another store's mark, a load, a change older than
    /// the sections remember, an app metadata change): read the whole list.
    pub fn account_changes_since<'s>(
        &'s self,
        mark: &AccountsMark,
        out: &mut Vec<&'s str>,
    ) -> bool {
        mark.births == self.accounts_mark().births
            && self.acct.changes_since(mark.stamp, out)
            && self.rt.changes_since(mark.stamp, out)
            && self.meta.changes_since(mark.stamp, out)
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

/// Where a store's account lists stood when read (see
/// [`Store::accounts_mark`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AccountsMark {
    births: [u64; 3],
    stamp: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::schema::{AtEntry, AtFields};

    fn token(i: usize) -> (Cow<'static, str>, AtEntry) {
        let (secret, realm) = (format!("s{i}"), format!("t{i}"));
        let e = AtEntry::new(AtFields {
            credential_type: Some("AccessToken"),
            secret: Some(&secret),
            environment: Some("login.example"),
            client_id: Some("client"),
            realm: Some(&realm),
            target: Some("r/one"),
            ..AtFields::default()
        });
        // Every other key is not the one computed from the entry.
        let key = if i.is_multiple_of(2) {
            e.key()
        } else {
            format!("kept-{i}")
        };
        (Cow::Owned(key), e)
    }

    /// The keys are checked on the sending thread only while the builder
    /// lags; either way the section keeps exactly the keys that are not the
    /// computed ones, and finds every entry by the key it was given.
    #[test]
    fn keys_are_checked_where_the_builder_lags_and_kept_alike() {
        for waiting in [0, LAGGING, LAGGING + 3] {
            let chunk: Chunk<'static, AtEntry> = (0..6).map(token).collect();
            let keys: Vec<String> = chunk.iter().map(|(k, _)| k.to_string()).collect();
            let count = AtomicUsize::new(waiting);
            let (chunk, computed) = checked(chunk, &count);
            assert_eq!(count.load(Ordering::Relaxed), waiting + 1);
            assert_eq!(computed.is_some(), waiting >= LAGGING, "{waiting} waiting");
            if let Some(c) = &computed {
                assert_eq!(c, &[true, false, true, false, true, false]);
            }
            let mut s = Section::loading();
            match computed {
                Some(c) => s.extend_known(chunk, &c),
                None => s.extend(chunk),
            }
            let s = s.loaded();
            for (i, k) in keys.iter().enumerate() {
                let id = s
                    .id_of(k)
                    .unwrap_or_else(|| panic!("{k}, {waiting} waiting"));
                let mut kept = Vec::new();
                s.for_each_keyed_in(i, i + 1, |key, computed, _| {
                    kept.push((key.to_owned(), computed))
                });
                assert_eq!(
                    kept,
                    [(k.clone(), i.is_multiple_of(2))],
                    "{waiting} waiting"
                );
                assert_eq!(s.get(id).and_then(AtEntry::secret), Some(&*format!("s{i}")));
            }
        }
    }
}
