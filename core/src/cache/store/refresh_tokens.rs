//! Refresh tokens: by owner (account, environment, client), by family, by
//! account; and which accounts hold one of a client or of a family.

use super::index::{count, list, list_get, with_ikey, Counts, Id, Lists, Op};
use super::section::{Kind, Section};
use crate::cache::keys;
use crate::cache::schema::RtEntry;

/// The refresh-token indexes.
#[derive(Default)]
pub(crate) struct RtIndex {
    /// (home, environment, client) → tokens.
    owner: Lists,
    /// (home, environment, family) → tokens.
    family: Lists,
    /// (environment, home) → tokens.
    home: Lists,
    /// (environment, client) → homes holding a token of the client.
    homes_client: Counts,
    /// (environment, family) → homes holding a token of the family.
    homes_family: Counts,
}

impl Kind for RtEntry {
    type Index = RtIndex;

    fn key(&self) -> String {
        keys::refresh_token(
            self.home_account_id().unwrap_or(""),
            self.environment().unwrap_or(""),
            self.client_id().unwrap_or(""),
            self.target().unwrap_or(""),
        )
    }

    fn credential(&self) -> Option<&str> {
        self.secret()
    }

    fn update(idx: &mut RtIndex, id: Id, e: &RtEntry, op: Op) {
        let home = e.home_account_id().unwrap_or("");
        let env = e.environment().unwrap_or("");
        let client = e.client_id().unwrap_or("");
        list(op, &mut idx.owner, &[home, env, client], id);
        list(op, &mut idx.home, &[env, home], id);
        count(op, &mut idx.homes_client, &[env, client], home);
        if let Some(f) = e.family_id().filter(|f| !f.is_empty()) {
            list(op, &mut idx.family, &[home, env, f], id);
            count(op, &mut idx.homes_family, &[env, f], home);
        }
    }
}

impl Section<RtEntry> {
    /// Refresh tokens of an account for a client (`family` None) or a family.
    pub fn of(&self, home: &str, env: &str, client: &str, family: Option<&str>) -> &[Id] {
        match family {
            Some(f) => list_get(&self.idx.family, &[home, env, f]),
            None => list_get(&self.idx.owner, &[home, env, client]),
        }
    }

    /// Refresh tokens of an account in an environment (every client).
    pub fn of_home(&self, env: &str, home: &str) -> &[Id] {
        list_get(&self.idx.home, &[env, home])
    }

    /// The newest of `ids` by `last_modification_time`.
    pub fn newest(&self, ids: &[Id]) -> Option<Id> {
        ids.iter()
            .copied()
            .filter_map(|id| Some((self.get(id)?.last_modification_time.unwrap_or(0), id)))
            .max()
            .map(|(_, id)| id)
    }

    /// Whether the account (folded home account id) holds a refresh token
    /// of the client, or of the family.
    pub fn home_has(&self, env: &str, client: &str, family: Option<&str>, home: &str) -> bool {
        let has = |map: &Counts, owner: &str| {
            with_ikey(&[env, owner], |k| map.get(k)).is_some_and(|m| m.contains_key(home))
        };
        has(&self.idx.homes_client, client)
            || family.is_some_and(|f| has(&self.idx.homes_family, f))
    }

    /// Home account ids (folded) holding a refresh token of the client, or of the family.
    pub fn homes(&self, env: &str, client: &str, family: Option<&str>) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        if let Some(m) = with_ikey(&[env, client], |k| self.idx.homes_client.get(k)) {
            out.extend(m.keys().map(|k| &**k));
        }
        let of_family = family.and_then(|f| with_ikey(&[env, f], |k| self.idx.homes_family.get(k)));
        if let Some(m) = of_family {
            out.extend(m.keys().map(|k| &**k));
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}
