//! Scope strings: which API a request is for, which permissions it asks for,
//! and what the platform answers when that is not possible (a scope of two
//! APIs, an unknown API, an unknown permission, client credentials without
//! `/.default`).

use crate::model::directory::{Client, ResourceSpec, GRAPH_APP_ID, GRAPH_RESOURCE};
use crate::wire::aad_error::AadError;

/// The OpenID Connect scopes; they name no API.
pub const OIDC_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// An API that scopes were requested for.
#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    /// The App ID URI (`https://graph.microsoft.com`, `api://{client_id}`).
    pub uri: String,
    /// The app id: the `aud` of access tokens for this API.
    pub app_id: String,
    /// Delegated scopes it accepts; `None` accepts any name.
    pub scopes: Option<Vec<String>>,
}

impl Resource {
    pub fn is_graph(&self) -> bool {
        self.app_id == GRAPH_APP_ID
    }

    /// The `aud` the platform puts in access tokens for this API.
    pub fn audience(&self) -> String {
        if self.is_graph() {
            GRAPH_RESOURCE.to_owned()
        } else {
            self.app_id.clone()
        }
    }

    fn from_spec(spec: &ResourceSpec) -> Resource {
        Resource {
            uri: spec.uri.trim_end_matches('/').to_owned(),
            app_id: spec.app_id(),
            scopes: spec.scopes.clone(),
        }
    }
}

/// A parsed `scope` parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct ScopeSet {
    /// The OIDC scopes asked for, lower-cased, in order.
    pub oidc: Vec<String>,
    pub resource: Resource,
    /// Permission names (without the resource prefix), in order.
    pub names: Vec<String>,
    /// `{resource}/.default` was asked for.
    pub default: bool,
}

impl ScopeSet {
    /// Parses `scope` against the known APIs. `None` for a scope of only
    /// whitespace (the caller reports the missing parameter).
    pub fn parse(
        scope: &str,
        resources: &[ResourceSpec],
        clients: &[&Client],
    ) -> Result<Option<ScopeSet>, AadError> {
        let mut oidc = Vec::new();
        let mut named: Vec<(String, String)> = Vec::new();
        for s in scope.split_whitespace() {
            let lower = s.to_ascii_lowercase();
            if OIDC_SCOPES.contains(&lower.as_str()) {
                if !oidc.contains(&lower) {
                    oidc.push(lower);
                }
                continue;
            }
            let (res, name) = match s.rfind('/') {
                Some(i) if i > 0 => (s[..i].to_owned(), s[i + 1..].to_owned()),
                _ => (GRAPH_RESOURCE.to_owned(), s.to_owned()),
            };
            if name.is_empty() {
                return Err(invalid_scope(s));
            }
            named.push((res, name));
        }
        if oidc.is_empty() && named.is_empty() {
            return Ok(None);
        }
        let resource_id = named
            .first()
            .map_or(GRAPH_RESOURCE.to_owned(), |(r, _)| r.clone());
        let resource = find_resource(&resource_id, resources, clients).ok_or_else(|| {
            AadError::bad(
                "invalid_resource",
                500011,
                format!("The resource principal named {resource_id} was not found in the tenant."),
            )
        })?;
        let mut names = Vec::new();
        let mut default = false;
        for (r, name) in named {
            let same =
                find_resource(&r, resources, clients).is_some_and(|o| o.app_id == resource.app_id);
            if !same {
                return Err(AadError::bad(
                    "invalid_scope",
                    28000,
                    format!(
                        "The scope parameter '{scope}' names more than one resource; request \
                         tokens for one resource at a time."
                    ),
                ));
            }
            if name == ".default" {
                default = true;
            } else if !resource
                .scopes
                .as_ref()
                .is_none_or(|list| list.iter().any(|s| s.eq_ignore_ascii_case(&name)))
            {
                return Err(invalid_scope(&name));
            } else if !names.contains(&name) {
                names.push(name);
            }
        }
        Ok(Some(ScopeSet {
            oidc,
            resource,
            names,
            default,
        }))
    }

    pub fn wants_refresh_token(&self) -> bool {
        self.oidc.iter().any(|s| s == "offline_access")
    }

    pub fn wants_id_token(&self) -> bool {
        self.oidc.iter().any(|s| s == "openid")
    }

    /// The permissions granted: the names asked for, or for `/.default` every
    /// scope the API declares.
    pub fn permissions(&self) -> Vec<String> {
        let mut out = self.names.clone();
        if self.default {
            for s in self.resource.scopes.iter().flatten() {
                if !out.contains(s) {
                    out.push(s.clone());
                }
            }
        }
        out
    }

    /// The `scp` claim of a delegated access token.
    pub fn scp(&self) -> String {
        let p = self.permissions();
        if p.is_empty() {
            self.oidc
                .iter()
                .filter(|s| *s != "offline_access")
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            p.join(" ")
        }
    }

    /// The `scope` of a token response: granted permissions (Graph's short,
    /// other APIs' prefixed with their URI) and the OIDC scopes except
    /// `offline_access`.
    pub fn granted(&self) -> String {
        let mut out: Vec<String> = self
            .permissions()
            .into_iter()
            .map(|p| {
                if self.resource.is_graph() {
                    p
                } else {
                    format!("{}/{p}", self.resource.uri)
                }
            })
            .collect();
        out.extend(self.oidc.iter().filter(|s| *s != "offline_access").cloned());
        out.join(" ")
    }

    /// A scope string that asks for this set again (kept with refresh tokens).
    pub fn request_string(&self) -> String {
        let prefix = |p: &str| {
            if self.resource.is_graph() && p != ".default" {
                p.to_owned()
            } else {
                format!("{}/{p}", self.resource.uri)
            }
        };
        let mut out: Vec<String> = self.names.iter().map(|n| prefix(n)).collect();
        if self.default {
            out.push(prefix(".default"));
        }
        out.extend(self.oidc.iter().cloned());
        out.join(" ")
    }

    /// The keys consent is recorded under: `{app_id}/{permission}`.
    pub fn consent_keys(&self) -> Vec<String> {
        let mut names = self.names.clone();
        if self.default {
            names.push(".default".into());
        }
        names
            .into_iter()
            .map(|n| format!("{}/{}", self.resource.app_id, n.to_ascii_lowercase()))
            .collect()
    }

    /// For client credentials: exactly `{resource}/.default`, besides OIDC
    /// scopes, which the platform ignores there. MSAL for Java adds
    /// `openid profile offline_access` to every grant, client credentials
    /// included (msal4j-sdk/src/main/java/com/microsoft/aad/msal4j/
    /// AbstractMsalAuthorizationGrant.java, `COMMON_SCOPES_PARAM`).
    pub fn require_default_only(&self, scope: &str) -> Result<(), AadError> {
        if self.default && self.names.is_empty() {
            return Ok(());
        }
        Err(AadError::bad(
            "invalid_scope",
            1002012,
            format!(
                "The scope '{scope}' is not valid for client credentials: ask for the resource's \
                 App ID URI followed by /.default (for example https://graph.microsoft.com/.default)."
            ),
        ))
    }
}

fn invalid_scope(scope: &str) -> AadError {
    AadError::bad(
        "invalid_scope",
        70011,
        format!("The provided value for the input parameter 'scope' is not valid. The scope '{scope}' is not known to the resource."),
    )
}

/// Finds an API by App ID URI or app id: Graph, a registered resource, or a
/// client that exposes an API (`api://{client_id}` or its client id).
pub fn find_resource(
    id: &str,
    resources: &[ResourceSpec],
    clients: &[&Client],
) -> Option<Resource> {
    let id = id.trim_end_matches('/');
    if let Some(spec) = resources.iter().find(|r| {
        r.uri.trim_end_matches('/').eq_ignore_ascii_case(id) || r.app_id().eq_ignore_ascii_case(id)
    }) {
        return Some(Resource::from_spec(spec));
    }
    let client_id = id.strip_prefix("api://").unwrap_or(id);
    clients
        .iter()
        .find(|c| c.id().eq_ignore_ascii_case(client_id))
        .map(|c| Resource {
            uri: format!("api://{}", c.id()),
            app_id: c.id().to_owned(),
            scopes: Some(c.spec.scopes.clone()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::directory::{default_clients, default_resources, CONFIDENTIAL_CLIENT_ID};

    fn parse(s: &str) -> Result<Option<ScopeSet>, AadError> {
        let clients: Vec<Client> = default_clients()
            .into_iter()
            .map(|c| Client::from_spec(c).unwrap())
            .collect();
        let refs: Vec<&Client> = clients.iter().collect();
        ScopeSet::parse(s, &default_resources(), &refs)
    }

    #[test]
    fn graph_and_apis() {
        let s = parse("User.Read openid profile offline_access")
            .unwrap()
            .unwrap();
        assert!(s.resource.is_graph() && s.wants_refresh_token() && s.wants_id_token());
        assert_eq!(s.granted(), "User.Read openid profile");
        let api = format!("api://{CONFIDENTIAL_CLIENT_ID}/access_as_user");
        let s = parse(&api).unwrap().unwrap();
        assert_eq!(s.resource.app_id, CONFIDENTIAL_CLIENT_ID);
        assert_eq!(s.granted(), api);
        let s = parse("https://graph.microsoft.com/.default")
            .unwrap()
            .unwrap();
        assert!(s.require_default_only("x").is_ok());
        let with_oidc = parse("https://graph.microsoft.com/.default openid profile offline_access")
            .unwrap()
            .unwrap();
        assert!(with_oidc.require_default_only("x").is_ok());
        assert!(s.permissions().contains(&"User.Read".to_owned()));
        assert_eq!(parse("  ").unwrap(), None);
    }

    #[test]
    fn refusals() {
        let code = |s: &str| parse(s).err().map(|e| (e.error, e.codes[0]));
        assert_eq!(code("Nope.Read"), Some(("invalid_scope".into(), 70011)));
        assert_eq!(
            code("https://unknown.example/.default"),
            Some(("invalid_resource".into(), 500011))
        );
        let two = format!("User.Read api://{CONFIDENTIAL_CLIENT_ID}/access_as_user");
        assert_eq!(code(&two), Some(("invalid_scope".into(), 28000)));
        assert_eq!(
            code("https://graph.microsoft.com/"),
            Some(("invalid_scope".into(), 70011))
        );
        let s = parse("User.Read").unwrap().unwrap();
        assert_eq!(
            s.require_default_only("User.Read").unwrap_err().codes,
            vec![1002012]
        );
    }
}
