//! The grant types the token endpoint knows by their long names, and the one
//! place a short spelling is read as its long form. Every other module takes
//! its grant names from here.

/// The device-code grant type (MSAL.NET sends the short `device_code`, which is accepted too).
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// The grant type of on-behalf-of requests.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// A grant type as the token endpoint compares it: MSAL.NET's short
/// `device_code` becomes [`DEVICE_CODE_GRANT`]; anything else is kept.
pub fn normalize(grant_type: &str) -> &str {
    match grant_type {
        "device_code" => DEVICE_CODE_GRANT,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_device_code_becomes_the_urn() {
        assert_eq!(normalize("device_code"), DEVICE_CODE_GRANT);
        assert_eq!(normalize(DEVICE_CODE_GRANT), DEVICE_CODE_GRANT);
        assert_eq!(normalize("refresh_token"), "refresh_token");
        assert_eq!(normalize("Device_Code"), "Device_Code");
    }
}
