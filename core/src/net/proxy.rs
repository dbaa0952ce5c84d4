//! Which proxy a request goes through, decided the way Python's `requests`
//! decides it (msal Python hands its `proxies=` dict to a `requests.Session`,
//! `msal/application.py`), so an app moving from msal keeps its network path.
//!
//! - The app's `proxies` map: keys `scheme://host`, `scheme`, `all://host`,
//!   `all`, tried in that order (`requests/utils.py`, `select_proxy`); the
//!   value is the proxy's URL (`http://` assumed when it has no scheme), an
//!   empty value means "direct". A `no_proxy` key lists hosts that bypass
//!   every proxy (idflow applies it to the map too; `requests` applies a
//!   per-request `no_proxy` to the environment's proxies only).
//! - The environment, unless turned off (`requests`' `trust_env`):
//!   `https_proxy`, `http_proxy`, `all_proxy` and `no_proxy`, lower case
//!   winning over upper case, `HTTP_PROXY` ignored in a CGI process (as
//!   `urllib.request.getproxies_environment` does). An environment proxy is
//!   used only for a scheme the map does not name, and never for a host
//!   `NO_PROXY` lists (`requests/utils.py`, `should_bypass_proxies`): `*`,
//!   a suffix of the host or `host:port`, an IP address or an IPv4 CIDR block.
//!
//! The environment is read once, when the application is built.

use crate::error::{IdFlowError, LocalCode};
use std::net::{IpAddr, Ipv4Addr};
use url::Url;

/// The proxy settings of the default transport.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyConfig {
    /// msal's / `requests`' `proxies` dict as pairs: `("https", "http://proxy:3128")`.
    pub proxies: Vec<(String, String)>,
    /// Also use `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` / `NO_PROXY`
    /// (the default, as `requests` does). Turn off to ignore them.
    pub from_environment: bool,
}

impl Default for ProxyConfig {
    fn default() -> Self {
        ProxyConfig {
            proxies: Vec::new(),
            from_environment: true,
        }
    }
}

/// Proxy URLs may carry a user name and password: shown without them.
impl std::fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown: Vec<(&str, String)> = self
            .proxies
            .iter()
            .map(|(k, v)| (k.as_str(), without_credentials(v)))
            .collect();
        f.debug_struct("ProxyConfig")
            .field("proxies", &shown)
            .field("from_environment", &self.from_environment)
            .finish()
    }
}

fn without_credentials(proxy: &str) -> String {
    match proxy.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://[redacted]@{host}"),
            None => format!("[redacted]@{host}"),
        },
        None => proxy.to_owned(),
    }
}

/// One table of proxies (the app's or the environment's) with its bypass list.
#[derive(Clone, Debug, Default)]
struct Table {
    /// Key (`https`, `all://host`, ...) → proxy; `None` is "direct".
    entries: Vec<(String, Option<Url>)>,
    no_proxy: Vec<String>,
}

impl Table {
    fn select(&self, url: &Url) -> Option<&Option<Url>> {
        let scheme = url.scheme();
        let host = url.host_str().unwrap_or("");
        let keys = [
            format!("{scheme}://{host}"),
            scheme.to_owned(),
            format!("all://{host}"),
            "all".to_owned(),
        ];
        keys.iter().find_map(|key| {
            self.entries
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
    }
}

/// The resolved rules: built once, asked per request.
#[derive(Clone, Debug, Default)]
pub struct ProxyRules {
    app: Table,
    env: Table,
}

impl ProxyRules {
    /// Reads the app's map and, when allowed, the process environment.
    /// Fails (`invalid_parameter`) for a proxy URL that is not `http(s)://`.
    pub fn new(config: &ProxyConfig) -> Result<Self, IdFlowError> {
        Self::with_environment(config, |name| std::env::var(name).ok())
    }

    /// [`ProxyRules::new`] with the environment given (tests).
    pub fn with_environment(
        config: &ProxyConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, IdFlowError> {
        let mut app = Table::default();
        for (key, value) in &config.proxies {
            let key = key.trim().to_ascii_lowercase();
            if key == "no_proxy" {
                app.no_proxy = bypass_list(value);
            } else {
                app.entries.push((key.clone(), proxy_url(&key, value)?));
            }
        }
        let mut rules = ProxyRules {
            app,
            env: Table::default(),
        };
        if config.from_environment {
            let cgi = env("REQUEST_METHOD").is_some();
            let var = |name: &str| {
                let upper_allowed = !(cgi && name == "http");
                env(&format!("{name}_proxy"))
                    .or_else(|| {
                        upper_allowed
                            .then(|| env(&format!("{}_PROXY", name.to_ascii_uppercase())))
                            .flatten()
                    })
                    .filter(|v| !v.trim().is_empty())
            };
            for scheme in ["https", "http", "all"] {
                if let Some(value) = var(scheme) {
                    let key = format!("{scheme} (from the environment)");
                    let url = proxy_url(&key, &value)?;
                    rules.env.entries.push((scheme.to_owned(), url));
                }
            }
            rules.env.no_proxy = var("no").map(|v| bypass_list(&v)).unwrap_or_default();
        }
        Ok(rules)
    }

    /// True when no request can go through a proxy (then the transport
    /// needs no proxy hook at all).
    pub fn is_direct(&self) -> bool {
        let none = |t: &Table| t.entries.iter().all(|(_, v)| v.is_none());
        none(&self.app) && none(&self.env)
    }

    /// The proxy for a request to `url`, or `None` to connect directly.
    pub fn proxy_for(&self, url: &Url) -> Option<Url> {
        if bypasses(&self.app.no_proxy, url) {
            return None;
        }
        if let Some(chosen) = self.app.select(url) {
            return chosen.clone();
        }
        if bypasses(&self.env.no_proxy, url) {
            return None;
        }
        self.env.select(url).cloned().flatten()
    }
}

fn bypass_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .collect()
}

fn proxy_url(key: &str, value: &str) -> Result<Option<Url>, IdFlowError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let with_scheme = if value.contains("://") {
        value.to_owned()
    } else {
        format!("http://{value}")
    };
    let bad = |why: &str| {
        IdFlowError::local(
            LocalCode::InvalidParameter,
            format!(
                "proxies[{key:?}] = {:?} {why}",
                without_credentials(&with_scheme)
            ),
        )
    };
    let url = Url::parse(&with_scheme).map_err(|_| bad("is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(
            "is not an http:// or https:// proxy (SOCKS is not supported)",
        ));
    }
    if url.host_str().is_none() {
        return Err(bad("has no host"));
    }
    Ok(Some(url))
}

/// `requests`' `should_bypass_proxies` and urllib's `proxy_bypass_environment`.
fn bypasses(list: &[String], url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let with_port = url.port().map(|p| format!("{host}:{p}"));
    let ip = host.parse::<IpAddr>().ok();
    list.iter().any(|entry| {
        if entry == "*" {
            return true;
        }
        if let Some(ip) = ip {
            if let (IpAddr::V4(addr), Some((net, bits))) = (ip, cidr(entry)) {
                return in_network(addr, net, bits);
            }
            if entry.parse::<IpAddr>().ok() == Some(ip) {
                return true;
            }
        }
        let name = entry.trim_start_matches('.');
        host.ends_with(entry.as_str())
            || host == name
            || with_port
                .as_deref()
                .is_some_and(|hp| hp.ends_with(entry.as_str()))
    })
}

fn cidr(entry: &str) -> Option<(Ipv4Addr, u32)> {
    let (net, bits) = entry.split_once('/')?;
    let bits: u32 = bits.parse().ok().filter(|b| (1..=32).contains(b))?;
    Some((net.parse().ok()?, bits))
}

fn in_network(addr: Ipv4Addr, net: Ipv4Addr, bits: u32) -> bool {
    let mask = u32::MAX << (32 - bits);
    u32::from(addr) & mask == u32::from(net) & mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn rules(proxies: &[(&str, &str)], env: &[(&str, &str)]) -> ProxyRules {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let config = ProxyConfig {
            proxies: proxies
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            from_environment: true,
        };
        ProxyRules::with_environment(&config, |n| env.get(n).cloned()).unwrap()
    }

    fn via(r: &ProxyRules, url: &str) -> Option<String> {
        r.proxy_for(&Url::parse(url).unwrap())
            .map(|u| u.as_str().to_owned())
    }

    #[test]
    fn map_keys_in_requests_order() {
        let r = rules(
            &[
                ("all", "http://all:1"),
                ("https", "http://s:2"),
                ("https://login.example", "http://host:3"),
                ("all://other.example", "http://other:4"),
            ],
            &[],
        );
        assert_eq!(
            via(&r, "https://login.example/t").as_deref(),
            Some("http://host:3/")
        );
        assert_eq!(
            via(&r, "https://x.example/t").as_deref(),
            Some("http://s:2/")
        );
        assert_eq!(
            via(&r, "http://other.example/").as_deref(),
            Some("http://other:4/")
        );
        assert_eq!(
            via(&r, "http://x.example/").as_deref(),
            Some("http://all:1/")
        );
    }

    #[test]
    fn environment_lower_case_wins_and_map_comes_first() {
        let r = rules(
            &[("http", "proxy.corp:8080")],
            &[
                ("HTTPS_PROXY", "http://upper:1"),
                ("https_proxy", "http://lower:2"),
                ("HTTP_PROXY", "http://env-http:3"),
            ],
        );
        assert_eq!(
            via(&r, "https://login.example/").as_deref(),
            Some("http://lower:2/")
        );
        assert_eq!(
            via(&r, "http://login.example/").as_deref(),
            Some("http://proxy.corp:8080/")
        );
    }

    #[test]
    fn no_proxy_as_requests_reads_it() {
        let env = [
            ("HTTPS_PROXY", "http://p:1"),
            ("HTTP_PROXY", "http://p:1"),
            (
                "NO_PROXY",
                " corp.example, .internal ,10.0.0.0/8,127.0.0.1,:8443",
            ),
        ];
        let r = rules(&[], &env);
        for direct in [
            "https://login.corp.example/",
            "https://corp.example/",
            "https://a.internal/",
            "https://internal/",
            "http://10.2.3.4/",
            "http://127.0.0.1:5000/",
            "https://other.example:8443/",
        ] {
            assert_eq!(via(&r, direct), None, "{direct}");
        }
        for proxied in [
            "https://login.example/",
            "http://11.0.0.1/",
            "http://127.0.0.2/",
        ] {
            assert_eq!(
                via(&r, proxied).as_deref(),
                Some("http://p:1/"),
                "{proxied}"
            );
        }
        assert_eq!(
            via(
                &rules(&[], &[("https_proxy", "p:1"), ("no_proxy", "*")]),
                "https://a/"
            ),
            None
        );
    }

    #[test]
    fn map_no_proxy_bypasses_everything_and_empty_means_direct() {
        let r = rules(
            &[("all", "http://p:1"), ("no_proxy", "127.0.0.1")],
            &[("HTTPS_PROXY", "http://env:2")],
        );
        assert_eq!(via(&r, "http://127.0.0.1:80/"), None);
        let r = rules(&[("https", "")], &[("HTTPS_PROXY", "http://env:2")]);
        assert_eq!(via(&r, "https://login.example/"), None);
        assert!(!r.is_direct());
        assert!(rules(&[("https", "")], &[]).is_direct());
    }

    #[test]
    fn environment_off_and_cgi() {
        let config = ProxyConfig {
            proxies: vec![],
            from_environment: false,
        };
        let r = ProxyRules::with_environment(&config, |_| Some("http://p:1".into())).unwrap();
        assert!(r.is_direct());
        let r = rules(
            &[],
            &[("REQUEST_METHOD", "GET"), ("HTTP_PROXY", "http://p:1")],
        );
        assert_eq!(via(&r, "http://login.example/"), None);
    }

    #[test]
    fn bad_proxies_are_client_errors_without_the_password() {
        let config = ProxyConfig {
            proxies: vec![("https".into(), "socks5://user:hunter2@p:1".into())],
            from_environment: false,
        };
        let e = ProxyRules::new(&config).unwrap_err();
        assert_eq!(e.code, "invalid_parameter");
        assert!(!e.message.contains("hunter2"), "{}", e.message);
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
