//! Just enough DER and PEM for client certificates: finding the public key in
//! an X.509 certificate an app registers, and writing the small self-signed
//! certificates the emulator hands out for certificate-credential tests.
//!
//! The reader never trusts lengths: every slice is bounds-checked, so a
//! truncated or hostile certificate is refused, not a panic.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// One decoded TLV: its tag, its contents, and the whole encoding.
#[derive(Clone, Copy, Debug)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub whole: &'a [u8],
}

/// Reads one TLV from the front of `input`; returns it and the rest.
pub fn read_tlv(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let tag = *input.first()?;
    if tag & 0x1f == 0x1f {
        return None; // multi-byte tags do not occur in certificates' outer structure
    }
    let first = *input.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let bytes = input.get(2..2 + n)?;
        let len = bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    let whole = input.get(..end)?;
    let content = input.get(header..end)?;
    Some((
        Tlv {
            tag,
            content,
            whole,
        },
        input.get(end..)?,
    ))
}

const SEQUENCE: u8 = 0x30;

/// The subject's commonName of an X.509 certificate (for subject name /
/// issuer authentication), when it has one.
pub fn certificate_subject_cn(cert: &[u8]) -> Option<String> {
    let (certificate, _) = read_tlv(cert)?;
    let (tbs, _) = read_tlv(certificate.content)?;
    let mut rest = tbs.content;
    let (first, after) = read_tlv(rest)?;
    if first.tag == 0xa0 {
        rest = after;
    }
    // serialNumber, signature, issuer, validity, then subject.
    for _ in 0..4 {
        rest = read_tlv(rest)?.1;
    }
    let (subject, _) = read_tlv(rest)?;
    let mut sets = subject.content;
    while let Some((set, next)) = read_tlv(sets) {
        let mut atvs = set.content;
        while let Some((atv, more)) = read_tlv(atvs) {
            let (oid, value) = read_tlv(atv.content)?;
            if oid.tag == 0x06 && oid.content == [0x55, 0x04, 0x03] {
                let (text, _) = read_tlv(value)?;
                return String::from_utf8(text.content.to_vec()).ok();
            }
            atvs = more;
        }
        sets = next;
    }
    None
}

/// The SubjectPublicKeyInfo (whole DER) of an X.509 certificate.
pub fn certificate_spki(cert: &[u8]) -> Option<&[u8]> {
    let (certificate, _) = read_tlv(cert)?;
    if certificate.tag != SEQUENCE {
        return None;
    }
    let (tbs, _) = read_tlv(certificate.content)?;
    if tbs.tag != SEQUENCE {
        return None;
    }
    let mut rest = tbs.content;
    let (first, after) = read_tlv(rest)?;
    if first.tag == 0xa0 {
        rest = after; // explicit [0] version
    }
    // serialNumber, signature, issuer, validity, subject, then subjectPublicKeyInfo.
    for _ in 0..5 {
        rest = read_tlv(rest)?.1;
    }
    let (spki, _) = read_tlv(rest)?;
    (spki.tag == SEQUENCE).then_some(spki.whole)
}

/// The first PEM block in `text`: its label and decoded bytes.
pub fn pem_decode(text: &str) -> Option<(String, Vec<u8>)> {
    let start = text.find("-----BEGIN ")?;
    let after_begin = &text[start + "-----BEGIN ".len()..];
    let label_end = after_begin.find("-----")?;
    let label = after_begin[..label_end].trim().to_owned();
    let body_start = &after_begin[label_end + 5..];
    let end = body_start.find("-----END ")?;
    let b64: String = body_start[..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = STANDARD.decode(b64).ok()?;
    Some((label, der))
}

/// PEM text with 64-column lines.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Writes a TLV.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

pub fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    tlv(SEQUENCE, &parts.concat())
}

/// A positive INTEGER from big-endian bytes.
pub fn integer(be: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = be.iter().copied().skip_while(|b| *b == 0).collect();
    let mut content = if trimmed.is_empty() { vec![0] } else { trimmed };
    if content[0] & 0x80 != 0 {
        content.insert(0, 0);
    }
    tlv(0x02, &content)
}

/// `sha256WithRSAEncryption` with its NULL parameters.
pub fn sha256_with_rsa() -> Vec<u8> {
    const OID: [u8; 9] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
    sequence(&[&tlv(0x06, &OID), &tlv(0x05, &[])])
}

/// A Name holding one commonName.
pub fn common_name(cn: &str) -> Vec<u8> {
    const OID_CN: [u8; 3] = [0x55, 0x04, 0x03];
    let atv = sequence(&[&tlv(0x06, &OID_CN), &tlv(0x0c, cn.as_bytes())]);
    sequence(&[&tlv(0x31, &atv)])
}

/// A GeneralizedTime for a Unix time, clamped to 1970–9999.
pub fn generalized_time(unix: i64) -> Vec<u8> {
    const LAST_SECOND_OF_9999: i64 = 253_402_300_799;
    let secs = unix.clamp(0, LAST_SECOND_OF_9999).unsigned_abs();
    let stamp =
        crate::clock::aad_timestamp(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs));
    // "YYYY-MM-DD HH:MM:SSZ" → "YYYYMMDDHHMMSSZ"
    let digits: String = stamp.chars().filter(char::is_ascii_digit).collect();
    tlv(0x18, format!("{digits}Z").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_trip() {
        for n in [0usize, 1, 127, 128, 255, 256, 70_000] {
            let v = tlv(0x04, &vec![7u8; n]);
            let (t, rest) = read_tlv(&v).unwrap();
            assert_eq!((t.tag, t.content.len(), rest.len()), (0x04, n, 0));
        }
    }

    #[test]
    fn hostile_input_is_refused() {
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x85, 1, 2, 3, 4, 5],
            &[0x30, 0x82, 0xff, 0xff, 0],
            &[0x1f, 0x01, 0x00],
            &[0x30, 0x80],
        ] {
            assert!(read_tlv(bad).is_none(), "{bad:?}");
            assert!(certificate_spki(bad).is_none());
        }
        assert!(certificate_spki(&sequence(&[&sequence(&[&integer(&[1])])])).is_none());
    }

    #[test]
    fn pem() {
        let text = pem_encode("CERTIFICATE", &[1, 2, 3]);
        assert_eq!(
            pem_decode(&text),
            Some(("CERTIFICATE".into(), vec![1, 2, 3]))
        );
        assert!(pem_decode("-----BEGIN X-----\n!!\n-----END X-----").is_none());
        assert!(pem_decode("no pem").is_none());
        assert_eq!(integer(&[0x80]), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(integer(&[]), vec![0x02, 0x01, 0x00]);
    }
}
