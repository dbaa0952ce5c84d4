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

/// A JSON value read as "a string (borrowed from the input when it has no
/// escapes), or anything else kept as-is".
pub(crate) enum LenientCow<'de> {
    Str(Cow<'de, str>),
    Other(Value),
}

impl LenientCow<'_> {
    fn into_value(self) -> Value {
        match self {
            LenientCow::Str(s) => Value::String(s.into_owned()),
            LenientCow::Other(v) => v,
        }
    }
}

/// An entry read member by member, in document order: the cache document's
/// own reader and serde's visitor file each member the same way, so both
/// build the same entry from the same text.
pub(crate) trait ReadEntry<'de>: Default {
    /// The typed string fields read so far (a later duplicate replaces an
    /// earlier one, as in a JSON object read into a map).
    type Vals: Default;
    /// Files one member: a typed field's string (a timestamp's canonical
    /// digits) into the entry, anything else into `extra`, kept as read.
    fn member(&mut self, vals: &mut Self::Vals, k: Cow<'de, str>, v: LenientCow<'de>);
    /// The entry, its strings packed.
    fn finish(self, vals: Self::Vals) -> Self;
}

impl<'de> Deserialize<'de> for LenientCow<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LenientCow<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(LenientCow::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(LenientCow::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(LenientCow::Str(Cow::Owned(v)))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(LenientCow::Other(Value::Bool(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(LenientCow::Other(Value::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(LenientCow::Other(Value::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(LenientCow::Other(Value::from(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(LenientCow::Other(Value::Null))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(LenientCow::Other(Value::Null))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                LenientCow::deserialize(d)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, a: A) -> Result<Self::Value, A::Error> {
                Value::deserialize(SeqAccessDeserializer::new(a)).map(LenientCow::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<Self::Value, A::Error> {
                Value::deserialize(MapAccessDeserializer::new(a)).map(LenientCow::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// Packs string fields into one buffer: one allocation per entry instead of
/// one per field (fewer allocations to load, and one memory access to read
/// an entry's strings).
fn pack<S: AsRef<str>>(vals: &[Option<S>], ends: &mut [u32], set: &mut u32) -> Box<str> {
    let len: usize = vals.iter().flatten().map(|v| v.as_ref().len()).sum();
    let mut buf = String::with_capacity(len);
    for (i, v) in vals.iter().enumerate() {
        if let Some(v) = v {
            buf.push_str(v.as_ref());
            *set |= 1 << i;
        }
        ends[i] = u32::try_from(buf.len()).unwrap_or(u32::MAX);
    }
    buf.into_boxed_str()
}

/// Declares an entry struct: string fields (packed in one buffer, read with
/// accessors of the same names), timestamp fields, `extra`, a `Fields` view
/// of borrowed strings to build one, and its (de)serialization as one JSON
/// object.
macro_rules! entry {
    ($(#[$doc:meta])* $name:ident / $fields:ident {
        str: [$($s:ident = $i:literal),* $(,)?], ts: [$($t:ident),* $(,)?] $(,)?
    }) => {
        $(#[$doc])*
        #[derive(Default)]
        pub(crate) struct $name {
            buf: Box<str>,
            ends: [u32; [$($i),*].len()],
            set: u32,
            $(pub $t: Option<u64>,)*
            /// String fields the document gave as `null` (msal writes an app
            /// token's `home_account_id` so), one bit per field, written
            /// back as `null` after the timestamps: kept here rather than
            /// among the extra members, where one cost an entry two
            /// allocations and ≈ 250 bytes. A field that holds a string is
            /// never written as `null`.
            nulls: u32,
            pub extra: Extra,
            /// Whether `buf` is plain text (see `json_text::Plain`), learnt
            /// when the entry is first written: `buf` never changes, so a
            /// cache written again copies its strings without a look.
            plain: crate::cache::json_text::Plain,
        }

        impl Clone for $name {
            fn clone(&self) -> Self {
                $name {
                    buf: self.buf.clone(),
                    ends: self.ends,
                    set: self.set,
                    $($t: self.$t,)*
                    nulls: self.nulls,
                    extra: self.extra.clone(),
                    plain: self.plain.clone(),
                }
            }
        }

        /// The string fields of an entry, borrowed.
        #[derive(Clone, Copy, Default)]
        pub(crate) struct $fields<'a> {
            $(pub $s: Option<&'a str>,)*
        }

        #[allow(dead_code)]
        impl $name {
            const N: usize = [$($i),*].len();

            fn field(&self, i: usize) -> Option<&str> {
                if self.set & (1 << i) == 0 {
                    return None;
                }
                let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
                self.buf.get(start..self.ends[i] as usize)
            }

            $(pub fn $s(&self) -> Option<&str> {
                self.field($i)
            })*

            /// A new entry with these strings (no timestamps, no extra members).
            pub fn new(f: $fields<'_>) -> Self {
                let mut e = $name::default();
                let vals: [Option<&str>; Self::N] = [$(f.$s),*];
                e.buf = pack(&vals, &mut e.ends, &mut e.set);
                e
            }

            /// Whether both entries hold the same strings (timestamps and
            /// extra members aside).
            pub fn same_strings(&self, other: &Self) -> bool {
                self.set == other.set && self.ends == other.ends && self.buf == other.buf
            }

            /// The strings of this entry.
            pub fn fields(&self) -> $fields<'_> {
                $fields { $($s: self.field($i),)* }
            }

            /// This entry with its strings replaced (timestamps and extra members kept).
            pub fn with_fields(&self, f: $fields<'_>) -> Self {
                let mut e = $name::new(f);
                $(e.$t = self.$t;)*
                e.nulls = self.nulls & !e.set;
                e.extra = self.extra.clone();
                e
            }

            /// Writes string field `name` as `null` while it holds no
            /// string (another name becomes an extra member with that value).
            pub fn set_null(&mut self, name: &str) {
                match name {
                    $(stringify!($s) => self.nulls |= 1 << $i,)*
                    _ => self.extra.push((name.to_owned(), Value::Null)),
                }
            }

            /// Whether string field `i` is written as `null`.
            fn is_null(&self, i: usize) -> bool {
                (self.nulls & !self.set) & (1 << i) != 0
            }
        }

        impl crate::cache::json_text::JsonEntry for $name {
            fn write_json<S: crate::cache::json_text::Sink>(
                &self,
                out: &mut crate::cache::json_text::Out<S>,
            ) {
                let mut first = true;
                let plain = self.plain.get(&self.buf);
                out.text.push('{');
                $(if let Some(v) = self.field($i) {
                    out.name(&mut first, concat!("\"", stringify!($s), "\":"));
                    if plain {
                        crate::cache::json_text::push_plain(&mut out.text, v);
                    } else {
                        crate::cache::json_text::push_string(&mut out.text, v);
                    }
                })*
                $(if let Some(v) = self.$t {
                    out.name(&mut first, concat!("\"", stringify!($t), "\":"));
                    crate::cache::json_text::push_secs(&mut out.text, v);
                })*
                $(if self.is_null($i) {
                    out.name(&mut first, concat!("\"", stringify!($s), "\":null"));
                })*
                for (k, v) in &self.extra {
                    out.member(&mut first, k, v);
                }
                out.text.push('}');
            }

            fn plain(&self) -> bool {
                self.plain.get(&self.buf)
            }

            fn json_len_hint(&self) -> usize {
                // `{}`, then per member its quoted name, colon, value and a
                // comma, one comma fewer at the end.
                #[allow(unused_mut)]
                let mut n = 2 + self.buf.len();
                $(if self.set & (1 << $i) != 0 {
                    n += stringify!($s).len() + 6;
                })*
                $(if let Some(v) = self.$t {
                    n += stringify!($t).len() + 6 + crate::cache::json_text::digits(v);
                })*
                $(if self.is_null($i) {
                    n += stringify!($s).len() + 8;
                })*
                for (k, v) in &self.extra {
                    n += k.len() + 4 + crate::cache::json_text::value_len_hint(v);
                }
                if n > 2 { n - 1 } else { n }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
                #[allow(unused_mut)]
                let mut n = self.extra.len() + self.set.count_ones() as usize;
                $(n += usize::from(self.$t.is_some());)*
                n += (self.nulls & !self.set).count_ones() as usize;
                let mut m = ser.serialize_map(Some(n))?;
                $(if let Some(v) = self.field($i) { m.serialize_entry(stringify!($s), v)?; })*
                $(if let Some(v) = self.$t {
                    let mut buf = [0u8; 20];
                    m.serialize_entry(stringify!($t), crate::cache::json_text::fmt_u64(v, &mut buf))?;
                })*
                $(if self.is_null($i) {
                    m.serialize_entry(stringify!($s), &())?;
                })*
                for (k, v) in &self.extra {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }

        impl<'de> ReadEntry<'de> for $name {
            type Vals = [Option<Cow<'de, str>>; $name::N];

            fn member(&mut self, vals: &mut Self::Vals, k: Cow<'de, str>, v: LenientCow<'de>) {
                match k.as_ref() {
                    $(stringify!($s) => match v {
                        LenientCow::Str(v) => vals[$i] = Some(v),
                        LenientCow::Other(Value::Null) => self.nulls |= 1 << $i,
                        LenientCow::Other(v) => self.extra.push((k.into_owned(), v)),
                    },)*
                    $(stringify!($t) => match v {
                        LenientCow::Str(v) => match canonical_secs(&v) {
                            Some(n) => self.$t = Some(n),
                            None => self.extra.push((k.into_owned(), Value::String(v.into_owned()))),
                        },
                        LenientCow::Other(v) => self.extra.push((k.into_owned(), v)),
                    },)*
                    _ => self.extra.push((k.into_owned(), v.into_value())),
                }
            }

            fn finish(mut self, vals: Self::Vals) -> Self {
                self.buf = pack(&vals, &mut self.ends, &mut self.set);
                self
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
                    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<$name, A::Error> {
                        let mut e = $name::default();
                        let mut vals = Default::default();
                        while let Some(Key(k)) = a.next_key::<Key<'de>>()? {
                            e.member(&mut vals, k, a.next_value::<LenientCow<'de>>()?);
                        }
                        Ok(e.finish(vals))
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
}

entry! {
    /// An `AccessToken` entry. `idflow_requested_target` is idflow's own
    /// member: the scopes the app asked for when they differ from the granted
    /// ones, so a repeat request is an O(1) hit after a reload too (other
    /// libraries keep or drop it; neither harms).
    AtEntry / AtFields {
        str: [credential_type = 0, secret = 1, home_account_id = 2, environment = 3, client_id = 4,
              realm = 5, target = 6, token_type = 7, key_id = 8, ext_cache_key = 9,
              idflow_requested_target = 10],
        ts: [cached_at, expires_on, extended_expires_on, refresh_on],
    }
}

entry! {
    /// A `RefreshToken` entry.
    RtEntry / RtFields {
        str: [credential_type = 0, secret = 1, home_account_id = 2, environment = 3, client_id = 4,
              target = 5, family_id = 6],
        ts: [last_modification_time],
    }
}

entry! {
    /// An `IdToken` entry.
    IdtEntry / IdtFields {
        str: [credential_type = 0, secret = 1, home_account_id = 2, environment = 3, realm = 4,
              client_id = 5],
        ts: [],
    }
}

entry! {
    /// An `Account` entry.
    AcctEntry / AcctFields {
        str: [home_account_id = 0, environment = 1, realm = 2, local_account_id = 3, username = 4,
              authority_type = 5, account_source = 6],
        ts: [],
    }
}

entry! {
    /// An `AppMetadata` entry.
    MetaEntry / MetaFields {
        str: [client_id = 0, environment = 1, family_id = 2],
        ts: [],
    }
}

/// The sections of the schema, in the order idflow writes them.
pub(crate) const AT: &str = "AccessToken";
pub(crate) const RT: &str = "RefreshToken";
pub(crate) const IDT: &str = "IdToken";
pub(crate) const ACCT: &str = "Account";
pub(crate) const META: &str = "AppMetadata";
/// The sections, in that order (the order of [`Parsed`]'s kinds too).
pub(crate) const SECTIONS: [&str; 5] = [AT, RT, IDT, ACCT, META];

/// Entries of one known section of a document, handed over as soon as they
/// have been read: a section comes as one or more chunks, in document order.
/// Keys are borrowed from the document when they hold no escapes.
pub(crate) enum Parsed<'de> {
    At(Vec<(Cow<'de, str>, AtEntry)>),
    Rt(Vec<(Cow<'de, str>, RtEntry)>),
    Idt(Vec<(Cow<'de, str>, IdtEntry)>),
    Acct(Vec<(Cow<'de, str>, AcctEntry)>),
    Meta(Vec<(Cow<'de, str>, MetaEntry)>),
}

/// Entries per chunk: a big section is indexed chunk by chunk while the
/// rest of it is parsed.
pub(crate) const CHUNK: usize = 4_096;

/// Reads one section, an object of key → entry object, handing its entries
/// to the sink in chunks of [`CHUNK`] (an empty section gives one empty
/// chunk, so the sink hears of every section read).
pub(crate) type Chunk<'de, E> = Vec<(Cow<'de, str>, E)>;

/// A section's entries on their way to the sink, in chunks of [`CHUNK`]:
/// how both readers of a document hand a section over.
pub(crate) struct Chunks<'a, 'de, E> {
    sink: &'a mut dyn FnMut(Chunk<'de, E>),
    out: Chunk<'de, E>,
    sent: bool,
}

impl<'a, 'de, E> Chunks<'a, 'de, E> {
    pub fn new(sink: &'a mut dyn FnMut(Chunk<'de, E>)) -> Self {
        Chunks {
            sink,
            out: Vec::new(),
            sent: false,
        }
    }

    pub fn push(&mut self, key: Cow<'de, str>, e: E) {
        self.out.push((key, e));
        if self.out.len() == CHUNK {
            // A full chunk: more are likely, each allocated at its size at
            // once instead of grown by doubling.
            (self.sink)(std::mem::replace(&mut self.out, Vec::with_capacity(CHUNK)));
            self.sent = true;
        }
    }

    /// The last chunk (an empty section as one empty chunk).
    pub fn finish(self) {
        if !self.out.is_empty() || !self.sent {
            (self.sink)(self.out);
        }
    }
}

struct SectionSeed<'a, 'de, E>(&'a mut dyn FnMut(Chunk<'de, E>));

impl<'de, E: Deserialize<'de>> DeserializeSeed<'de> for SectionSeed<'_, 'de, E> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        struct V<'a, 'de, E>(&'a mut dyn FnMut(Chunk<'de, E>));
        impl<'de, E: Deserialize<'de>> Visitor<'de> for V<'_, 'de, E> {
            type Value = ();
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object of cache entries")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
                let mut chunks = Chunks::new(self.0);
                while let Some(Key(k)) = a.next_key::<Key<'de>>()? {
                    chunks.push(k, a.next_value::<E>()?);
                }
                chunks.finish();
                Ok(())
            }
        }
        d.deserialize_map(V(self.0))
    }
}

/// Reads a whole cache document: the entries of each known section go to
/// the sink as soon as they have been read (the store indexes them while the
/// parse goes on); the value is the unknown top-level members, kept as they
/// came.
pub(crate) struct DocumentSeed<'a, 'de>(pub &'a mut dyn FnMut(Parsed<'de>));

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_, 'de> {
    type Value = Extra;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Extra, D::Error> {
        struct V<'a, 'de>(&'a mut dyn FnMut(Parsed<'de>));
        impl<'de> Visitor<'de> for V<'_, 'de> {
            type Value = Extra;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a token cache (a JSON object of sections)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Extra, A::Error> {
                let sink = self.0;
                let mut other = Extra::new();
                let mut seen = [false; 5];
                while let Some(Key(k)) = a.next_key::<Key<'de>>()? {
                    let slot = SECTIONS.iter().position(|s| *s == k);
                    if let Some(i) = slot {
                        if std::mem::replace(&mut seen[i], true) {
                            return Err(de::Error::custom(format_args!("duplicate section `{k}`")));
                        }
                    }
                    match slot {
                        Some(0) => a.next_value_seed(SectionSeed(&mut |v| sink(Parsed::At(v))))?,
                        Some(1) => a.next_value_seed(SectionSeed(&mut |v| sink(Parsed::Rt(v))))?,
                        Some(2) => a.next_value_seed(SectionSeed(&mut |v| sink(Parsed::Idt(v))))?,
                        Some(3) => {
                            a.next_value_seed(SectionSeed(&mut |v| sink(Parsed::Acct(v))))?
                        }
                        Some(4) => {
                            a.next_value_seed(SectionSeed(&mut |v| sink(Parsed::Meta(v))))?
                        }
                        _ => {
                            let v = a.next_value::<Value>()?;
                            other.push((k.into_owned(), v));
                        }
                    }
                }
                Ok(other)
            }
        }
        d.deserialize_map(V(self.0))
    }
}

/// Writes `(key, entry)` pairs as one JSON object.
#[cfg(test)]
pub(crate) struct SectionOut<'a, E, I>(
    pub std::cell::Cell<Option<I>>,
    pub std::marker::PhantomData<&'a E>,
);

#[cfg(test)]
impl<'a, E: Serialize + 'a, I: Iterator<Item = (Cow<'a, str>, &'a E)>> Serialize
    for SectionOut<'a, E, I>
{
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let it = self.0.take();
        let mut m = ser.serialize_map(None)?;
        for (k, e) in it.into_iter().flatten() {
            m.serialize_entry(&*k, e)?;
        }
        m.end()
    }
}
