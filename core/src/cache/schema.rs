//! The entries of the MSAL unified cache schema, typed.
//!
//! Each section's entry is a struct of the fields idflow reads, plus `extra`:
//! every other member, kept verbatim so a cache written by another MSAL
//! library survives a load → save through idflow. A known field whose value
//! is not of the schema's type (a `null` home account id of an app token, a
//! numeric timestamp) also goes to `extra` unchanged and counts as absent:
//! nothing is ever rewritten into another JSON type.
//!
//! Timestamps are strings of epoch seconds in the schema; they are held as
//! `u64` and written back as the same decimal string. A timestamp string that
//! would not come back byte-identical (leading zeros, a fraction) stays in
//! `extra` instead.
//!
//! Entries never derive `Debug`: they hold secrets.

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// Members of an entry idflow does not type, in their original order.
pub(crate) type Extra = Vec<(String, Value)>;

/// A JSON value read as "a string, or anything else kept as-is".
enum Lenient {
    Str(String),
    Other(Value),
}

impl<'de> Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lenient;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Lenient, E> {
                Ok(Lenient::Str(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Lenient, E> {
                Ok(Lenient::Str(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Lenient, E> {
                Ok(Lenient::Other(Value::Bool(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Lenient, E> {
                Ok(Lenient::Other(Value::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Lenient, E> {
                Ok(Lenient::Other(Value::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Lenient, E> {
                Ok(Lenient::Other(Value::from(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Lenient, E> {
                Ok(Lenient::Other(Value::Null))
            }
            fn visit_none<E: de::Error>(self) -> Result<Lenient, E> {
                Ok(Lenient::Other(Value::Null))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Lenient, D::Error> {
                Lenient::deserialize(d)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, a: A) -> Result<Lenient, A::Error> {
                Value::deserialize(SeqAccessDeserializer::new(a)).map(Lenient::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<Lenient, A::Error> {
                Value::deserialize(MapAccessDeserializer::new(a)).map(Lenient::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// A map key or member name, borrowed from the input when it has no escapes.
pub(crate) struct Key<'de>(pub Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// `"1700000000"` → 1700000000, only when writing the number back gives the
/// same string.
fn canonical_secs(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 19 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if b.len() > 1 && b[0] == b'0' {
        return None;
    }
    s.parse().ok()
}

/// Declares an entry struct: string fields, timestamp fields, `extra`, and
/// its (de)serialization as one JSON object.
macro_rules! entry {
    ($(#[$doc:meta])* $name:ident { str: [$($s:ident),* $(,)?], ts: [$($t:ident),* $(,)?] $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Default)]
        pub(crate) struct $name {
            $(pub $s: Option<String>,)*
            $(pub $t: Option<u64>,)*
            pub extra: Extra,
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
                let mut n = self.extra.len();
                $(n += usize::from(self.$s.is_some());)*
                $(n += usize::from(self.$t.is_some());)*
                let mut m = ser.serialize_map(Some(n))?;
                $(if let Some(v) = &self.$s { m.serialize_entry(stringify!($s), v)?; })*
                $(if let Some(v) = self.$t {
                    let mut buf = itoa_buf();
                    m.serialize_entry(stringify!($t), fmt_u64(v, &mut buf))?;
                })*
                for (k, v) in &self.extra {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str(concat!("a JSON object (", stringify!($name), ")"))
                    }
                    #[allow(unused_variables)]
                    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<$name, A::Error> {
                        let mut e = $name::default();
                        while let Some(Key(k)) = a.next_key::<Key<'de>>()? {
                            match k.as_ref() {
                                $(stringify!($s) => match a.next_value::<Lenient>()? {
                                    Lenient::Str(v) => e.$s = Some(v),
                                    Lenient::Other(v) => e.extra.push((k.into_owned(), v)),
                                },)*
                                $(stringify!($t) => match a.next_value::<Lenient>()? {
                                    Lenient::Str(v) => match canonical_secs(&v) {
                                        Some(n) => e.$t = Some(n),
                                        None => e.extra.push((k.into_owned(), Value::String(v))),
                                    },
                                    Lenient::Other(v) => e.extra.push((k.into_owned(), v)),
                                },)*
                                _ => {
                                    let v = a.next_value::<Value>()?;
                                    e.extra.push((k.into_owned(), v));
                                }
                            }
                        }
                        Ok(e)
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
}

/// A stack buffer for formatting a `u64` without allocating.
fn itoa_buf() -> [u8; 20] {
    [0u8; 20]
}

fn fmt_u64(mut v: u64, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("0")
}

entry! {
    /// An `AccessToken` entry. `idflow_requested_target` is idflow's own
    /// member: the scopes the app asked for when they differ from the granted
    /// ones, so a repeat request is an O(1) hit after a reload too (other
    /// libraries keep or drop it; neither harms).
    AtEntry {
        str: [credential_type, secret, home_account_id, environment, client_id, realm, target,
              token_type, key_id, ext_cache_key, idflow_requested_target],
        ts: [cached_at, expires_on, extended_expires_on, refresh_on],
    }
}

entry! {
    /// A `RefreshToken` entry.
    RtEntry {
        str: [credential_type, secret, home_account_id, environment, client_id, target, family_id],
        ts: [last_modification_time],
    }
}

entry! {
    /// An `IdToken` entry.
    IdtEntry {
        str: [credential_type, secret, home_account_id, environment, realm, client_id],
        ts: [],
    }
}

entry! {
    /// An `Account` entry.
    AcctEntry {
        str: [home_account_id, environment, realm, local_account_id, username, authority_type,
              account_source],
        ts: [],
    }
}

entry! {
    /// An `AppMetadata` entry.
    MetaEntry {
        str: [client_id, environment, family_id],
        ts: [],
    }
}

/// The sections of the schema, in the order idflow writes them.
pub(crate) const AT: &str = "AccessToken";
pub(crate) const RT: &str = "RefreshToken";
pub(crate) const IDT: &str = "IdToken";
pub(crate) const ACCT: &str = "Account";
pub(crate) const META: &str = "AppMetadata";

/// A whole cache document as read: known sections typed, unknown top-level
/// members kept as they came.
#[derive(Default)]
pub(crate) struct Document {
    pub at: Vec<(String, AtEntry)>,
    pub rt: Vec<(String, RtEntry)>,
    pub idt: Vec<(String, IdtEntry)>,
    pub acct: Vec<(String, AcctEntry)>,
    pub meta: Vec<(String, MetaEntry)>,
    pub other: Extra,
}

/// Reads one section: an object of key → entry object.
struct SectionSeed<E>(std::marker::PhantomData<E>);

impl<'de, E: Deserialize<'de>> DeserializeSeed<'de> for SectionSeed<E> {
    type Value = Vec<(String, E)>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        struct V<E>(std::marker::PhantomData<E>);
        impl<'de, E: Deserialize<'de>> Visitor<'de> for V<E> {
            type Value = Vec<(String, E)>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of cache entries")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(a.size_hint().unwrap_or(0));
                while let Some(Key(k)) = a.next_key::<Key<'de>>()? {
                    out.push((k.into_owned(), a.next_value::<E>()?));
                }
                Ok(out)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Document;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a token cache (a JSON object of sections)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Document, A::Error> {
                let mut doc = Document::default();
                let mut seen = [false; 5];
                while let Some(Key(k)) = a.next_key::<Key<'de>>()? {
                    let slot = [AT, RT, IDT, ACCT, META].iter().position(|s| *s == k);
                    if let Some(i) = slot {
                        if std::mem::replace(&mut seen[i], true) {
                            return Err(de::Error::custom(format_args!("duplicate section `{k}`")));
                        }
                    }
                    match slot {
                        Some(0) => doc.at = a.next_value_seed(SectionSeed(Default::default()))?,
                        Some(1) => doc.rt = a.next_value_seed(SectionSeed(Default::default()))?,
                        Some(2) => doc.idt = a.next_value_seed(SectionSeed(Default::default()))?,
                        Some(3) => doc.acct = a.next_value_seed(SectionSeed(Default::default()))?,
                        Some(4) => doc.meta = a.next_value_seed(SectionSeed(Default::default()))?,
                        _ => {
                            let v = a.next_value::<Value>()?;
                            doc.other.push((k.into_owned(), v));
                        }
                    }
                }
                Ok(doc)
            }
        }
        d.deserialize_map(V)
    }
}

/// Writes `(key, entry)` pairs as one JSON object.
pub(crate) struct SectionOut<'a, E, I>(
    pub std::cell::Cell<Option<I>>,
    pub std::marker::PhantomData<&'a E>,
);

impl<'a, E: Serialize + 'a, I: Iterator<Item = (&'a str, &'a E)>> Serialize
    for SectionOut<'a, E, I>
{
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let it = self.0.take();
        let mut m = ser.serialize_map(None)?;
        for (k, e) in it.into_iter().flatten() {
            m.serialize_entry(k, e)?;
        }
        m.end()
    }
}
