//! The document's own reader against serde_json: whatever it reads, it reads
//! as serde_json does (the same entries, keys, extra members and top-level
//! members, in the same order); whatever it does not take, it leaves whole
//! to serde_json. Documents are generated with every shape the schema
//! allows (escapes, raw UTF-8, values of other JSON types, unknown and
//! repeated members, white space anywhere), then broken byte by byte.

use super::accounts::xorshift;
use super::load::users_document;
use super::*;
use crate::cache::document_reader::{Text, Unusual};
use crate::cache::store::Store;

/// What a store holds, as the reference compares it: its document and
/// its number of entries; or the error's text.
fn outcome(r: Result<Store, serde_json::Error>) -> Result<(String, usize), String> {
    r.map(|s| (s.to_json(), s.entries()))
        .map_err(|e| e.to_string())
}

/// Whether the reader took `b` (as bytes, and as text when it is UTF-8);
/// when it did, it read what serde_json reads. The public entry points
/// give serde_json's answer either way.
fn check(b: &[u8]) -> bool {
    let reference = outcome(Store::parse_serde(serde_json::Deserializer::from_slice(b)));
    let took = match Store::read(Text::Utf8(b)) {
        Ok(s) => {
            assert_eq!(Ok((s.to_json(), s.entries())), reference, "{}", show(b));
            true
        }
        Err(Unusual) => false,
    };
    assert_eq!(outcome(Store::parse_utf8(b)), reference, "{}", show(b));
    if let Ok(t) = std::str::from_utf8(b) {
        let as_text = Store::read(Text::Str(t));
        assert_eq!(as_text.is_ok(), took, "{t}");
        if let Ok(s) = as_text {
            assert_eq!(Ok((s.to_json(), s.entries())), reference, "{t}");
        }
        assert_eq!(outcome(Store::parse(t)), reference, "{t}");
    }
    took
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Random documents of the cache's schema, written by hand so that white
/// space and escapes fall anywhere.
struct Gen<F: FnMut(u64) -> u64> {
    next: F,
    keys: Vec<String>,
}

const NAMES: [&str; 20] = [
    "credential_type",
    "secret",
    "home_account_id",
    "environment",
    "client_id",
    "realm",
    "target",
    "token_type",
    "cached_at",
    "expires_on",
    "extended_expires_on",
    "refresh_on",
    "family_id",
    "local_account_id",
    "username",
    "authority_type",
    "last_modification_time",
    "idflow_requested_target",
    "x_unknown",
    "",
];

impl<F: FnMut(u64) -> u64> Gen<F> {
    fn pick(&mut self, n: u64) -> u64 {
        (self.next)(n)
    }

    fn space(&mut self, out: &mut String) {
        if self.pick(4) == 0 {
            out.push_str([" ", "\n    ", "\t", "\r\n", "  "][self.pick(5) as usize]);
        }
    }

    /// Text for a string: plain ASCII runs of every length (so a string's
    /// end falls at every place of a word and a block), raw UTF-8, and
    /// characters that must be escaped.
    fn text(&mut self) -> String {
        let mut s = String::new();
        for _ in 0..self.pick(4) {
            match self.pick(10) {
                0 => s.push('"'),
                1 => s.push('\\'),
                2 => s.push(char::from(self.pick(0x20) as u8)),
                3 => s.push_str(["é", "日本", "😀", "\u{7f}", "/"][self.pick(5) as usize]),
                _ => {
                    let n = if self.pick(16) == 0 { 400 } else { 70 };
                    for _ in 0..self.pick(n) {
                        s.push(char::from(b'0' + self.pick(43) as u8));
                    }
                }
            }
        }
        s
    }

    /// `s` as a JSON string, ASCII sometimes escaped too (`\u0041`, `\/`).
    fn string(&mut self, out: &mut String, s: &str) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                '/' if self.pick(2) == 0 => out.push_str("\\/"),
                c if self.pick(60) == 0 => {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{u:04X}"));
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }

    /// A value of any JSON type, nested up to `depth`.
    fn value(&mut self, out: &mut String, depth: u32) {
        match self.pick(if depth == 0 { 6 } else { 8 }) {
            0 => out.push_str(["null", "true", "false"][self.pick(3) as usize]),
            1 => out.push_str(
                ["0", "-12", "1700000000", "3.5", "1e3", "-0.25E-2"][self.pick(6) as usize],
            ),
            2 | 3 => {
                let t = [
                    "1700000000",
                    "0017",
                    "1700000000.5",
                    "",
                    "99999999999999999999",
                ][self.pick(5) as usize]
                    .to_owned();
                self.string(out, &t);
            }
            4 | 5 => {
                let t = self.text();
                self.string(out, &t);
            }
            6 => {
                out.push('[');
                for i in 0..self.pick(3) {
                    if i > 0 {
                        out.push(',');
                    }
                    self.space(out);
                    self.value(out, depth - 1);
                }
                out.push(']');
            }
            _ => {
                out.push('{');
                for i in 0..self.pick(3) {
                    if i > 0 {
                        out.push(',');
                    }
                    let k = self.text();
                    self.string(out, &k);
                    out.push(':');
                    self.space(out);
                    self.value(out, depth - 1);
                }
                out.push('}');
            }
        }
    }

    fn entry(&mut self, out: &mut String) {
        let key = match self.keys.len() {
            n if n > 0 && self.pick(8) == 0 => {
                let i = self.pick(n as u64) as usize;
                self.keys[i].clone()
            }
            _ => self.text(),
        };
        self.keys.push(key.clone());
        self.string(out, &key);
        self.space(out);
        out.push(':');
        self.space(out);
        out.push('{');
        for i in 0..self.pick(9) {
            if i > 0 {
                out.push(',');
            }
            self.space(out);
            let name = NAMES[self.pick(NAMES.len() as u64) as usize];
            self.string(out, name);
            out.push(':');
            self.space(out);
            if self.pick(3) == 0 {
                self.value(out, 2);
            } else {
                let t = self.text();
                self.string(out, &t);
            }
        }
        self.space(out);
        out.push('}');
    }

    fn document(&mut self) -> String {
        let mut out = String::new();
        self.space(&mut out);
        out.push('{');
        let mut members = vec![
            "AccessToken",
            "RefreshToken",
            "IdToken",
            "Account",
            "AppMetadata",
        ];
        members.retain(|_| self.pick(5) > 0);
        for _ in 0..self.pick(3) {
            let at = self.pick(members.len() as u64 + 1) as usize;
            members.insert(at, ["x_top", "version", ""][self.pick(3) as usize]);
        }
        for (i, name) in members.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            self.space(&mut out);
            self.string(&mut out, name);
            out.push(':');
            self.space(&mut out);
            if name.chars().next().is_some_and(char::is_uppercase) {
                out.push('{');
                for j in 0..self.pick(5) {
                    if j > 0 {
                        out.push(',');
                    }
                    self.space(&mut out);
                    self.entry(&mut out);
                }
                self.space(&mut out);
                out.push('}');
            } else {
                self.value(&mut out, 3);
            }
        }
        self.space(&mut out);
        out.push('}');
        self.space(&mut out);
        out
    }

    /// `doc` broken once: cut short, a byte dropped, doubled, or replaced by
    /// one that matters to JSON or to UTF-8.
    fn broken(&mut self, doc: &str) -> Vec<u8> {
        let mut b = doc.as_bytes().to_vec();
        if b.is_empty() {
            return b;
        }
        let at = self.pick(b.len() as u64) as usize;
        const BYTES: &[u8] = b"\"\\{}[],: \n0a-\x01\x7f\xff\xc3\xa9\xe6";
        match self.pick(4) {
            0 => b.truncate(at),
            1 => {
                b.remove(at);
            }
            2 => b.insert(at, b[at]),
            _ => b[at] = BYTES[self.pick(BYTES.len() as u64) as usize],
        }
        b
    }
}

#[test]
fn every_generated_document_is_read_as_serde_json_reads_it() {
    let mut g = Gen {
        next: xorshift(0x2545_f491_4f6c_dd1d),
        keys: Vec::new(),
    };
    let (mut whole, mut broken_taken, mut broken_left) = (0, 0, 0);
    for _ in 0..400 {
        g.keys.clear();
        let doc = g.document();
        // A whole document is valid JSON of the schema: the reader's.
        assert!(check(doc.as_bytes()), "{doc}");
        whole += 1;
        for _ in 0..8 {
            if check(&g.broken(&doc)) {
                broken_taken += 1;
            } else {
                broken_left += 1;
            }
        }
    }
    // The generator reaches both sides of the reader.
    assert_eq!(whole, 400);
    assert!(broken_taken > 1_200, "{broken_taken}");
    assert!(broken_left > 1_200, "{broken_left}");
}

#[test]
fn a_big_document_is_read_by_the_reader_on_the_builders_threads() {
    let text = users_document(store::LOAD_THREADED * 2 + 100).to_string();
    assert!(check(text.as_bytes()));
}

#[test]
fn what_the_reader_leaves_to_serde_json() {
    let fine = r#"{"AccessToken":{"k":{"secret":"s"}}}"#;
    assert!(check(fine.as_bytes()));
    for doc in [
        // Not JSON, or not a cache.
        r#"{"AccessToken":{"k":{"secret":"s"}},}"#,
        r#"{"AccessToken":{"k":{"secret":"s",}}}"#,
        r#"{"AccessToken":{"k":["secret"]}}"#,
        r#"{"AccessToken":[]}"#,
        r#"{"AccessToken":{},"AccessToken":{}}"#,
        "{\"AccessToken\":{\"k\":{\"secret\":\"a\tb\"}}}",
        r#"{"AccessToken":{"k":{"secret":"s"}}} x"#,
        r#"{"AccessToken":{"k":{"secret":"s"}}"#,
        r#"{"AccessToken":{"k":{"secret":"s}}}"#,
        r#"{"AccessToken":{"k":{"secret":1x}}}"#,
        r#"{"x":1e400}"#,
        "\u{feff}{}",
        "[]",
    ] {
        assert!(!check(doc.as_bytes()), "{doc}");
    }
    // Nesting: serde_json's limit counts from the document's root, so a
    // value nested just under it inside an entry is refused by serde_json
    // (the reader leaves it, and the error is serde_json's), and one far
    // under it is the reader's.
    let nested = |depth: usize| {
        format!(
            r#"{{"AccessToken":{{"k":{{"x":{}1{}}}}}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        )
    };
    for depth in [124, 125, 126] {
        let doc = nested(depth);
        let serde = Store::parse_serde(serde_json::Deserializer::from_str(&doc));
        assert_eq!(serde.is_ok(), depth <= 124, "{depth}");
        assert!(!check(doc.as_bytes()), "{depth}");
    }
    assert!(check(nested(100).as_bytes()));
    assert!(!check(nested(101).as_bytes()));
    // Bytes that are not UTF-8 inside an entry, a key and a top-level name.
    for bad in [
        &b"{\"AccessToken\":{\"k\":{\"secret\":\"\xff\"}}}"[..],
        b"{\"AccessToken\":{\"\xc3\":{}}}",
        b"{\"x\xe6\":1}",
    ] {
        assert!(!check(bad), "{}", show(bad));
    }
}

#[test]
fn escapes_and_other_types_are_read_member_by_member() {
    // Each of these is the reader's: it hands only the one member to
    // serde_json, and keeps the rest of the entry borrowed.
    for doc in [
        r#"{"AccessToken":{"k\"ey":{"secret":"a\"b","realm":"\u00e9","target":null}}}"#,
        r#"{"Account":{"k":{"username":"\ud83d\ude00","x":{"a":[1,{"b":"\/"}]},"realm":7}}}"#,
        r#"{"RefreshToken":{"k":{"last_modification_time":"0017","secret":"s","secret":5}}}"#,
        r#"{"x_top":[1,"two",{"\u0041":null}],"IdToken":{},"version":-1.5e-3}"#,
        "{\"AccessToken\":{\"k\":{\"username\":\"日本 é 😀\"}}}",
        " \r\n\t{ \"AppMetadata\" : { \"k\" : { \"client_id\" : \"c\" } } } \n",
        "{}",
        // The fuzzer's seed of this shape (msal Python's indentation).
        include_str!("../../../../fuzz/seeds/cache_deserialize/escapes_and_other_types.json"),
    ] {
        assert!(check(doc.as_bytes()), "{doc}");
    }
}
