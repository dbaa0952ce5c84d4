use super::*;

fn code(r: Result<Authority, IdFlowError>) -> String {
    r.map(|a| a.as_str().to_owned()).unwrap_or_else(|e| e.code)
}

#[test]
fn microsoft_tenants_and_sovereign_clouds() {
    for (input, tenant) in [
        ("https://login.microsoftonline.com/common", "common"),
        (
            "https://login.microsoftonline.com/organizations/",
            "organizations",
        ),
        ("https://login.microsoftonline.com/consumers", "consumers"),
        (
            "https://login.microsoftonline.com/contoso.onmicrosoft.com",
            "contoso.onmicrosoft.com",
        ),
        (
            "https://LOGIN.chinacloudapi.cn/72f988bf-86f1-41af-91ab-2d7cd011db47",
            "72f988bf-86f1-41af-91ab-2d7cd011db47",
        ),
        ("https://login.microsoftonline.us/t", "t"),
        ("https://login-us.microsoftonline.com/t", "t"),
    ] {
        let a = Authority::parse(input).unwrap();
        assert_eq!(a.kind(), AuthorityKind::Aad, "{input}");
        assert_eq!(a.tenant(), Some(tenant));
        assert!(!a.as_str().ends_with('/'));
        assert!(a.is_microsoft());
    }
    let a = Authority::parse("https://LOGIN.chinacloudapi.cn/t").unwrap();
    assert_eq!(a.host(), "login.chinacloudapi.cn");
}

#[test]
fn derived_endpoints_and_discovery() {
    let a = Authority::parse("https://login.microsoftonline.com/common/").unwrap();
    let e = a.derived_endpoints().unwrap();
    assert_eq!(
        e.token.as_str(),
        "https://login.microsoftonline.com/common/oauth2/v2.0/token"
    );
    assert_eq!(
        e.authorization.as_str(),
        "https://login.microsoftonline.com/common/oauth2/v2.0/authorize"
    );
    assert_eq!(
        e.device_authorization.unwrap().as_str(),
        "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode"
    );
    assert_eq!(
        a.discovery_url().as_str(),
        "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration"
    );
}

#[test]
fn b2c_and_ciam() {
    let a = Authority::parse(
        "https://fabrikamb2c.b2clogin.com/fabrikamb2c.onmicrosoft.com/B2C_1_signupsignin",
    )
    .unwrap();
    assert_eq!(a.kind(), AuthorityKind::B2c);
    assert_eq!(a.tenant(), Some("fabrikamb2c.onmicrosoft.com"));
    assert_eq!(a.policy(), Some("B2C_1_signupsignin"));
    assert_eq!(
        a.derived_endpoints().unwrap().token.as_str(),
        "https://fabrikamb2c.b2clogin.com/fabrikamb2c.onmicrosoft.com/B2C_1_signupsignin/oauth2/v2.0/token"
    );
    let tfp =
        Authority::parse("https://fabrikamb2c.b2clogin.com/tfp/t.onmicrosoft.com/B2C_1_x").unwrap();
    assert_eq!(tfp.kind(), AuthorityKind::B2c);
    assert_eq!(tfp.policy(), Some("B2C_1_x"));
    for host in ["x.b2clogin.cn", "x.b2clogin.us", "x.b2clogin.de"] {
        let a = Authority::parse(&format!("https://{host}/t.onmicrosoft.com/B2C_1_x")).unwrap();
        assert_eq!(a.kind(), AuthorityKind::B2c, "{host}");
    }
    assert_eq!(
        code(Authority::parse("https://x.b2clogin.com/x.onmicrosoft.com")),
        "invalid_authority"
    );

    let c = Authority::parse("https://contoso.ciamlogin.com").unwrap();
    assert_eq!(c.kind(), AuthorityKind::Ciam);
    assert_eq!(c.tenant(), Some("contoso.onmicrosoft.com"));
    assert_eq!(
        c.as_str(),
        "https://contoso.ciamlogin.com/contoso.onmicrosoft.com"
    );
    let c2 = Authority::parse("https://contoso.ciamlogin.com/abc-guid").unwrap();
    assert_eq!(c2.tenant(), Some("abc-guid"));
}

#[test]
fn oidc_issuers() {
    let a = Authority::oidc("https://idp.example/realms/x/").unwrap();
    assert_eq!(a.kind(), AuthorityKind::Oidc);
    assert_eq!(a.as_str(), "https://idp.example/realms/x");
    assert_eq!(
        a.discovery_url().as_str(),
        "https://idp.example/realms/x/.well-known/openid-configuration"
    );
    assert!(a.derived_endpoints().is_none());
    assert!(!a.is_microsoft());
    let root = Authority::oidc("http://127.0.0.1:4000").unwrap();
    assert_eq!(
        root.discovery_url().as_str(),
        "http://127.0.0.1:4000/.well-known/openid-configuration"
    );
    assert_eq!(root.host(), "127.0.0.1:4000");
}

#[test]
fn https_required_except_loopback() {
    for ok in [
        "http://127.0.0.1:8080/common",
        "http://localhost:1/t",
        "http://[::1]:9/t",
        "http://127.10.0.3/t",
    ] {
        let a = Authority::parse(ok).unwrap();
        assert!(a.is_loopback(), "{ok}");
    }
    assert_eq!(
        code(Authority::parse("http://login.microsoftonline.com/common")),
        "authority_uri_insecure"
    );
    assert_eq!(
        code(Authority::oidc("http://idp.example")),
        "authority_uri_insecure"
    );
    assert!(!Authority::parse("https://login.microsoftonline.com/x")
        .unwrap()
        .is_loopback());
}

#[test]
fn malformed_authorities() {
    for bad in [
        "",
        "login.microsoftonline.com/common",
        "ftp://login.microsoftonline.com/common",
        "https://login.microsoftonline.com",
        "https://login.microsoftonline.com/",
        "https://login.microsoftonline.com/a/b",
        "https://login.microsoftonline.com/common?x=1",
        "https://login.microsoftonline.com/common#f",
        "https://user:pw@login.microsoftonline.com/common",
        "https:///common",
    ] {
        let e = Authority::parse(bad).unwrap_err();
        assert_eq!(e.code, "invalid_authority", "{bad}");
        assert_eq!(e.kind, crate::error::ErrorKind::Client);
    }
    assert!(!Authority::parse("https://user:pw@x/c")
        .unwrap_err()
        .message
        .contains("pw@"));
}

/// A `/tfp/` path used to make any host B2C, and B2C skips instance
/// discovery: `https://evil.example/tfp/x/y` was accepted unvalidated.
#[test]
fn tfp_path_on_another_host_is_not_b2c_unless_declared() {
    for input in [
        "https://evil.example/tfp/contoso.onmicrosoft.com/B2C_1_signin",
        "https://login.microsoftonline.com/tfp/t.onmicrosoft.com/B2C_1_x",
    ] {
        let e = Authority::parse(input).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.kind),
            ("invalid_authority", crate::error::ErrorKind::Client),
            "{input}"
        );
        assert!(e.message.contains("not a B2C host"), "{}", e.message);
    }
    // The app may declare a B2C custom domain explicitly.
    let a = Authority::b2c("https://login.contoso.com/tfp/contoso.onmicrosoft.com/B2C_1_signin")
        .unwrap();
    assert_eq!(a.kind(), AuthorityKind::B2c);
    assert_eq!(a.tenant(), Some("contoso.onmicrosoft.com"));
    assert_eq!(a.policy(), Some("B2C_1_signin"));
    assert_eq!(
        a.as_str(),
        "https://login.contoso.com/tfp/contoso.onmicrosoft.com/B2C_1_signin"
    );
    let plain =
        Authority::b2c("https://login.contoso.com/contoso.onmicrosoft.com/B2C_1_x/").unwrap();
    assert_eq!(
        plain.as_str(),
        "https://login.contoso.com/contoso.onmicrosoft.com/B2C_1_x"
    );
    assert_eq!(
        code(Authority::b2c(
            "https://login.contoso.com/contoso.onmicrosoft.com"
        )),
        "invalid_authority"
    );
    assert_eq!(
        code(Authority::b2c("http://login.contoso.com/t/p")),
        "authority_uri_insecure"
    );
}
