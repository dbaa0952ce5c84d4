//! A scripted browser for the provider's own HTML pages.
//!
//! Why plain HTTP and not a headless browser: oidc-provider's development
//! interactions are server-rendered forms with no script, so GET the page,
//! read the form, POST it, follow the redirect — exactly what a user's browser
//! does — exercises the real front channel (cookies, interaction ids, XSRF
//! tokens) at no cost.

use crate::{Error, OidcProvider, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use url::Url;

/// Redirects and form posts allowed in one drive (a full login + consent
/// takes six); more means the provider is looping.
const MAX_STEPS: usize = 16;

/// The password typed into the login form (the development login accepts any).
const PASSWORD: &str = "any-password";

/// An RFC 7636 verifier and its S256 challenge.
#[derive(Clone, Debug)]
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    /// 64 random characters from the unreserved set, and their challenge.
    pub fn new() -> Pkce {
        let verifier = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Pkce {
            verifier,
            challenge,
        }
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Pkce::new()
    }
}

/// A response kept whole — status, every header, body bytes — so a test can
/// hand exactly what the provider sent to `idflow::classify`.
#[derive(Clone, Debug)]
pub struct Captured {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Captured {
    /// Reads a response to the end.
    pub async fn read(resp: reqwest::Response) -> Result<Captured> {
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = resp.bytes().await?.to_vec();
        Ok(Captured {
            status,
            headers,
            body,
        })
    }

    /// The first value of a header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::new(format!(
                "HTTP {} body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            ))
        })
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// An HTML page the drive stopped on.
#[derive(Clone, Debug)]
pub struct Page {
    pub url: Url,
    pub status: u16,
    pub html: String,
}

impl Page {
    /// The `<title>` text.
    pub fn title(&self) -> Option<&str> {
        let start = self.html.find("<title>")? + "<title>".len();
        let end = self.html[start..].find("</title>")? + start;
        Some(self.html[start..end].trim())
    }

    /// The first form: its absolute action URL and its named inputs.
    fn form(&self) -> Option<(Url, Vec<(String, String)>)> {
        let start = self.html.find("<form")?;
        let end = self.html[start..]
            .find("</form>")
            .map_or(self.html.len(), |e| e + start);
        let form = &self.html[start..end];
        let open_end = form.find('>')?;
        let action = attr(&form[..open_end], "action")?;
        let action = self.url.join(&action).ok()?;
        let mut fields = Vec::new();
        let mut rest = &form[open_end..];
        while let Some(i) = rest.find("<input") {
            let tag_end = rest[i..].find('>').map_or(rest.len(), |e| e + i);
            let tag = &rest[i..tag_end];
            if let Some(name) = attr(tag, "name") {
                fields.push((name, attr(tag, "value").unwrap_or_default()));
            }
            rest = &rest[tag_end..];
        }
        Some((action, fields))
    }
}

/// The value of `name="…"` in one tag, HTML entities decoded.
fn attr(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let normalized = tag.replace(['\n', '\t', '\r'], " ");
    let start = normalized.find(&needle)? + needle.len();
    let end = normalized[start..].find('"')? + start;
    Some(unescape(&normalized[start..end]))
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Where a drive ended.
enum Driven {
    /// A redirect leaving the provider (to the client's redirect URI).
    Left(Url),
    /// A page with no login or consent form on it.
    Page(Page),
}

/// One user's browser: its own cookie jar (so a session made by one drive is
/// there for the next, e.g. for `prompt=none`), no automatic redirects.
#[derive(Debug)]
pub struct Browser {
    client: reqwest::Client,
    issuer: String,
    login: String,
}

impl Browser {
    /// A browser for this provider that signs in as `alice`.
    pub fn new(provider: &OidcProvider) -> Result<Browser> {
        let client = provider.client_builder()?.cookie_store(true).build()?;
        Ok(Browser {
            client,
            issuer: provider.issuer().to_owned(),
            login: "alice".to_owned(),
        })
    }

    /// Signs in as someone else (the login becomes the token's `sub`).
    pub fn with_login(mut self, login: &str) -> Browser {
        self.login = login.to_owned();
        self
    }

    fn inside(&self, url: &Url) -> bool {
        let s = url.as_str();
        s == self.issuer || s.starts_with(&format!("{}/", self.issuer))
    }

    /// Opens an authorize URL and goes through login and consent until the
    /// provider redirects to the client; returns that URL (with `code` and
    /// `state`, or `error`). Fails if the drive ends on a page instead.
    pub async fn authorize(&self, url: &str) -> Result<Url> {
        let resp = self.client.get(url).send().await?;
        match self.drive(resp).await? {
            Driven::Left(url) => Ok(url),
            Driven::Page(p) => Err(Error::new(format!(
                "authorize ended on a page, not a redirect: HTTP {} {} {:?}",
                p.status,
                p.url,
                p.title()
            ))),
        }
    }

    /// Types `user_code` at `/device` and confirms it, then signs in and
    /// consents; returns the final page ("Sign-in Success" when it worked).
    pub async fn approve_device(&self, user_code: &str) -> Result<Page> {
        let (action, fields) = self.confirm_page(user_code).await?;
        let resp = self.client.post(action).form(&fields).send().await?;
        match self.drive(resp).await? {
            Driven::Page(p) => Ok(p),
            Driven::Left(url) => Err(Error::new(format!(
                "device approval left the provider for {url}"
            ))),
        }
    }

    /// Types `user_code` at `/device` and presses "Abort" on the confirmation
    /// page: the next poll answers `access_denied`. Returns the page shown.
    pub async fn decline_device(&self, user_code: &str) -> Result<Page> {
        let (action, mut fields) = self.confirm_page(user_code).await?;
        fields.retain(|(k, _)| k != "confirm");
        fields.push(("abort".to_owned(), "yes".to_owned()));
        let resp = self.client.post(action).form(&fields).send().await?;
        self.page(resp).await
    }

    /// GET /device, submit the code, and return the confirmation form.
    async fn confirm_page(&self, user_code: &str) -> Result<(Url, Vec<(String, String)>)> {
        let entry = self
            .page(
                self.client
                    .get(format!("{}/device", self.issuer))
                    .send()
                    .await?,
            )
            .await?;
        let (action, mut fields) = entry
            .form()
            .ok_or_else(|| Error::new("the /device page has no form"))?;
        for (k, v) in fields.iter_mut() {
            if k == "user_code" {
                *v = user_code.to_owned();
            }
        }
        let resp = self.client.post(action).form(&fields).send().await?;
        let confirm = self.page(resp).await?;
        match confirm.form() {
            Some((action, fields)) if field(&fields, "confirm").is_some() => Ok((action, fields)),
            _ => Err(Error::new(format!(
                "user code {user_code} was not accepted: {:?}",
                confirm.title()
            ))),
        }
    }

    async fn page(&self, resp: reqwest::Response) -> Result<Page> {
        let url = resp.url().clone();
        let status = resp.status().as_u16();
        let html = resp.text().await?;
        Ok(Page { url, status, html })
    }

    /// Follows redirects inside the provider and fills the login and consent
    /// forms, until a redirect leaves the provider or a page has neither form.
    async fn drive(&self, mut resp: reqwest::Response) -> Result<Driven> {
        for _ in 0..MAX_STEPS {
            if resp.status().is_redirection() {
                let location = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| Error::new("a redirect without Location"))?;
                let next = resp.url().join(location)?;
                if !self.inside(&next) {
                    return Ok(Driven::Left(next));
                }
                resp = self.client.get(next).send().await?;
                continue;
            }
            let page = self.page(resp).await?;
            let Some((action, mut fields)) = page.form() else {
                return Ok(Driven::Page(page));
            };
            match field(&fields, "prompt") {
                Some("login") => {
                    for (k, v) in fields.iter_mut() {
                        match k.as_str() {
                            "login" => *v = self.login.clone(),
                            "password" => *v = PASSWORD.to_owned(),
                            _ => {}
                        }
                    }
                }
                Some("consent") => {}
                _ => return Ok(Driven::Page(page)),
            }
            resp = self.client.post(action).form(&fields).send().await?;
        }
        Err(Error::new(format!(
            "no end after {MAX_STEPS} redirects and form posts"
        )))
    }
}
