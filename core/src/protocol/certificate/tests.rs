//! Loading certificates from PKCS#12, encrypted PKCS#8 and thumbprints, and
//! the header each form produces.

use super::*;
use crate::protocol::jwt::{self, b64url, Jwk};
use crate::testkit::{certificate_der, key, other_key, pkcs8_of, start};
use aws_lc_rs::digest::{digest, SHA1_FOR_LEGACY_USE_ONLY, SHA256};
use base64::Engine as _;
use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};

const PASSWORD: &str = "correct horse battery staple";

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

fn pass(p: &str) -> Passphrase {
    Passphrase::new(p)
}

fn pfx(key_der: &[u8], certs: &[Vec<u8>], password: &str) -> Vec<u8> {
    let chain = PrivateKeyChain::new(
        b"key-1".to_vec(),
        PrivateKey::from_der(key_der).unwrap(),
        certs.iter().map(|c| Certificate::from_der(c).unwrap()),
    );
    let mut store = KeyStore::new();
    store.add_entry("client", KeyStoreEntry::PrivateKeyChain(chain));
    store.writer(password).write().unwrap()
}

fn encrypted_pkcs8(key_der: &[u8], password: &str) -> String {
    let params = pkcs8::pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(
        2048,
        b"sixteen byte salt",
        [7; 16],
    )
    .unwrap();
    let info = pkcs8::PrivateKeyInfoRef::try_from(key_der).unwrap();
    let doc = info.encrypt_with_params(params, password).unwrap();
    pem("ENCRYPTED PRIVATE KEY", doc.as_bytes())
}

fn code<T>(r: Result<T, IdFlowError>) -> String {
    r.map(|_| "ok".to_owned()).unwrap_or_else(|e| e.code)
}

fn header(cert: &ClientCertificate) -> serde_json::Map<String, serde_json::Value> {
    let a = cert.assertion("client", "https://aud", start()).unwrap();
    let decoded = jwt::decode(a.expose()).unwrap();
    let public: Jwk = serde_json::from_value(jwt::rsa_public_jwk(&key(), None)).unwrap();
    assert!(jwt::verify(&decoded, &public), "signed with the loaded key");
    decoded.header
}

#[test]
fn pkcs12_with_password_signs_ps256_with_the_sha256_thumbprint() {
    let cert = certificate_der(&key(), "client.example");
    let file = pfx(&pkcs8_of(&key()), std::slice::from_ref(&cert), PASSWORD);
    let loaded = ClientCertificate::from_pkcs12(&file, Some(&pass(PASSWORD)))
        .unwrap()
        .without_kid();
    let h = header(&loaded);
    assert_eq!(h["alg"], "PS256");
    assert_eq!(
        h["x5t#S256"],
        b64url(digest(&SHA256, &cert).as_ref()).as_str()
    );
    assert!(!h.contains_key("x5t") && !h.contains_key("kid") && !h.contains_key("x5c"));
    let with_x5c = header(&loaded.clone().with_x5c(true));
    assert_eq!(
        with_x5c["x5c"][0],
        base64::engine::general_purpose::STANDARD
            .encode(&cert)
            .as_str()
    );
}

#[test]
fn pkcs12_puts_the_key_s_certificate_first_in_the_chain() {
    let leaf = certificate_der(&key(), "leaf.example");
    let other = certificate_der(&other_key(), "issuer.example");
    let file = pfx(&pkcs8_of(&key()), &[other.clone(), leaf.clone()], PASSWORD);
    let loaded = ClientCertificate::from_pkcs12(&file, Some(&pass(PASSWORD))).unwrap();
    assert_eq!(loaded.chain, vec![leaf, other]);
}

#[test]
fn pkcs12_wrong_or_missing_password_says_so_without_the_password() {
    let cert = certificate_der(&key(), "client.example");
    let file = pfx(&pkcs8_of(&key()), &[cert], PASSWORD);
    let e = ClientCertificate::from_pkcs12(&file, Some(&pass("wrong-guess-xyz"))).unwrap_err();
    assert_eq!(e.code, "certificate_password_incorrect");
    assert!(!e.message.contains("wrong-guess-xyz"), "{}", e.message);
    assert!(e.message.contains("password"), "{}", e.message);
    assert_eq!(
        code(ClientCertificate::from_pkcs12(&file, None)),
        "certificate_password_incorrect"
    );
    assert_eq!(
        code(ClientCertificate::from_pkcs12(b"not a pfx", None)),
        "invalid_parameter"
    );
}

#[test]
fn pkcs12_whose_key_is_not_the_certificate_s_is_a_mismatch() {
    let cert = certificate_der(&other_key(), "client.example");
    let file = pfx(&pkcs8_of(&key()), &[cert], PASSWORD);
    let e = ClientCertificate::from_pkcs12(&file, Some(&pass(PASSWORD))).unwrap_err();
    assert_eq!(e.code, "certificate_key_mismatch");
    assert_eq!(e.kind, crate::error::ErrorKind::Client);
}

#[test]
fn encrypted_pkcs8_pem_with_its_passphrase() {
    let cert = certificate_der(&key(), "client.example");
    let key_pem = encrypted_pkcs8(&pkcs8_of(&key()), PASSWORD);
    let cert_pem = pem("CERTIFICATE", &cert);
    let loaded =
        ClientCertificate::from_pem_with_passphrase(&cert_pem, &key_pem, Some(&pass(PASSWORD)))
            .unwrap();
    assert_eq!(header(&loaded)["alg"], "PS256");
    let wrong =
        ClientCertificate::from_pem_with_passphrase(&cert_pem, &key_pem, Some(&pass("not-it-123")))
            .unwrap_err();
    assert_eq!(wrong.code, "certificate_password_incorrect");
    assert!(!wrong.message.contains("not-it-123"));
    assert_eq!(
        code(ClientCertificate::from_pem_with_passphrase(
            &cert_pem, &key_pem, None
        )),
        "certificate_password_incorrect"
    );
    // The plain loader names the missing passphrase rather than failing obscurely.
    let e = ClientCertificate::from_pem(&cert_pem, &key_pem).unwrap_err();
    assert!(e.message.contains("passphrase"), "{}", e.message);
    let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
    let e = ClientCertificate::from_pem_with_passphrase(&cert_pem, legacy, Some(&pass("x")))
        .unwrap_err();
    assert!(e.message.contains("pkcs8 -topk8"), "{}", e.message);
}

#[test]
fn plain_pem_whose_key_is_not_the_certificate_s_is_a_mismatch() {
    let cert_pem = pem("CERTIFICATE", &certificate_der(&other_key(), "x"));
    let key_pem = pem("PRIVATE KEY", &pkcs8_of(&key()));
    assert_eq!(
        code(ClientCertificate::from_pem(&cert_pem, &key_pem)),
        "certificate_key_mismatch"
    );
    assert_eq!(
        code(ClientCertificate::from_pem_with_passphrase(
            &cert_pem, &key_pem, None
        )),
        "certificate_key_mismatch"
    );
}

#[test]
fn thumbprint_only_signs_rs256_with_x5t_from_the_hex_thumbprint() {
    let cert = certificate_der(&key(), "client.example");
    let sha1 = digest(&SHA1_FOR_LEGACY_USE_ONLY, &cert);
    let hex: String = sha1.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    let key_pem = pem("PRIVATE KEY", &pkcs8_of(&key()));
    let loaded = ClientCertificate::from_key_and_thumbprint(&key_pem, None, &hex)
        .unwrap()
        .without_kid();
    assert_eq!(loaded.algorithm(), RsaAlg::Rs256);
    let h = header(&loaded);
    assert_eq!(h["alg"], "RS256");
    assert_eq!(h["x5t"], b64url(sha1.as_ref()).as_str());
    assert!(!h.contains_key("x5t#S256") && !h.contains_key("x5c") && !h.contains_key("kid"));
    // Asking for PS256 cannot help without the SHA-256 thumbprint.
    assert_eq!(
        header(&loaded.clone().with_algorithm(RsaAlg::Ps256))["alg"],
        "RS256"
    );
    // With the certificate too, x5c goes along (subject name / issuer auth).
    let with_cert = loaded
        .with_certificate_for_x5c(&pem("CERTIFICATE", &cert))
        .unwrap();
    let h = header(&with_cert);
    assert_eq!(h["alg"], "RS256");
    assert!(h["x5c"].is_array());
    // Encrypted key in the thumbprint form, and bad thumbprints.
    let enc = encrypted_pkcs8(&pkcs8_of(&key()), PASSWORD);
    assert_eq!(
        code(ClientCertificate::from_key_and_thumbprint(
            &enc,
            Some(&pass(PASSWORD)),
            &hex
        )),
        "ok"
    );
    assert_eq!(
        code(ClientCertificate::from_key_and_thumbprint(
            &key_pem, None, "abc"
        )),
        "invalid_parameter"
    );
    assert_eq!(
        code(ClientCertificate::from_key_and_thumbprint(
            &key_pem,
            None,
            &"zz".repeat(20)
        )),
        "invalid_parameter"
    );
    let mismatched = ClientCertificate::from_key_and_thumbprint(&key_pem, None, &hex)
        .unwrap()
        .with_certificate_for_x5c(&pem("CERTIFICATE", &certificate_der(&other_key(), "o")));
    assert_eq!(code(mismatched), "certificate_key_mismatch");
}

#[test]
fn debug_shows_thumbprints_never_the_key() {
    let cert = certificate_der(&key(), "client.example");
    let file = pfx(&pkcs8_of(&key()), &[cert], PASSWORD);
    let loaded = ClientCertificate::from_pkcs12(&file, Some(&pass(PASSWORD))).unwrap();
    let shown = format!("{loaded:?}");
    assert!(shown.contains("[redacted]") && shown.contains("x5t"));
    assert!(!shown.contains(PASSWORD));
}
