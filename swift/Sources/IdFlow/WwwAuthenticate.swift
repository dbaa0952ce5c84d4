// Claims challenges from protected resources: the `WWW-Authenticate` header of a 401, as
// `HTTPURLResponse` gives it. Parsing and decoding are the core's (`parseWwwAuthenticate`,
// `claimsChallenge`); this file only adapts Foundation's header dictionary.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `WWW-Authenticate` helpers.
///
/// When an API answers 401 with `WWW-Authenticate: Bearer error="insufficient_claims",
/// claims="…"` (Conditional Access, Continuous Access Evaluation), pass
/// ``claimsChallenge(from:)`` to the next token request (interactive, or silent with a forced
/// refresh) and call the API again with the new token.
public enum WwwAuthenticate {
    /// The headers of `allHeaderFields` (or any `[name: value]` dictionary) as FFI headers.
    /// Foundation joins repeated headers with ", ", which the parser reads as one value holding
    /// several challenges.
    public static func headers(_ fields: [AnyHashable: Any]) -> [Header] {
        fields.compactMap { name, value in
            guard let name = name as? String else { return nil }
            return Header(name: name, value: String(describing: value))
        }
    }

    /// Every challenge of every `WWW-Authenticate` header, in order. Throws an `AuthError`
    /// (`unable_to_parse_authentication_header`, a client error) for a header that does not parse.
    public static func parse(_ headers: [Header]) throws -> [AuthChallenge] {
        try parseWwwAuthenticate(headers: headers)
    }

    /// ``parse(_:)`` for a response.
    public static func parse(from response: HTTPURLResponse) throws -> [AuthChallenge] {
        try parse(headers(response.allHeaderFields))
    }

    /// The decoded claims of an `error="insufficient_claims"` challenge; `nil` when there is none.
    public static func claimsChallenge(_ headers: [Header]) -> String? {
        IdFlow.claimsChallenge(headers: headers)
    }

    /// ``claimsChallenge(_:)`` for a response.
    public static func claimsChallenge(from response: HTTPURLResponse) -> String? {
        claimsChallenge(headers(response.allHeaderFields))
    }
}
