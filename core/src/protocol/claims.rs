//! The `claims` request parameter: the app's claims request (usually a
//! claims challenge from an error or a `WWW-Authenticate` header) merged with
//! the app's client capabilities.
//!
//! A capability (`cp1`: "this app handles claims challenges", which lets the
//! identity platform issue long-lived, revocable CAE tokens) is announced as
//! `{"access_token":{"xms_cc":{"values":["cp1"]}}}` in every request's
//! `claims`. The merge follows msal Python and MSAL.js: the capabilities
//! replace any `xms_cc` the claims request holds under `access_token`;
//! everything else in the claims request is kept as sent.

use crate::error::{IdFlowError, LocalCode};
use serde_json::{json, Map, Value};

/// The claim name that carries client capabilities.
pub const CAPABILITIES_CLAIM: &str = "xms_cc";

/// Parses a claims request: it must be a JSON object.
pub fn parse_claims(claims: &str) -> Result<Map<String, Value>, IdFlowError> {
    match serde_json::from_str::<Value>(claims) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(invalid("the claims request is JSON but not an object")),
        Err(_) => Err(invalid("the claims request is not valid JSON")),
    }
}

fn invalid(message: &str) -> IdFlowError {
    IdFlowError::local(LocalCode::InvalidJsonClaimsFormat, message)
}

/// The `claims` value to send: `None` when there is neither a claims
/// request nor a capability. Fails with `invalid_json_claims_format` when
/// `claims` is not a JSON object. Without capabilities the claims request
/// is sent exactly as given.
pub fn merge_claims(
    claims: Option<&str>,
    capabilities: &[String],
) -> Result<Option<String>, IdFlowError> {
    let caps: Vec<&str> = capabilities
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .collect();
    let parsed = claims.map(parse_claims).transpose()?;
    if caps.is_empty() {
        return Ok(claims.map(str::to_owned));
    }
    let mut map = parsed.unwrap_or_default();
    let access_token = map
        .entry("access_token")
        .or_insert_with(|| Value::Object(Map::new()));
    if !access_token.is_object() {
        // Only an object can hold the capability claim; a scalar here is
        // meaningless to the identity platform anyway.
        *access_token = Value::Object(Map::new());
    }
    if let Value::Object(at) = access_token {
        at.insert(CAPABILITIES_CLAIM.into(), json!({ "values": caps }));
    }
    Ok(Some(Value::Object(map).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    fn json(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn nothing_to_send() {
        assert_eq!(merge_claims(None, &[]).unwrap(), None);
        assert_eq!(merge_claims(None, &caps(&[" ", ""])).unwrap(), None);
    }

    #[test]
    fn claims_alone_are_sent_unchanged() {
        let c = r#"{"access_token": {"nbf": {"essential": true, "value": "1604106651"}}}"#;
        assert_eq!(merge_claims(Some(c), &[]).unwrap().as_deref(), Some(c));
    }

    #[test]
    fn capabilities_alone() {
        let out = merge_claims(None, &caps(&["cp1"])).unwrap().unwrap();
        assert_eq!(out, r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#);
        let two = merge_claims(None, &caps(&["cp1", "llt"])).unwrap().unwrap();
        assert_eq!(
            json(&two),
            json(r#"{"access_token":{"xms_cc":{"values":["cp1","llt"]}}}"#)
        );
    }

    #[test]
    fn merged_and_capabilities_win_over_xms_cc() {
        let c = r#"{"access_token":{"nbf":{"essential":true,"value":"1"},"xms_cc":{"values":["old"]}},"id_token":{"auth_time":{"essential":true}}}"#;
        let out = merge_claims(Some(c), &caps(&["cp1"])).unwrap().unwrap();
        assert_eq!(
            json(&out),
            json(
                r#"{"access_token":{"nbf":{"essential":true,"value":"1"},"xms_cc":{"values":["cp1"]}},"id_token":{"auth_time":{"essential":true}}}"#
            )
        );
    }

    #[test]
    fn id_token_only_claims_gain_an_access_token_member() {
        let c = r#"{"id_token":{"acr":{"values":["urn:mace:incommon:iap:silver"]}}}"#;
        let out = merge_claims(Some(c), &caps(&["cp1"])).unwrap().unwrap();
        assert_eq!(
            json(&out),
            json(
                r#"{"id_token":{"acr":{"values":["urn:mace:incommon:iap:silver"]}},"access_token":{"xms_cc":{"values":["cp1"]}}}"#
            )
        );
    }

    #[test]
    fn invalid_claims_are_a_client_error_with_or_without_capabilities() {
        for bad in ["", "not json", "[1,2]", "\"x\"", "{\"a\":", "null"] {
            for c in [caps(&[]), caps(&["cp1"])] {
                let e = merge_claims(Some(bad), &c).unwrap_err();
                assert_eq!(e.code, "invalid_json_claims_format", "{bad:?}");
                assert_eq!(e.kind, crate::ErrorKind::Client);
                assert!(!e.message.contains(bad) || bad.is_empty(), "{}", e.message);
            }
        }
    }
}
