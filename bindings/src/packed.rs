//! Whole-cache answers as one byte buffer, for language layers whose every
//! record or string crossing the boundary costs more than the core's work
//! (Kotlin over JNA): the accounts packed into one buffer that the language
//! layer decodes lazily. (The serialized cache's bytes are written in place:
//! `fill.rs`.)

use crate::clients::{ConfidentialClientApplication, PublicClientApplication};
use crate::guard::guard;
use crate::types::AuthError;

/// `get_accounts_packed` on each kind of app (uniffi objects cannot share an
/// impl, so one macro writes it onto each).
macro_rules! packed_accounts {
    ($app:ty) => {
        #[uniffi::export]
        impl $app {
            /// The accounts `get_accounts` returns, packed by
            /// [`AccountPacker`] into one buffer as the core lists them
            /// (no string allocated per account).
            pub fn get_accounts_packed(
                &self,
                username: Option<String>,
            ) -> Result<Vec<u8>, AuthError> {
                guard(|| {
                    let mut packed = AccountPacker::default();
                    self.core()
                        .for_each_account(username.as_deref(), |a| packed.push(a))?;
                    Ok(packed.finish())
                })
            }
        }
    };
}

packed_accounts!(PublicClientApplication);
packed_accounts!(ConfidentialClientApplication);

/// The accounts as one buffer: their number, then per account its
/// `home_account_id`, `environment`, `tenant_id` (the realm), `username` and
/// `local_account_id`, each a big-endian `u32` byte length and that many
/// bytes of UTF-8. Each is `AccountInfo`'s field of the same name.
pub(crate) struct AccountPacker {
    out: Vec<u8>,
    count: u32,
}

impl Default for AccountPacker {
    fn default() -> Self {
        // The count goes first, written by `finish`.
        AccountPacker {
            out: vec![0; 4],
            count: 0,
        }
    }
}

impl AccountPacker {
    pub(crate) fn push(&mut self, a: idflow::AccountRef<'_>) {
        // More than 4 billion accounts cannot come out of a cache this
        // process loaded; the count would not say them.
        let Some(count) = self.count.checked_add(1) else {
            return;
        };
        self.count = count;
        for value in [
            a.home_account_id,
            a.environment,
            a.realm,
            a.username,
            a.local_account_id,
        ] {
            // Nor can a field longer than 4 GiB.
            let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
            self.out.extend_from_slice(&len.to_be_bytes());
            self.out
                .extend_from_slice(&value.as_bytes()[..len as usize]);
        }
    }

    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.out[..4].copy_from_slice(&self.count.to_be_bytes());
        self.out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::AccountPacker;

    fn pack_accounts(accounts: &[idflow::Account]) -> Vec<u8> {
        let mut p = AccountPacker::default();
        for a in accounts {
            p.push(a.borrowed());
        }
        p.finish()
    }

    fn unpack(bytes: &[u8]) -> Vec<[String; 5]> {
        let mut at = 0;
        let mut take = |n: usize| {
            let s = &bytes[at..at + n];
            at += n;
            s.to_vec()
        };
        let len = |b: Vec<u8>| u32::from_be_bytes(b.try_into().unwrap()) as usize;
        let count = len(take(4));
        (0..count)
            .map(|_| {
                std::array::from_fn(|_| {
                    let n = len(take(4));
                    String::from_utf8(take(n)).unwrap()
                })
            })
            .collect()
    }

    #[test]
    fn accounts_pack_as_length_prefixed_fields() {
        assert_eq!(pack_accounts(&[]), vec![0, 0, 0, 0]);
        let a = idflow::Account {
            home_account_id: "u.t".into(),
            environment: "login.example".into(),
            realm: "t".into(),
            username: "Ann \u{e9}".into(),
            local_account_id: String::new(),
        };
        let b = idflow::Account {
            username: "b".into(),
            ..a.clone()
        };
        let packed = pack_accounts(&[a, b]);
        assert_eq!(
            unpack(&packed),
            vec![
                ["u.t", "login.example", "t", "Ann \u{e9}", ""].map(String::from),
                ["u.t", "login.example", "t", "b", ""].map(String::from),
            ]
        );
    }
}
