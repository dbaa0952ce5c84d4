//! The key that seals a Redis token cache (`--cache-key-env VAR` or
//! `--cache-key-file FILE`): 32 bytes written as 64 hex digits, e.g. from
//! `openssl rand -hex 32`.
//!
//! Never an argument value: a command line is visible to every user of the
//! machine (`ps`, `/proc/*/cmdline`), lands in shell history and in the logs
//! of whatever started the process. The option names where the key is;
//! errors name that place, never the key or a part of it.

/// Where the key is read from.
#[derive(Debug)]
pub enum KeySource {
    Env(String),
    File(String),
}

/// The key's 32 bytes.
pub fn read(source: &KeySource) -> Result<Vec<u8>, String> {
    let (text, place) = match source {
        KeySource::Env(var) => (
            std::env::var(var).map_err(|_| {
                format!("--cache-key-env {var}: the environment variable is not set (or not UTF-8)")
            })?,
            format!("--cache-key-env {var}"),
        ),
        KeySource::File(path) => (
            std::fs::read_to_string(path)
                .map_err(|e| format!("--cache-key-file {path}: {}", e.kind()))?,
            format!("--cache-key-file {path}"),
        ),
    };
    parse_hex(text.trim()).ok_or_else(|| {
        format!(
            "{place}: the cache key must be 64 hex digits (32 bytes, AES-256), \
             e.g. from `openssl rand -hex 32`"
        )
    })
}

fn parse_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    (0..32)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_keys_only_of_32_bytes() {
        let good = "00".repeat(31) + "ff";
        assert_eq!(parse_hex(&good).unwrap()[31], 0xff);
        assert!(parse_hex(&"0".repeat(62)).is_none());
        assert!(parse_hex(&"zz".repeat(32)).is_none());
        assert!(parse_hex(&"é".repeat(32)).is_none());
    }

    #[test]
    fn errors_never_quote_the_key() {
        let dir = std::env::temp_dir().join(format!("idflow-key-{}", std::process::id()));
        std::fs::write(&dir, "secret-key-material-not-hex").unwrap();
        let e = read(&KeySource::File(dir.to_string_lossy().into_owned())).unwrap_err();
        let _ = std::fs::remove_file(&dir);
        assert!(!e.contains("secret-key-material"), "{e}");
        assert!(e.contains("64 hex digits"));
    }
}
