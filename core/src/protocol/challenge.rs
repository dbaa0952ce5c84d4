//! `WWW-Authenticate` (RFC 9110 §11.6.1): the challenges a protected resource
//! answers a 401 with. An API behind Conditional Access (or Continuous Access
//! Evaluation) says "this token is no longer enough" with
//! `error="insufficient_claims"` and a `claims` parameter; the app passes
//! those claims to its next token request (interactive, or silent with a
//! force refresh) and retries the API call with the new token.
//!
//! The parser accepts what resources send: several challenges in one header
//! (`Bearer realm="", error="x", PoP nonce="y"`) or in several headers, any
//! scheme (`Bearer` and `PoP` are the Microsoft ones), quoted values holding
//! commas, spaces, `=` and backslash escapes, unquoted tokens, a token68
//! credential, and parameter names in any case (they are stored
//! lower-cased).

use crate::error::{IdFlowError, LocalCode};
use base64::Engine as _;
use serde::Serialize;
use std::collections::BTreeMap;

/// One challenge: a scheme and its parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AuthChallenge {
    /// As sent (`Bearer`, `PoP`, ...); compare case-insensitively.
    pub scheme: String,
    /// Parameter names lower-cased, values unquoted and unescaped. A token68
    /// value (`Basic dXNlcg==`) is stored under the scheme's lower-cased name.
    pub params: BTreeMap<String, String>,
}

impl AuthChallenge {
    /// A parameter's value (name case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The `error` parameter (`insufficient_claims`, `invalid_token`, ...).
    pub fn error(&self) -> Option<&str> {
        self.get("error")
    }

    /// The `claims` parameter, base64-decoded when it decodes cleanly to a
    /// JSON object (as resources send it), else as sent.
    pub fn claims(&self) -> Option<String> {
        self.get("claims").map(decode_claims)
    }

    /// The authority the resource names (`authorization_uri`, else
    /// `authorization`, else `authority`), without `/oauth2/authorize`,
    /// `/oauth2/v2.0/authorize` or a trailing `/v2.0`.
    pub fn authority(&self) -> Option<String> {
        let raw = self
            .get("authorization_uri")
            .or_else(|| self.get("authorization"))
            .or_else(|| self.get("authority"))?;
        let mut s = raw.trim().trim_end_matches('/').to_owned();
        for suffix in ["/oauth2/v2.0/authorize", "/oauth2/authorize", "/v2.0"] {
            if s.to_ascii_lowercase().ends_with(suffix) {
                s.truncate(s.len() - suffix.len());
            }
        }
        Some(s.trim_end_matches('/').to_owned())
    }

    /// Whether this is a claims challenge (`error="insufficient_claims"`,
    /// any case) carrying claims.
    pub fn is_claims_challenge(&self) -> bool {
        self.error()
            .is_some_and(|e| e.eq_ignore_ascii_case("insufficient_claims"))
            && self.get("claims").is_some()
    }
}

/// A claims value as resources send it (base64 of a JSON object), decoded;
/// anything that is not cleanly that is returned unchanged.
pub fn decode_claims(value: &str) -> String {
    let v = value.trim();
    if serde_json::from_str::<serde_json::Value>(v).is_ok_and(|j| j.is_object()) {
        return v.to_owned();
    }
    use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
    let no_pad = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::general_purpose::NO_PAD,
    );
    let decoded = STANDARD
        .decode(v)
        .or_else(|_| URL_SAFE.decode(v))
        .or_else(|_| URL_SAFE_NO_PAD.decode(v))
        .or_else(|_| no_pad.decode(v));
    match decoded.ok().and_then(|b| String::from_utf8(b).ok()) {
        Some(text)
            if serde_json::from_str::<serde_json::Value>(&text).is_ok_and(|j| j.is_object()) =>
        {
            text
        }
        _ => value.to_owned(),
    }
}

fn unparsable(why: &str) -> IdFlowError {
    IdFlowError::local(
        LocalCode::UnableToParseAuthenticationHeader,
        format!("the WWW-Authenticate header cannot be parsed: {why}"),
    )
}

fn is_token_char(c: char) -> bool {
    !c.is_whitespace() && c != ',' && c != '=' && c != '"'
}

/// Parses one `WWW-Authenticate` value into its challenges, in order. An
/// empty value has none. Fails with `unable_to_parse_authentication_header`
/// for a parameter before any scheme, an unterminated quoted string, or a
/// parameter without a name.
pub fn parse_www_authenticate(value: &str) -> Result<Vec<AuthChallenge>, IdFlowError> {
    let chars: Vec<char> = value.chars().collect();
    let mut i = 0;
    let mut out: Vec<AuthChallenge> = Vec::new();
    let skip = |i: &mut usize, commas: bool| {
        while *i < chars.len() && (chars[*i].is_whitespace() || (commas && chars[*i] == ',')) {
            *i += 1;
        }
    };
    loop {
        skip(&mut i, true);
        if i >= chars.len() {
            break;
        }
        if !is_token_char(chars[i]) {
            return Err(unparsable(&format!(
                "unexpected '{}' at position {i}",
                chars[i]
            )));
        }
        let start = i;
        while i < chars.len() && is_token_char(chars[i]) {
            i += 1;
        }
        let token: String = chars[start..i].iter().collect();
        let after_token = i;
        skip(&mut i, false);
        let is_param = i < chars.len() && chars[i] == '=';
        if !is_param {
            // A scheme name starts a new challenge.
            i = after_token;
            out.push(AuthChallenge {
                scheme: token,
                params: BTreeMap::new(),
            });
            continue;
        }
        let Some(current) = out.last_mut() else {
            return Err(unparsable("a parameter comes before any scheme"));
        };
        // `name=` followed by more `=`, a comma or the end is a token68
        // credential (base64 padding), not a parameter.
        let mut j = i;
        while j < chars.len() && chars[j] == '=' {
            j += 1;
        }
        let mut k = j;
        while k < chars.len() && chars[k].is_whitespace() {
            k += 1;
        }
        let token68_end = k >= chars.len() || chars[k] == ',';
        if current.params.is_empty() && token68_end {
            let credential: String = chars[start..j].iter().collect();
            current
                .params
                .insert(current.scheme.to_ascii_lowercase(), credential);
            i = j;
            continue;
        }
        i += 1; // the '='
        skip(&mut i, false);
        let value = if i < chars.len() && chars[i] == '"' {
            i += 1;
            let mut v = String::new();
            let mut closed = false;
            while i < chars.len() {
                match chars[i] {
                    '\\' if i + 1 < chars.len() => {
                        v.push(chars[i + 1]);
                        i += 2;
                    }
                    '"' => {
                        closed = true;
                        i += 1;
                        break;
                    }
                    c => {
                        v.push(c);
                        i += 1;
                    }
                }
            }
            if !closed {
                return Err(unparsable(&format!(
                    "the quoted value of '{token}' is not closed"
                )));
            }
            v
        } else {
            let vs = i;
            while i < chars.len() && chars[i] != ',' && !chars[i].is_whitespace() {
                i += 1;
            }
            chars[vs..i].iter().collect()
        };
        // `a="x" b="y"` without a comma is tolerated (MSAL.NET splits on
        // spaces): the next token is read as the next parameter or scheme.
        current.params.insert(token.to_ascii_lowercase(), value);
    }
    Ok(out)
}

/// Parses every `WWW-Authenticate` header among `headers` (name
/// case-insensitive), in order.
pub fn parse_www_authenticate_headers(
    headers: &[(String, String)],
) -> Result<Vec<AuthChallenge>, IdFlowError> {
    let mut out = Vec::new();
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("www-authenticate") {
            out.extend(parse_www_authenticate(value)?);
        }
    }
    Ok(out)
}

/// The claims to pass to the next token request, when the response's
/// `WWW-Authenticate` headers carry a claims challenge
/// (`error="insufficient_claims"`): the first such challenge's claims,
/// decoded. `None` for any other challenge, or for headers that do not parse.
pub fn claims_challenge(headers: &[(String, String)]) -> Option<String> {
    parse_www_authenticate_headers(headers)
        .ok()?
        .into_iter()
        .find(AuthChallenge::is_claims_challenge)
        .and_then(|c| c.claims())
}

#[cfg(test)]
mod tests;
