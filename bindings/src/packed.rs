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
            /// [`pack_accounts`] into one buffer.
            pub fn get_accounts_packed(
                &self,
                username: Option<String>,
            ) -> Result<Vec<u8>, AuthError> {
                guard(|| {
                    let accounts = self.core().get_accounts(username.as_deref())?;
                    Ok(pack_accounts(&accounts))
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
pub(crate) fn pack_accounts(accounts: &[idflow::Account]) -> Vec<u8> {
    fn field(out: &mut Vec<u8>, value: &str) {
        // A field longer than 4 GiB cannot come out of a cache this process loaded.
        let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&value.as_bytes()[..len as usize]);
    }
    let size: usize = accounts
        .iter()
        .map(|a| {
            20 + a.home_account_id.len()
                + a.environment.len()
                + a.realm.len()
                + a.username.len()
                + a.local_account_id.len()
        })
        .sum();
    let mut out = Vec::with_capacity(4 + size);
    let count = u32::try_from(accounts.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&count.to_be_bytes());
    for a in accounts.iter().take(count as usize) {
        field(&mut out, &a.home_account_id);
        field(&mut out, &a.environment);
        field(&mut out, &a.realm);
        field(&mut out, &a.username);
        field(&mut out, &a.local_account_id);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::pack_accounts;

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
