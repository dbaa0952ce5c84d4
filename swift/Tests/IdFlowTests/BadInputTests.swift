// Answers an app cannot use, through a real flow: faults armed with POST /_admin/faults on the
// emulator's token endpoint (HTML, empty, oversized, malformed, an error on 200, a token without
// access_token, a delay past the app's timeout), and node-oidc-provider refusing a refresh
// token and a wrong secret. Each asserts the NSError an app catches.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import IdFlow
import XCTest

final class BadInputTests: XCTestCase {
    private let graphDefault = ["https://graph.microsoft.com/.default"]

    private struct Case {
        let name: String
        let effect: [String: Any]
        let code: IdFlowErrorCode
        let internalCode: IdFlowInternalErrorCode?
        let kind: String
        let oauthError: String?
    }

    func testUnusableTokenAnswersThroughClientCredentials() async throws {
        let cases = [
            Case(name: "HTML page (500)", effect: ["kind": "html_page", "status": 500],
                 code: .internal, internalCode: .unhandledResponse, kind: "service", oauthError: nil),
            Case(name: "empty body (400)", effect: ["kind": "empty_body", "status": 400],
                 code: .internal, internalCode: .unexpectedHttpResponse, kind: "service", oauthError: nil),
            Case(name: "oversized body (2 MiB, 400)",
                 effect: ["kind": "oversized_body", "bytes": 2 * 1024 * 1024, "status": 400],
                 code: .internal, internalCode: .unhandledResponse, kind: "service", oauthError: nil),
            Case(name: "malformed JSON (400)", effect: ["kind": "malformed_json", "status": 400],
                 code: .internal, internalCode: .unhandledResponse, kind: "service", oauthError: nil),
            Case(name: "invalid_grant on HTTP 200",
                 effect: ["kind": "oauth_error", "error": "invalid_grant", "status": 200,
                          "error_description": "AADSTS70000: error on 200.", "error_codes": [70000]],
                 code: .interactionRequired, internalCode: nil, kind: "interaction_required",
                 oauthError: "invalid_grant"),
            Case(name: "token response without access_token", effect: ["kind": "missing_access_token"],
                 code: .internal, internalCode: .invalidResponse, kind: "service", oauthError: nil),
        ]
        for c in cases {
            try await Emulator.admin("reset")
            // A 5xx is sent once more (the core's one retry): arm it for both.
            let count = (c.effect["status"] as? Int ?? 0) >= 500 ? 2 : 1
            try await Emulator.admin("faults", [
                "match": ["endpoint": "token"], "count": count, "effect": c.effect,
            ])
            let app = try confidentialApp(timeout: 20)
            let seen = await expectNSError(c.name) {
                _ = try await app.acquireTokenForClient(scopes: self.graphDefault, claims: nil)
            }
            guard let (ns, _) = seen else { continue }
            XCTAssertEqual(ns.domain, IdFlowErrorDomain, "\(c.name): domain")
            XCTAssertEqual(ns.code, c.code.rawValue, "\(c.name): code")
            XCTAssertEqual(ns.userInfo[IdFlowInternalErrorCodeKey] as? Int, c.internalCode?.rawValue,
                           "\(c.name): internal code")
            XCTAssertEqual(ns.userInfo[IdFlowErrorKindKey] as? String, c.kind, "\(c.name): kind")
            XCTAssertEqual(ns.userInfo[IdFlowOAuthErrorKey] as? String, c.oauthError,
                           "\(c.name): OAuth error")
            if c.kind == "interaction_required" {
                XCTAssertEqual(ns.userInfo[IdFlowClassificationKey] as? String, "None",
                               "\(c.name): classification")
            }
            XCTAssertNotNil(ns.userInfo[IdFlowCorrelationIDKey] as? String, "\(c.name): correlation id")
        }
        // The faults were each used once: the next request gets a token.
        let token = try await confidentialApp(timeout: 20)
            .acquireTokenForClient(scopes: graphDefault, claims: nil)
        XCTAssertFalse(token.accessToken.isEmpty)
    }

    func testDelayPastTheTimeoutIsNSURLErrorTimedOut() async throws {
        try await Emulator.admin("reset")
        try await Emulator.admin("faults", [
            // Twice: the timed-out request is retried once, after 1 s.
            "match": ["endpoint": "token"], "count": 2, "effect": ["kind": "delay", "ms": 10000],
        ])
        let app = try confidentialApp(timeout: 0.5)
        let started = Date()
        let seen = await expectNSError("10 s delay, 0.5 s timeout") {
            _ = try await app.acquireTokenForClient(scopes: self.graphDefault, claims: nil)
        }
        // 0.5 s + 1 s + 0.5 s; one 10 s delay alone would be longer (the room between is for a
        // loaded machine, which stretches every step).
        XCTAssertLessThan(Date().timeIntervalSince(started), 9.5, "the timeout did not fire")
        guard let (ns, _) = seen else { return }
        XCTAssertEqual(ns.domain, NSURLErrorDomain)
        XCTAssertEqual(ns.code, URLError.Code.timedOut.rawValue, "\(ns)")
        XCTAssertEqual(ns.userInfo[IdFlowErrorKindKey] as? String, "network")
        XCTAssertNil(ns.userInfo[IdFlowInternalErrorCodeKey])
    }

    // MARK: - node-oidc-provider

    func testOpenIDProviderRefusesAnUnknownRefreshToken() async throws {
        let op = try OIDCProvider.load()
        let id = try XCTUnwrap(op.clients["native"]?["client_id"] as? String, "no native client")
        let scope = op.apiScopes.first { !$0.hasSuffix("/.default") } ?? "api://idflow-test/read"
        let app = try PublicClientApplication(clientId: id, authority: op.issuer, oidcAuthority: true,
                                              timeout: 20)
        let seen = await expectNSError("OpenID provider: unknown refresh token") {
            _ = try await app.acquireTokenByRefreshToken(
                refreshToken: "not-a-refresh-token-from-this-provider", scopes: [scope], claims: nil)
        }
        guard let (ns, _) = seen else { return }
        XCTAssertEqual(ns.domain, IdFlowErrorDomain)
        XCTAssertEqual(ns.code, IdFlowErrorCode.interactionRequired.rawValue, "\(ns)")
        XCTAssertEqual(ns.userInfo[IdFlowErrorKindKey] as? String, "interaction_required")
        XCTAssertEqual(ns.userInfo[IdFlowOAuthErrorKey] as? String, "invalid_grant")
        XCTAssertNil(ns.userInfo[IdFlowInternalErrorCodeKey])
    }

    func testOpenIDProviderRefusesAWrongSecret() async throws {
        let op = try OIDCProvider.load()
        let id = try XCTUnwrap(op.clients["secret_post"]?["client_id"] as? String, "no secret_post client")
        let scope = op.apiScopes.first { $0.hasSuffix("/.default") } ?? "api://idflow-test/.default"
        let app = try ConfidentialClientApplication(
            clientId: id, authority: op.issuer, credential: .secret(secret: "not-the-secret"),
            oidcAuthority: true, timeout: 20)
        let seen = await expectNSError("OpenID provider: wrong secret") {
            _ = try await app.acquireTokenForClient(scopes: [scope], claims: nil)
        }
        guard let (ns, _) = seen else { return }
        XCTAssertEqual(ns.domain, IdFlowErrorDomain)
        XCTAssertEqual(ns.code, IdFlowErrorCode.internal.rawValue, "\(ns)")
        XCTAssertEqual(ns.userInfo[IdFlowInternalErrorCodeKey] as? Int,
                       IdFlowInternalErrorCode.invalidClient.rawValue)
        XCTAssertEqual(ns.userInfo[IdFlowErrorKindKey] as? String, "service")
        XCTAssertEqual(ns.userInfo[IdFlowOAuthErrorKey] as? String, "invalid_client")
    }

    // MARK: - helpers

    private func confidentialApp(timeout: TimeInterval) throws -> ConfidentialClientApplication {
        try ConfidentialClientApplication(
            clientId: Emulator.confidentialClient, authority: try Emulator.authority(Emulator.tenant),
            credential: .secret(secret: Emulator.secret), timeout: timeout)
    }
}
