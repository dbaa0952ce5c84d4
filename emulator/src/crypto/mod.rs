//! Keys and signatures: JWTs signed and checked with RSA, the DER the test
//! certificates are made of, and the credentials test clients present.

pub mod credentials;
pub mod der;
pub mod jwt;
