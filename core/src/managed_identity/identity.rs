//! Which managed identity a request is for: the system-assigned one, or a
//! user-assigned one named by client id, resource id or object id.

/// The cache's `client_id` for the system-assigned identity: none (written
/// as null), as msal Python 1.39 writes it. Its `client_id_in_cache`
/// (msal/managed_identity.py) is `managed_identity.get("Id",
/// "SYSTEM_ASSIGNED_MANAGED_IDENTITY")`, and the system-assigned identity's
/// dict holds `"Id": None`, so the default never applies.
pub const SYSTEM_ASSIGNED_CACHE_CLIENT_ID: &str = "";

/// A managed identity, as msal's `ManagedIdentity` dict names it
/// (`{"ManagedIdentityIdType": ..., "Id": ...}`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ManagedIdentity {
    SystemAssigned,
    ClientId(String),
    ResourceId(String),
    ObjectId(String),
}

impl ManagedIdentity {
    /// The id of a user-assigned identity; `None` for the system-assigned one.
    pub fn id(&self) -> Option<&str> {
        match self {
            ManagedIdentity::SystemAssigned => None,
            ManagedIdentity::ClientId(s)
            | ManagedIdentity::ResourceId(s)
            | ManagedIdentity::ObjectId(s) => Some(s),
        }
    }

    pub fn is_user_assigned(&self) -> bool {
        self.id().is_some()
    }

    /// msal's `ManagedIdentityIdType` value.
    pub fn id_type(&self) -> &'static str {
        match self {
            ManagedIdentity::SystemAssigned => "SystemAssigned",
            ManagedIdentity::ClientId(_) => "ClientId",
            ManagedIdentity::ResourceId(_) => "ResourceId",
            ManagedIdentity::ObjectId(_) => "ObjectId",
        }
    }

    /// From msal's dict form: the id type and the id (ignored for
    /// `SystemAssigned`). `None` when the type is unknown or a user-assigned
    /// identity has an empty id, as msal's `is_managed_identity` refuses them.
    pub fn from_id_type(id_type: &str, id: Option<&str>) -> Option<Self> {
        let id = id.filter(|s| !s.is_empty()).map(str::to_owned);
        match (id_type, id) {
            ("SystemAssigned", _) => Some(ManagedIdentity::SystemAssigned),
            ("ClientId", Some(i)) => Some(ManagedIdentity::ClientId(i)),
            ("ResourceId", Some(i)) => Some(ManagedIdentity::ResourceId(i)),
            ("ObjectId", Some(i)) => Some(ManagedIdentity::ObjectId(i)),
            _ => None,
        }
    }

    /// The `client_id` its tokens are cached under: the id, or none
    /// ([`SYSTEM_ASSIGNED_CACHE_CLIENT_ID`]) — msal Python's, so a cache
    /// written by either library is read by the other.
    pub fn cache_client_id(&self) -> &str {
        self.id().unwrap_or(SYSTEM_ASSIGNED_CACHE_CLIENT_ID)
    }
}
