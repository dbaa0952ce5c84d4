//! The hand-written document writer against serde_json: the same bytes for
//! every kind of content.

use super::*;
use crate::cache::document::parse;
use crate::cache::json_text::{is_plain, push_string};
use crate::cache::schema::AtEntry;
use crate::cache::store::Store;

/// The writer's output for `store` equals `serde_json::to_string` of it,
/// and writing into a fixed buffer gives the same bytes when they fit
/// (with the right ASCII flag), and nothing when they do not.
fn assert_same(store: &Store) {
    let want = serde_json::to_string(store).unwrap();
    assert_eq!(store.to_json(), want);
    let len = want.len();
    let hint = store.json_len_hint();
    if !want.contains('\\') {
        // Nothing escaped: the hint is exact but for numbers of extra
        // members, counted at their longest.
        assert!(hint >= len, "{hint} < {len}");
    }
    for size in [len, len + 1, hint.max(len), len + 64] {
        let mut buf = vec![b'#'; size];
        let got = store.write_json_into(&mut buf, None);
        assert_eq!(got, Some((len, want.is_ascii())), "size {size} of {len}");
        assert_eq!(&buf[..len], want.as_bytes());
        assert!(buf[len..].iter().all(|&b| b == b'#'), "wrote past the end");
    }
    // Every cut the two-thread writer can make joins into the same bytes;
    // it gives up (and one thread writes it all) only when the first part
    // is not exactly its counted length, which needs an escaped string or a
    // number counted at its longest.
    let exact = hint == len && !want.contains('\\');
    let (counted, cuts) = store.cuts(1);
    assert_eq!(counted, hint);
    for &(cut, mid) in &cuts {
        let mut buf = vec![b'#'; hint.max(len) + 1];
        match store.write_halves_into(&mut buf, cut, mid) {
            Some(got) => {
                assert_eq!(got, (len, want.is_ascii()), "{cut:?}");
                assert_eq!(&buf[..len], want.as_bytes(), "{cut:?}");
            }
            None => assert!(!exact, "{cut:?} at {mid} of an exactly counted document"),
        }
        // A cut placed wrong (a stale layout) joins only where the first
        // part's text really ends (an escape makes it longer than counted),
        // and then into the same bytes.
        for wrong in [mid - 1, mid + 1] {
            let mut buf = vec![b'#'; hint.max(len) + 1];
            match store.write_halves_into(&mut buf, cut, wrong) {
                None => {}
                Some(got) => {
                    assert!(!exact, "{cut:?} joined at {wrong}, counted {mid}");
                    assert_eq!(got, (len, want.is_ascii()), "{cut:?} at {wrong}");
                    assert_eq!(&buf[..len], want.as_bytes(), "{cut:?} at {wrong}");
                }
            }
        }
    }
    for size in [0, len / 2, len.saturating_sub(1)] {
        if size < len {
            let mut buf = vec![b'#'; size];
            assert_eq!(
                store.write_json_into(&mut buf, None),
                None,
                "size {size} of {len}"
            );
        }
    }
}

fn assert_same_doc(doc: &str) {
    assert_same(&parse(doc).unwrap());
}

/// A deterministic generator (xorshift64*): the same cases on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A string mixing every class of character the escaping treats
    /// differently: plain ASCII, `"`, `\`, each control character, DEL,
    /// `/`, and 2-, 3- and 4-byte UTF-8, with long clean runs among them so
    /// escapes fall at every position of an 8-byte word.
    /// A string of printable ASCII but `"` and `\\`: plain text, as a
    /// token's.
    fn plain(&mut self, max: u64) -> String {
        let len = self.below(max + 1);
        (0..len)
            .map(|_| match char::from(b' ' + self.below(95) as u8) {
                '"' | '\\' => 'x',
                c => c,
            })
            .collect()
    }

    fn string(&mut self, max: u64) -> String {
        let len = self.below(max + 1);
        let mut s = String::new();
        for _ in 0..len {
            let c = match self.below(12) {
                0 => '"',
                1 => '\\',
                2 => char::from(self.below(0x20) as u8),
                3 => '\u{7f}',
                4 => '/',
                5 => 'é',
                6 => '€',
                7 => '😀',
                8 => {
                    for _ in 0..self.below(20) {
                        s.push('A');
                    }
                    'b'
                }
                _ => char::from(b' ' + self.below(95) as u8),
            };
            s.push(c);
        }
        s
    }
}

#[test]
fn strings_are_escaped_as_serde_json_escapes_them() {
    let mut cases: Vec<String> = vec![
        String::new(),
        "plain".into(),
        "\"".into(),
        "\\".into(),
        "a/b\u{7f}".into(),
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl".into(),
        "ünïcödé 日本語 😀 and \"quotes\" \\ \n\t".into(),
    ];
    // Every byte below 0x20 alone, at each position of a word, and
    // next to a multi-byte character.
    for b in 0u8..0x20 {
        for pad in 0..9 {
            cases.push(format!("{}{}é", "x".repeat(pad), char::from(b)));
        }
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        cases.push(rng.string(40));
    }
    for s in &cases {
        let mut out = String::new();
        push_string(&mut out, s);
        assert_eq!(out, serde_json::to_string(s).unwrap(), "{s:?}");
        // Plain text is what is written as it is, and is ASCII.
        let plain = out.len() == s.len() + 2 && s.is_ascii();
        assert_eq!(is_plain(s), plain, "{s:?}");
    }
}

#[test]
fn serialize_into_a_buffer_is_serialize_and_resets_the_flag_only_when_it_fits() {
    let cache = TokenCache::new();
    let doc = json!({
        "AccessToken": {"k": {"credential_type": "AccessToken", "secret": "s",
                              "home_account_id": "h", "environment": "e", "client_id": "c",
                              "realm": "r", "target": "t", "expires_on": "1700003600"}},
        "Account": {"a": {"home_account_id": "h", "environment": "e", "realm": "r",
                          "username": "zoë@example.com"}}
    })
    .to_string();
    cache.deserialize(&doc).unwrap();
    let want = cache.serialize();
    cache.set_state_changed(true);
    let hint = cache.serialized_len_hint();
    assert_eq!(hint, want.len());
    let mut small = vec![0u8; hint - 1];
    assert_eq!(cache.serialize_into(&mut small), None);
    assert!(cache.has_state_changed(), "a failed write is no serialize");
    let mut buf = vec![0u8; hint];
    assert_eq!(cache.serialize_into(&mut buf), Some((want.len(), false)));
    assert_eq!(buf, want.as_bytes());
    assert!(!cache.has_state_changed());
}

#[test]
fn an_empty_cache_and_empty_sections() {
    assert_same(&Store::default());
    assert_same_doc("{}");
    assert_same_doc(r#"{"AccessToken":{},"Account":{"k":{}}}"#);
}

#[test]
fn every_field_every_json_type_and_other_members() {
    let doc = json!({
        "AccessToken": {
            "at-\"quoted\"\\key\n": {
                "credential_type": "AccessToken", "secret": "tok\u{0}en\u{1f}\"\\/",
                "home_account_id": "uid.utid", "environment": "login.microsoftonline.com",
                "client_id": "c", "realm": "", "target": "User.Read  Mail.Read",
                "token_type": "pop", "key_id": "kid", "ext_cache_key": "x",
                "idflow_requested_target": "User.Read",
                "cached_at": "0", "expires_on": "18446744073709551615",
                "extended_expires_on": "1700000000", "refresh_on": "1700001800",
                "null": null, "t": true, "f": false, "int": -42, "big": 18446744073709551615u64,
                "float": 1.5e-7, "str": "é\u{7f}\u{8}\u{c}", "arr": [1, "two", null, [], {}],
                "obj": {"nested": {"deep": [true, -0.0, "x\u{1}"]}}, "": ""
            },
            "k2": {"secret": "s", "expires_on": 1700003600, "cached_at": "0017",
                   "refresh_on": "1.5", "target": null}
        },
        "RefreshToken": {
            "rt": {"credential_type": "RefreshToken", "secret": "r", "home_account_id": "h",
                   "environment": "e", "client_id": "c", "target": "t", "family_id": "1",
                   "last_modification_time": "1700000000"}
        },
        "IdToken": {
            "idt": {"credential_type": "IdToken", "secret": "a.b.c", "home_account_id": "h",
                    "environment": "e", "realm": "r", "client_id": "c"}
        },
        "Account": {
            "acct": {"home_account_id": "h", "environment": "e", "realm": "r",
                     "local_account_id": "l", "username": "ü@example.com",
                     "authority_type": "MSSTS", "account_source": "device_code"}
        },
        "AppMetadata": {"m": {"client_id": "c", "environment": "e", "family_id": ""}},
        "Other\u{1}": {"a": [1, 2.25, "x"]},
        "n": null,
        "s": "\"top\""
    });
    assert_same_doc(&doc.to_string());
}

/// A document of `n` entries spread over the five sections, with random
/// keys, strings and extra members.
fn random_doc(rng: &mut Rng, n: usize) -> String {
    random_doc_of(rng, n, Rng::string, true)
}

/// [`random_doc`] with strings from `string`, and extra members that hold
/// a number or not (numbers are counted at their longest by the length
/// hint, so only a document without them is counted exactly).
fn random_doc_of(
    rng: &mut Rng,
    n: usize,
    string: fn(&mut Rng, u64) -> String,
    numbers: bool,
) -> String {
    let sections = [
        (
            "AccessToken",
            &["secret", "target", "realm", "client_id"][..],
        ),
        (
            "RefreshToken",
            &["secret", "family_id", "home_account_id"][..],
        ),
        ("IdToken", &["secret", "realm"][..]),
        ("Account", &["username", "local_account_id"][..]),
        ("AppMetadata", &["client_id", "family_id"][..]),
    ];
    let mut doc = serde_json::Map::new();
    for (name, _) in sections {
        doc.insert(name.into(), json!({}));
    }
    for i in 0..n {
        let (name, fields) = sections[rng.below(5) as usize];
        let mut e = serde_json::Map::new();
        for f in fields {
            if rng.below(4) > 0 {
                e.insert((*f).into(), Value::String(string(rng, 30)));
            }
        }
        if name == "AccessToken" && rng.below(2) == 0 {
            e.insert("expires_on".into(), json!((1_700_000_000 + i).to_string()));
        }
        if rng.below(5) == 0 {
            let number = if numbers {
                json!(rng.next())
            } else {
                json!(true)
            };
            e.insert(string(rng, 8), json!([number, string(rng, 6), null]));
        }
        let key = format!("{i}-{}", string(rng, 12));
        doc[name][&key] = Value::Object(e);
    }
    if rng.below(2) == 0 {
        doc.insert(string(rng, 6), Value::String(string(rng, 10)));
    }
    Value::Object(doc).to_string()
}

#[test]
fn random_documents() {
    let mut rng = Rng(42);
    for round in 0..300 {
        let doc = random_doc(&mut rng, round % 40);
        assert_same_doc(&doc);
    }
}

#[test]
fn random_documents_of_plain_text() {
    let mut rng = Rng(43);
    for round in 0..100 {
        let doc = random_doc_of(&mut rng, round % 40, Rng::plain, round % 2 == 0);
        assert_same_doc(&doc);
    }
}

#[test]
fn entries_removed_from_the_middle_leave_no_trace() {
    let mut rng = Rng(7);
    let mut store = parse(&random_doc(&mut rng, 200)).unwrap();
    let ids: Vec<_> = store.at.iter().map(|(id, _, _)| id).collect();
    for id in ids.into_iter().step_by(3) {
        store.remove::<AtEntry>(id);
    }
    assert_same(&store);
    let ids: Vec<_> = store.at.iter().map(|(id, _, _)| id).collect();
    for id in ids {
        store.remove::<AtEntry>(id);
    }
    assert_same(&store);
}

/// A document big enough to be written by two threads, into a buffer of
/// the hinted size through the public `serialize_into`: the same bytes as
/// `serialize`; and one whose strings need escaping (the parts do not join)
/// the ordinary way: nothing, as from one thread.
#[test]
fn a_large_cache_into_a_buffer_from_two_threads() {
    let doc = random_doc_of(&mut Rng(2025), 16_000, |rng, _| rng.plain(200), false);
    let cache = TokenCache::new();
    cache.deserialize(&doc).unwrap();
    let want = cache.serialize();
    let hint = cache.serialized_len_hint();
    assert!(hint >= 4 << 20, "{hint} bytes: too small for two threads");
    assert_eq!(hint, want.len());
    let mut buf = vec![0u8; hint];
    assert_eq!(cache.serialize_into(&mut buf), Some((want.len(), true)));
    assert!(buf == want.as_bytes(), "not the document");

    // The first secret of the text (in the first part) now needs escaping.
    let doc = doc.replacen(r#""secret":""#, r#""secret":"\""#, 1);
    cache.deserialize(&doc).unwrap();
    let want = cache.serialize();
    let hint = cache.serialized_len_hint();
    let mut buf = vec![0u8; want.len() - 1];
    assert_eq!(cache.serialize_into(&mut buf), None);
    let mut buf = vec![0u8; hint.max(want.len())];
    assert_eq!(cache.serialize_into(&mut buf), Some((want.len(), true)));
    assert!(buf[..want.len()] == *want.as_bytes(), "not the document");
}

/// A large cache, through the public `serialize`.
#[test]
fn a_large_cache_through_serialize() {
    let doc = random_doc(&mut Rng(2024), 20_000);
    let reference = serde_json::to_string(&parse(&doc).unwrap()).unwrap();
    let cache = TokenCache::new();
    cache.deserialize(&doc).unwrap();
    assert_eq!(cache.serialize(), reference);
}

/// Without numbers (counted at their longest) and escapes the hint is the
/// length: extra members' arrays and objects included, whose last element
/// has no comma after it.
#[test]
fn the_length_hint_is_exact_for_plain_text_without_numbers() {
    let mut rng = Rng(5);
    for round in 0..200 {
        let doc = random_doc_of(&mut rng, round % 8, Rng::plain, false);
        let store = parse(&doc).unwrap();
        let want = serde_json::to_string(&store).unwrap();
        assert_eq!(store.json_len_hint(), want.len(), "{want}");
    }
    let doc =
        r#"{"Account":{"k":{"x":[[],{},[true,false,null,"s"],{"a":{"b":[]}}]}},"o":{"p":[1.5]}}"#;
    let store = parse(doc).unwrap();
    let want = serde_json::to_string(&store).unwrap();
    assert_eq!(
        store.json_len_hint(),
        want.len() - 3 + 24,
        "the number alone counted long"
    );
}
