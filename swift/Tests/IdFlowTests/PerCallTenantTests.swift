// The per-call tenant of multi-tenant apps (`forTenant(tenant:)` on the generated application
// classes) against the emulator: each tenant's request names it in the URL and is issued in that
// tenant, its token answers only that tenant's later calls, and an authority with no tenant to
// replace (B2C) refuses it as a client error before any request.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import IdFlow
import XCTest

final class PerCallTenantTests: XCTestCase {
    private let graphDefault = ["https://graph.microsoft.com/.default"]
    private let tenantA = "tenant-a.example"
    private let tenantB = "tenant-b.example"

    override func setUp() async throws {
        try await Emulator.admin("reset")
    }

    private func confidentialApp(authority: String) throws -> ConfidentialClientApplication {
        try ConfidentialClientApplication(clientId: Emulator.confidentialClient, authority: authority,
                                          credential: .secret(secret: Emulator.secret), timeout: 20)
    }

    /// The `tenant` of each token request the emulator logged since the last reset.
    private func tokenTenants() async throws -> [String] {
        let log = try await Emulator.admin("requests", method: "GET") as? [[String: Any]] ?? []
        return log.filter { ($0["endpoint"] as? String) == "token" }.map { $0["tenant"] as? String ?? "?" }
    }

    /// The `tid` claim of an access token (the emulator issues JWTs).
    private func tid(_ accessToken: String) throws -> String {
        let parts = accessToken.split(separator: ".")
        XCTAssertEqual(parts.count, 3, "a JWT")
        var b64 = String(parts[1]).replacingOccurrences(of: "-", with: "+")
            .replacingOccurrences(of: "_", with: "/")
        b64 += String(repeating: "=", count: (4 - b64.count % 4) % 4)
        let payload = try XCTUnwrap(Data(base64Encoded: b64), "base64url payload")
        let claims = try XCTUnwrap(JSONSerialization.jsonObject(with: payload) as? [String: Any])
        return try XCTUnwrap(claims["tid"] as? String, "tid in \(claims.keys.sorted())")
    }

    func testClientCredentialsGoToEachTenantAndHitItsCache() async throws {
        let app = try confidentialApp(authority: try Emulator.authority(Emulator.tenant))

        var issued: [String: TokenResult] = [:]
        for tenant in [tenantA, tenantB] {
            let token = try await app.forTenant(tenant: tenant)
                .acquireTokenForClient(scopes: graphDefault, claims: nil)
            XCTAssertEqual(token.tokenSource, .identityProvider, tenant)
            issued[tenant] = token
        }
        let sent = try await tokenTenants()
        XCTAssertEqual(sent, [tenantA, tenantB])
        let tidA = try tid(try XCTUnwrap(issued[tenantA]).accessToken)
        let tidB = try tid(try XCTUnwrap(issued[tenantB]).accessToken)
        XCTAssertNotEqual(tidA, tidB, "each token is issued in its own tenant")

        // A later call for each tenant (through a new view) is that tenant's cache hit.
        for tenant in [tenantA, tenantB] {
            let hit = try await app.forTenant(tenant: tenant)
                .acquireTokenForClient(scopes: graphDefault, claims: nil)
            XCTAssertEqual(hit.tokenSource, .cache, tenant)
            XCTAssertEqual(hit.accessToken, issued[tenant]?.accessToken, tenant)
        }
        let afterHits = try await tokenTenants()
        XCTAssertEqual(afterHits, [tenantA, tenantB], "cache hits send nothing")

        // The app's own tenant has no token of its own yet.
        let own = try await app.acquireTokenForClient(scopes: graphDefault, claims: nil)
        XCTAssertEqual(own.tokenSource, .identityProvider)
        let ownTid = try tid(own.accessToken)
        XCTAssertFalse([tidA, tidB].contains(ownTid), "the home tenant's token is its own")
        let all = try await tokenTenants()
        XCTAssertEqual(all, [tenantA, tenantB, Emulator.tenant])
    }

    func testATenantOnAB2CAuthorityIsAClientError() throws {
        let app = try ConfidentialClientApplication(
            swiftConfig: .swift(clientId: Emulator.confidentialClient,
                                authority: "https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signin",
                                validateAuthority: false),
            credential: .secret(secret: Emulator.secret))
        let r = CaseReporter(name: "forTenant on B2C", file: #filePath, line: #line)
        guard let (ns, info) = observeThrow(r, "forTenant", { _ = try app.forTenant(tenant: self.tenantA) })
        else { return }
        XCTAssertEqual(info.kind, .client)
        XCTAssertEqual(info.code, "invalid_parameter")
        XCTAssertTrue(info.message.contains("B2C"), info.message)
        XCTAssertEqual(ns.domain, IdFlowErrorDomain)
        XCTAssertEqual(ns.code, IdFlowErrorCode.internal.rawValue)
        XCTAssertEqual(ns.userInfo[IdFlowInternalErrorCodeKey] as? Int,
                       IdFlowInternalErrorCode.invalidParameter.rawValue)
        XCTAssertEqual(ns.userInfo[IdFlowErrorKindKey] as? String, "client")
    }
}
