// Retry, the client-side throttle and claims challenges through the Swift API against the
// emulator (its request log shows what reached it), and the WWW-Authenticate helpers on
// testdata/www_authenticate.json (the cases every language runs).

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import IdFlow
import XCTest

final class ResilienceTests: XCTestCase {
    private let graphDefault = ["https://graph.microsoft.com/.default"]
    private let userRead = ["User.Read"]
    private let mfa = #"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#

    override func setUp() async throws {
        try await Emulator.admin("reset")
        try await Emulator.admin("requests", method: "DELETE")
    }

    private func confidential() throws -> ConfidentialClientApplication {
        try ConfidentialClientApplication(
            clientId: Emulator.confidentialClient, authority: try Emulator.authority(Emulator.tenant),
            credential: .secret(secret: Emulator.secret), timeout: 20)
    }

    private func tokenRequests() async throws -> [[String: Any]] {
        let log = try await Emulator.admin("requests", method: "GET") as? [[String: Any]] ?? []
        return log.filter { $0["endpoint"] as? String == "token" }
    }

    private func claimsSent(_ record: [String: Any]) -> NSDictionary? {
        let params = record["params"] as? [[String]] ?? []
        guard let value = params.first(where: { $0.first == "claims" })?.last,
              let json = try? JSONSerialization.jsonObject(with: Data(value.utf8)) as? [String: Any]
        else { return nil }
        return json as NSDictionary
    }

    private func dict(_ json: String) -> NSDictionary {
        (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? NSDictionary) ?? [:]
    }

    func testASingle5xxIsRetriedOnceAndSucceeds() async throws {
        try await Emulator.admin("faults", [
            "match": ["endpoint": "token"], "count": 1, "effect": ["kind": "status", "status": 500],
        ])
        let token = try await confidential().acquireTokenForClient(scopes: graphDefault, claims: nil)
        XCTAssertFalse(token.accessToken.isEmpty)
        let sent = try await tokenRequests()
        XCTAssertEqual(sent.map { $0["status"] as? Int }, [500, 200])
        XCTAssertEqual(sent.first?["correlation_id"] as? String, sent.last?["correlation_id"] as? String)
    }

    func test503WithRetryAfterIsNotRetried() async throws {
        try await Emulator.admin("presets/service_unavailable_503")
        let app = try confidential()
        let seen = await expectNSError("503 + Retry-After") {
            _ = try await app.acquireTokenForClient(scopes: self.graphDefault, claims: nil)
        }
        let count = try await tokenRequests().count
        XCTAssertEqual(count, 1)
        guard let (ns, _) = seen else { return }
        XCTAssertEqual(ns.userInfo[IdFlowRetryAfterKey] as? Int, 5)
        XCTAssertEqual((ns.userInfo[IdFlowHTTPHeadersKey] as? [String: String])?["retry-after"], "5")
    }

    func testAThrottledRepeatIsTheOriginalErrorWithTheCacheHitKey() async throws {
        try await Emulator.admin("presets/throttled_429")
        let app = try confidential()
        let first = await expectNSError("429") {
            _ = try await app.acquireTokenForClient(scopes: self.graphDefault, claims: nil)
        }
        let again = await expectNSError("throttled repeat") {
            _ = try await app.acquireTokenForClient(scopes: self.graphDefault, claims: nil)
        }
        let count = try await tokenRequests().count
        XCTAssertEqual(count, 1, "no request while throttled")
        guard let (original, _) = first, let (ns, info) = again else { return }
        XCTAssertNil(original.userInfo[IdFlowThrottlingCacheHitKey])
        XCTAssertEqual(ns.userInfo[IdFlowThrottlingCacheHitKey] as? Bool, true)
        XCTAssertEqual(ns.userInfo[IdFlowErrorKindKey] as? String, "throttled")
        XCTAssertEqual(info.kind, .throttled)
        XCTAssertEqual(ns.domain, original.domain)
        XCTAssertEqual(ns.code, original.code)
        XCTAssertEqual(ns.userInfo[IdFlowOAuthErrorKey] as? String, "temporarily_unavailable")
        XCTAssertEqual(ns.userInfo[IdFlowHTTPResponseCodeKey] as? String, "429")
        XCTAssertEqual(ns.userInfo[IdFlowCorrelationIDKey] as? String,
                       original.userInfo[IdFlowCorrelationIDKey] as? String)
        XCTAssertEqual((ns.userInfo[IdFlowHTTPHeadersKey] as? [String: String])?["retry-after"], "30")
        let left = ns.userInfo[IdFlowRetryAfterKey] as? Int ?? -1
        XCTAssertTrue((28...30).contains(left), "retry after \(left)")
        XCTAssertEqual(ns.userInfo[IdFlowRecommendedActionKey] as? String, "retry_after")
    }

    func testAClaimsChallengeRoundTripWithCapabilitiesOnTheWire() async throws {
        try await Emulator.admin("faults", [
            "match": ["endpoint": "token"], "count": NSNull(),
            "effect": ["kind": "require_claims", "claims": mfa],
        ])
        let app = try PublicClientApplication(swiftConfig: .swift(
            clientId: Emulator.publicClient, authority: try Emulator.authority(Emulator.tenant),
            timeout: 20, clientCapabilities: ["cp1"]))
        let seen = await expectNSError("claims required") {
            _ = try await app.acquireTokenByUsernamePassword(
                username: Emulator.username, password: Emulator.password, scopes: self.userRead, claims: nil)
        }
        guard let (ns, _) = seen else { return }
        XCTAssertEqual(ns.code, IdFlowErrorCode.interactionRequired.rawValue)
        let claims = try XCTUnwrap(ns.userInfo[IdFlowClaimsKey] as? String)
        XCTAssertEqual(claims, mfa)
        let token = try await app.acquireTokenByUsernamePassword(
            username: Emulator.username, password: Emulator.password, scopes: userRead, claims: claims)
        XCTAssertFalse(token.accessToken.isEmpty)
        let sent = try await tokenRequests()
        XCTAssertEqual(sent.count, 2)
        XCTAssertEqual(claimsSent(sent[0]), dict(#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#))
        XCTAssertEqual(claimsSent(sent[1]), dict(
            #"{"access_token":{"acrs":{"essential":true,"value":"c1"},"xms_cc":{"values":["cp1"]}}}"#))
    }

    func testWwwAuthenticateVectors() throws {
        let path = URL(fileURLWithPath: Vectors.path).deletingLastPathComponent()
            .appendingPathComponent("www_authenticate.json")
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any]
        let cases = doc?["cases"] as? [[String: Any]] ?? []
        XCTAssertGreaterThanOrEqual(cases.count, 12)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let headers = (c["headers"] as? [[String]] ?? []).map { Header(name: $0[0], value: $0[1]) }
            XCTAssertEqual(WwwAuthenticate.claimsChallenge(headers), c["claims_challenge"] as? String,
                           "\(name): claims challenge")
            if let code = c["error"] as? String {
                do {
                    _ = try WwwAuthenticate.parse(headers)
                    XCTFail("\(name): parsed")
                } catch let e as AuthError {
                    XCTAssertEqual(e.info.code, code, name)
                    XCTAssertEqual(e.info.kind, .client, name)
                }
                continue
            }
            let parsed = try WwwAuthenticate.parse(headers)
            let want = c["challenges"] as? [[String: Any]] ?? []
            XCTAssertEqual(parsed.count, want.count, "\(name): challenges")
            for (got, w) in zip(parsed, want) {
                XCTAssertEqual(got.scheme, w["scheme"] as? String, "\(name): scheme")
                XCTAssertEqual(got.params, w["params"] as? [String: String], "\(name): params")
            }
            XCTAssertEqual(parsed.first?.claims, c["claims"] as? String, "\(name): claims")
            XCTAssertEqual(parsed.first?.authority, c["authority"] as? String, "\(name): authority")
        }
    }

    func testClaimsChallengeFromAnHTTPURLResponse() throws {
        let url = try XCTUnwrap(URL(string: "https://graph.example/v1.0/me"))
        let response = try XCTUnwrap(HTTPURLResponse(
            url: url, statusCode: 401, httpVersion: "HTTP/1.1",
            headerFields: ["WWW-Authenticate": #"Bearer error="insufficient_claims", claims="{\"a\":1}""#]))
        XCTAssertEqual(WwwAuthenticate.claimsChallenge(from: response), #"{"a":1}"#)
        XCTAssertEqual(try WwwAuthenticate.parse(from: response).first?.error, "insufficient_claims")
    }
}
