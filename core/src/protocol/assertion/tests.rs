//! Client assertions: header, claims, signature, and key loading.

use super::*;
use crate::protocol::jwt::Jwk;
use crate::testkit::{certificate_der, key, secs, start};
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};

/// A real certificate for the test key (loading checks that they match).
fn cert_der() -> Vec<u8> {
    certificate_der(&key(), "client.example")
}

fn pkcs8() -> Vec<u8> {
    AsDer::<Pkcs8V1Der>::as_der(&*key())
        .unwrap()
        .as_ref()
        .to_vec()
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn public_jwk() -> Jwk {
    serde_json::from_value(jwt::rsa_public_jwk(&key(), None)).unwrap()
}

#[test]
fn ps256_assertion_for_the_microsoft_identity_platform() {
    let cert = ClientCertificate::from_der(&cert_der(), &pkcs8()).unwrap();
    let aud = "https://login.microsoftonline.com/t/oauth2/v2.0/token";
    let a = cert.assertion("client-1", aud, start()).unwrap();
    let jwt = jwt::decode(a.expose()).unwrap();
    assert_eq!(jwt.alg(), "PS256");
    let sha256 = b64url(digest(&SHA256, &cert_der()).as_ref());
    assert_eq!(jwt.header["x5t#S256"], sha256.as_str());
    assert_eq!(jwt.header["kid"], sha256.as_str());
    assert!(!jwt.header.contains_key("x5t"));
    assert!(!jwt.header.contains_key("x5c"));
    let c = &jwt.claims;
    assert_eq!(
        (c["aud"].as_str(), c["iss"].as_str(), c["sub"].as_str()),
        (Some(aud), Some("client-1"), Some("client-1"))
    );
    assert_eq!(c["iat"], secs(start()));
    assert_eq!(c["nbf"], secs(start()));
    assert_eq!(c["exp"], secs(start()) + 600);
    let jti = c["jti"].as_str().unwrap();
    let again = jwt::decode(cert.assertion("client-1", aud, start()).unwrap().expose()).unwrap();
    assert_ne!(
        again.claims["jti"].as_str().unwrap(),
        jti,
        "jti is fresh per assertion"
    );
    assert!(jwt::verify(&jwt, &public_jwk()));
}

#[test]
fn rs256_with_x5t_kid_override_and_x5c() {
    let cert = ClientCertificate::from_der(&cert_der(), &pkcs8())
        .unwrap()
        .with_algorithm(RsaAlg::Rs256)
        .with_kid("registered-key")
        .with_x5c(true);
    let jwt = jwt::decode(cert.assertion("c", "aud", start()).unwrap().expose()).unwrap();
    assert_eq!(jwt.alg(), "RS256");
    assert_eq!(jwt.header["x5t"], cert.thumbprint_sha1().as_str());
    assert_eq!(
        cert.thumbprint_sha1(),
        b64url(digest(&SHA1_FOR_LEGACY_USE_ONLY, &cert_der()).as_ref())
    );
    assert_eq!(jwt.header["kid"], "registered-key");
    assert_eq!(jwt.header["x5c"][0], b64_standard(&cert_der()).as_str());
    assert!(jwt::verify(&jwt, &public_jwk()));
}

#[test]
fn loads_pem_and_explains_what_is_wrong() {
    let cert_pem = pem("CERTIFICATE", &cert_der());
    let key_pem = pem("PRIVATE KEY", &pkcs8());
    let cert = ClientCertificate::from_pem(&cert_pem, &key_pem).unwrap();
    assert_eq!(
        cert.thumbprint_sha256(),
        b64url(digest(&SHA256, &cert_der()).as_ref())
    );
    let shown = format!("{cert:?}");
    assert!(shown.contains("[redacted]") && !shown.contains(&key_pem[30..60]));

    let code = |r: Result<ClientCertificate, IdFlowError>| {
        r.map(|_| String::new()).unwrap_or_else(|e| e.code)
    };
    assert_eq!(
        code(ClientCertificate::from_pem(&cert_pem, "garbage")),
        "invalid_parameter"
    );
    assert_eq!(
        code(ClientCertificate::from_pem(&cert_pem, &cert_pem)),
        "invalid_parameter"
    );
    assert_eq!(
        code(ClientCertificate::from_pem(
            &cert_pem,
            &pem("ENCRYPTED PRIVATE KEY", b"x")
        )),
        "invalid_parameter"
    );
    assert_eq!(
        code(ClientCertificate::from_pem(&key_pem, &key_pem)),
        "invalid_parameter",
        "no certificate"
    );
    assert_eq!(
        code(ClientCertificate::from_der(&cert_der(), b"not a key")),
        "invalid_parameter"
    );
    let e = ClientCertificate::from_pem(&cert_pem, &pem("PRIVATE KEY", b"junk")).unwrap_err();
    assert!(e.message.contains("RSA key"), "{}", e.message);
}
