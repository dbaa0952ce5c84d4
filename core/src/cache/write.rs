//! Writing: what a token answer saves, the app's family, and the removals
//! of signing out and of a rejected refresh token.

use super::schema::{
    AcctEntry, AcctFields, AtEntry, AtFields, IdtEntry, IdtFields, MetaEntry, MetaFields, RtEntry,
    RtFields,
};
use super::{scopes, secs, RefreshTokenQuery, SaveRequest, TokenCache};
use crate::protocol::token::Account;
use crate::secret::RefreshToken;

impl TokenCache {
    /// Writes what a token answer produced: the access token, and the
    /// refresh token, id token, account and app metadata as present (the
    /// entries msal Python writes for the same answer, under the same keys).
    /// Then drops expired access tokens and enforces the bound.
    pub fn save(&self, r: &SaveRequest<'_>) {
        let res = r.result;
        let env = scopes::fold(r.environment).into_owned();
        let now = secs(r.now);
        let home = res.account.as_ref().map(|a| a.home_account_id.as_str());
        // An empty client id is written as null: msal Python caches a
        // system-assigned managed identity's token so (its `client_id` is
        // the identity's `Id`, None), and apps never have an empty one.
        let client_id = Some(r.client_id).filter(|c| !c.is_empty());
        let mut granted: Vec<&str> = res.scopes.iter().map(String::as_str).collect();
        granted.sort_unstable();
        let target = granted.join(" ");
        let family = res.family_id.as_deref();

        let mut at = AtEntry::new(AtFields {
            credential_type: Some("AccessToken"),
            secret: Some(res.access_token.expose()),
            home_account_id: home,
            environment: Some(&env),
            client_id,
            realm: Some(r.realm),
            target: Some(&target),
            token_type: Some(&res.token_type),
            ..AtFields::default()
        });
        at.cached_at = Some(now);
        at.expires_on = Some(secs(res.expires_on));
        at.extended_expires_on = Some(secs(res.ext_expires_on.unwrap_or(res.expires_on)));
        at.refresh_on = res.refresh_on.map(secs);
        if home.is_none() {
            // msal matches app tokens on `"home_account_id": null`.
            at.set_null("home_account_id");
        }
        if client_id.is_none() {
            at.set_null("client_id");
        }
        let acct = res.account.as_ref().map(|a| {
            AcctEntry::new(AcctFields {
                home_account_id: Some(&a.home_account_id),
                environment: Some(&env),
                realm: Some(r.realm),
                local_account_id: Some(&a.local_account_id),
                username: Some(&a.username),
                authority_type: Some(r.authority_type),
                account_source: r.account_source,
            })
        });
        let idt = res.id_token.as_ref().map(|t| {
            IdtEntry::new(IdtFields {
                credential_type: Some("IdToken"),
                secret: Some(t.expose()),
                home_account_id: home,
                environment: Some(&env),
                realm: Some(r.realm),
                client_id: Some(r.client_id),
            })
        });
        let rt = res.refresh_token.as_ref().map(|t| {
            let mut e = RtEntry::new(RtFields {
                credential_type: Some("RefreshToken"),
                secret: Some(t.expose()),
                home_account_id: home,
                environment: Some(&env),
                client_id: Some(r.client_id),
                target: Some(&target),
                family_id: family,
            });
            e.last_modification_time = Some(now);
            e
        });
        let mut meta = MetaEntry::new(MetaFields {
            client_id,
            environment: Some(&env),
            family_id: family,
        });
        if client_id.is_none() {
            meta.set_null("client_id");
        }

        let mut s = self.write();
        s.save_access_token(at, r.requested_scopes);
        if let Some(a) = acct {
            s.put(a);
        }
        if let Some(i) = idt {
            s.put(i);
        }
        if let Some(t) = rt {
            s.put(t);
        }
        s.put(meta);
        s.at.evict(now, self.inner.options.max_access_tokens);
        drop(s);
        self.mark_changed();
    }

    /// Records whether the app is in a family (members idflow does not know
    /// are kept).
    pub fn set_app_family(&self, environment: &str, client_id: &str, family_id: Option<&str>) {
        let mut s = self.write();
        let env = scopes::fold(environment);
        let fields = MetaFields {
            client_id: Some(client_id),
            environment: Some(&env),
            family_id,
        };
        let e = match s.meta.of(environment, client_id) {
            Some(old) => old.with_fields(fields),
            None => MetaEntry::new(fields),
        };
        s.put(e);
        drop(s);
        self.mark_changed();
    }

    /// Signs the account out of this client, as msal does: removes its
    /// refresh tokens issued to this client or to the client's family, all
    /// its access tokens and id tokens in this environment (every realm), and
    /// its account records.
    pub fn remove_account(&self, account: &Account, client_id: &str) {
        let env = account.environment.as_str();
        let home = account.home_account_id.as_str();
        let mut s = self.write();
        let family = s
            .meta
            .of(env, client_id)
            .and_then(|m| m.family_id().map(str::to_owned))
            .filter(|f| !f.is_empty());
        let rts: Vec<_> =
            s.rt.of_home(env, home)
                .iter()
                .copied()
                .filter(|&id| {
                    s.rt.get(id).is_some_and(|e| {
                        e.client_id()
                            .is_some_and(|c| c.eq_ignore_ascii_case(client_id))
                            || (family.is_some() && e.family_id() == family.as_deref())
                    })
                })
                .collect();
        for id in rts {
            s.remove::<RtEntry>(id);
        }
        for id in s.at.of_home(env, home) {
            s.remove::<AtEntry>(id);
        }
        for id in s.idt.of_home(env, home).to_vec() {
            s.remove::<IdtEntry>(id);
        }
        for id in s.acct.of_home(env, home).to_vec() {
            s.remove::<AcctEntry>(id);
        }
        drop(s);
        self.mark_changed();
    }

    /// Removes one refresh token: the account's token for the query's client
    /// or family that holds exactly `secret` (a newer one saved meanwhile stays).
    pub fn remove_refresh_token(&self, q: &RefreshTokenQuery<'_>, secret: &RefreshToken) {
        let mut s = self.write();
        let ids: Vec<_> =
            s.rt.of(q.home_account_id, q.environment, q.client_id, q.family_id)
                .iter()
                .copied()
                .filter(|&id| {
                    s.rt.get(id)
                        .and_then(|e| e.secret())
                        .is_some_and(|t| crate::secret::constant_time_eq(t, secret.expose()))
                })
                .collect();
        let any = !ids.is_empty();
        for id in ids {
            s.remove::<RtEntry>(id);
        }
        drop(s);
        if any {
            self.mark_changed();
        }
    }
}
