//! Whole-cache answers as one string, for language layers whose every record
//! or string crossing the boundary costs more than the core's work (Kotlin
//! over JNA): the accounts packed into one text that the language layer
//! decodes lazily. A `String` crosses as its own buffer; a `Vec<u8>` would be
//! copied byte by byte on its way out (uniffi writes a sequence element by
//! element: ≈ 30 ms for 100k accounts' 21 MB). (The serialized cache's bytes
//! are written in place: `fill.rs`.)

use crate::clients::{ConfidentialClientApplication, PublicClientApplication};
use crate::guard::guard;
use crate::types::AuthError;
use idflow::{AccountsView, ViewStep};
use std::sync::{Arc, Mutex};

/// `get_accounts_packed` on each kind of app (uniffi objects cannot share an
/// impl, so one macro writes it onto each).
macro_rules! packed_accounts {
    ($app:ty) => {
        #[uniffi::export]
        impl $app {
            /// The accounts `get_accounts` returns, packed by
            /// [`AccountPacker`] into one text as the core lists them
            /// (no string allocated per account).
            pub fn get_accounts_packed(
                &self,
                username: Option<String>,
            ) -> Result<String, AuthError> {
                guard(|| {
                    let mut packed = AccountPacker::default();
                    self.core()
                        .for_each_account(username.as_deref(), |a| packed.push(a))?;
                    Ok(packed.finish())
                })
            }

            /// What changed in the account list (every account, as
            /// `get_accounts` lists them) since `cursor` last answered,
            /// packed by [`StepPacker`]: after a sign-in, the one account
            /// added instead of the whole list. The caller applies every
            /// answer to its copy in turn; one it could not apply means a
            /// new cursor (whose first answer is the whole list).
            pub fn get_accounts_update(
                &self,
                cursor: Arc<AccountsCursor>,
            ) -> Result<String, AuthError> {
                guard(|| {
                    let mut packed = StepPacker::default();
                    cursor.update(|view| {
                        self.core()
                            .update_accounts_view(view, |step| packed.push(step))
                    })?;
                    Ok(packed.finish())
                })
            }
        }
    };
}

/// The account list a language layer holds between calls of
/// `get_accounts_update` (one per list it keeps), as the core last reported
/// it to that layer.
#[derive(Debug, Default, uniffi::Object)]
pub struct AccountsCursor {
    view: Mutex<AccountsView>,
}

impl AccountsCursor {
    /// Runs `f` on the view. A panic in an earlier update left it unknown:
    /// it starts over (the next answer is the whole list).
    pub(crate) fn update<T>(&self, f: impl FnOnce(&mut AccountsView) -> T) -> T {
        let mut view = self.view.lock().unwrap_or_else(|poisoned| {
            let mut view = poisoned.into_inner();
            *view = AccountsView::default();
            view
        });
        f(&mut view)
    }
}

#[uniffi::export]
impl AccountsCursor {
    /// A cursor that has reported nothing yet: its first update is the whole list.
    #[uniffi::constructor]
    pub fn new() -> Arc<Self> {
        Arc::default()
    }
}

packed_accounts!(PublicClientApplication);
packed_accounts!(ConfidentialClientApplication);

/// The accounts as one text: their number and `;`, then per account its
/// `home_account_id`, `environment`, `tenant_id` (the realm), `username` and
/// `local_account_id`, each as its length in UTF-16 code units (what a JVM
/// string's `substring` counts), `:` and the field itself. Each is
/// `AccountInfo`'s field of the same name.
#[derive(Default)]
pub(crate) struct AccountPacker {
    fields: String,
    count: usize,
}

impl AccountPacker {
    pub(crate) fn push(&mut self, a: idflow::AccountRef<'_>) {
        self.count += 1;
        push_fields(&mut self.fields, a);
    }

    pub(crate) fn finish(self) -> String {
        let mut out = String::with_capacity(self.fields.len() + 21);
        push_decimal(&mut out, self.count);
        out.push(';');
        out.push_str(&self.fields);
        out
    }
}

/// An update of an account list as one text: either `W` and the whole
/// list as [`AccountPacker`] packs it, or `S`, the number of steps and `;`,
/// then each step applied in turn to the list the caller holds: `-`, an
/// index and `;` removes the account there; `+`, an index and `;` inserts
/// the account whose five fields follow (as [`AccountPacker`] writes them)
/// at that index. Indexes never decrease from one step to the next.
#[derive(Default)]
pub(crate) struct StepPacker {
    whole: Option<AccountPacker>,
    steps: String,
    count: usize,
}

impl StepPacker {
    pub(crate) fn push(&mut self, step: ViewStep<'_>) {
        match (step, &mut self.whole) {
            (ViewStep::Reset, _) => self.whole = Some(AccountPacker::default()),
            (ViewStep::Insert(_, a), Some(whole)) => whole.push(a),
            (ViewStep::Insert(at, a), None) => {
                self.count += 1;
                self.steps.push('+');
                push_decimal(&mut self.steps, at);
                self.steps.push(';');
                push_fields(&mut self.steps, a);
            }
            (ViewStep::Remove(at), _) => {
                self.count += 1;
                self.steps.push('-');
                push_decimal(&mut self.steps, at);
                self.steps.push(';');
            }
        }
    }

    pub(crate) fn finish(self) -> String {
        match self.whole {
            Some(whole) => {
                // `W` and what `AccountPacker::finish` writes, in one copy.
                let mut out = String::with_capacity(whole.fields.len() + 22);
                out.push('W');
                push_decimal(&mut out, whole.count);
                out.push(';');
                out.push_str(&whole.fields);
                out
            }
            None => {
                let mut out = String::with_capacity(self.steps.len() + 22);
                out.push('S');
                push_decimal(&mut out, self.count);
                out.push(';');
                out.push_str(&self.steps);
                out
            }
        }
    }
}

/// An account's five fields, each as its length in UTF-16 code units, `:`
/// and the field.
fn push_fields(out: &mut String, a: idflow::AccountRef<'_>) {
    for value in [
        a.home_account_id,
        a.environment,
        a.realm,
        a.username,
        a.local_account_id,
    ] {
        let units = if value.is_ascii() {
            value.len()
        } else {
            value.encode_utf16().count()
        };
        push_decimal(out, units);
        out.push(':');
        out.push_str(value);
    }
}

/// `n` in decimal, without the formatting machinery (a million numbers for
/// 100k accounts).
fn push_decimal(out: &mut String, mut n: usize) {
    let mut digits = [b'0'; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::{AccountPacker, StepPacker};
    use idflow::ViewStep;

    fn pack_accounts(accounts: &[idflow::Account]) -> String {
        let mut p = AccountPacker::default();
        for a in accounts {
            p.push(a.borrowed());
        }
        p.finish()
    }

    /// Reads the text back as a JVM string would (lengths in UTF-16 units).
    fn unpack(text: &str) -> Vec<[String; 5]> {
        let units: Vec<u16> = text.encode_utf16().collect();
        let mut at = 0;
        let number = |at: &mut usize, end: u16| {
            let mut n = 0usize;
            while units[*at] != end {
                n = n * 10 + usize::from(units[*at] - u16::from(b'0'));
                *at += 1;
            }
            *at += 1;
            n
        };
        let count = number(&mut at, u16::from(b';'));
        let mut out = Vec::new();
        for _ in 0..count {
            let mut fields: [String; 5] = Default::default();
            for f in &mut fields {
                let n = number(&mut at, u16::from(b':'));
                *f = String::from_utf16(&units[at..at + n]).unwrap();
                at += n;
            }
            out.push(fields);
        }
        assert_eq!(at, units.len(), "nothing after the last account");
        out
    }

    #[test]
    fn accounts_pack_as_length_prefixed_fields() {
        assert_eq!(pack_accounts(&[]), "0;");
        let a = idflow::Account {
            home_account_id: "u.t".into(),
            environment: "login.example".into(),
            realm: "t".into(),
            username: "Ann \u{e9} \u{1F600}: 12:".into(),
            local_account_id: String::new(),
        };
        let b = idflow::Account {
            username: "b".into(),
            ..a.clone()
        };
        let packed = pack_accounts(&[a, b]);
        assert!(packed.starts_with("2;3:u.t13:login.example1:t"));
        assert_eq!(
            unpack(&packed),
            vec![
                ["u.t", "login.example", "t", "Ann \u{e9} \u{1F600}: 12:", ""].map(String::from),
                ["u.t", "login.example", "t", "b", ""].map(String::from),
            ]
        );
        let many: Vec<_> = (0..12)
            .map(|n| idflow::Account {
                home_account_id: format!("h{n}"),
                environment: String::new(),
                realm: "r".repeat(n),
                username: "x".repeat(n * 7),
                local_account_id: "\u{7530}".repeat(n),
            })
            .collect();
        assert_eq!(unpack(&pack_accounts(&many)).len(), 12);
        assert!(pack_accounts(&many).starts_with("12;"));
    }

    /// Steps pack as `S`, their count, then `-i;` or `+i;` and the fields;
    /// a reset makes the answer the whole list, `W` and the packed accounts.
    #[test]
    fn steps_and_whole_lists() {
        let a = idflow::Account {
            home_account_id: "u.t".into(),
            environment: "e".into(),
            realm: "t".into(),
            username: "\u{1F600}".into(),
            local_account_id: "l".into(),
        };
        let mut steps = StepPacker::default();
        steps.push(ViewStep::Remove(3));
        steps.push(ViewStep::Insert(3, a.borrowed()));
        steps.push(ViewStep::Remove(17));
        assert_eq!(steps.finish(), "S3;-3;+3;3:u.t1:e1:t2:\u{1F600}1:l-17;");
        assert_eq!(StepPacker::default().finish(), "S0;");

        let mut whole = StepPacker::default();
        whole.push(ViewStep::Reset);
        whole.push(ViewStep::Insert(0, a.borrowed()));
        whole.push(ViewStep::Insert(1, a.borrowed()));
        let text = whole.finish();
        assert_eq!(
            text.strip_prefix('W'),
            Some(pack_accounts(&[a.clone(), a]).as_str())
        );
    }
}
