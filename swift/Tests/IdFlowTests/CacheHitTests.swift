// The prepared cache lookups (CacheHits.swift) against the emulator: the cached token without a
// task or a request, the newer one once the cache holds another, and nothing once nothing usable
// is cached (then the full call runs).

import Foundation
import IdFlow
import XCTest

final class CacheHitTests: XCTestCase {
    private let userRead = ["User.Read"]
    private let graphDefault = ["https://graph.microsoft.com/.default"]

    func testSilentLookupFollowsTheCache() async throws {
        let app = try PublicClientApplication(clientId: Emulator.publicClient,
                                              authority: try Emulator.authority("organizations"), timeout: 20)
        let first = try await app.acquireTokenByUsernamePassword(
            username: Emulator.username, password: Emulator.password, scopes: userRead, claims: nil)
        let account = try XCTUnwrap(try app.getAccounts(username: nil).first)
        let lookup = app.silentTokenLookup(scopes: userRead, account: account)
        for _ in 0..<3 {
            let hit = try XCTUnwrap(lookup.cachedToken())
            XCTAssertEqual(hit.accessToken, first.accessToken)
            XCTAssertEqual(hit.tokenSource, .cache)
        }
        let forced = try await app.acquireTokenSilent(scopes: userRead, account: account, claims: nil,
                                                      forceRefresh: true)
        XCTAssertNotEqual(forced.accessToken, first.accessToken)
        let again = try await app.acquireTokenSilent(scopes: userRead, account: account, lookup: lookup)
        XCTAssertEqual(again.accessToken, forced.accessToken, "the newer token")
        try app.removeAccount(account: account)
        XCTAssertNil(lookup.cachedToken(), "nothing usable: the full call decides")
    }

    func testAppTokenLookupFollowsTheCache() async throws {
        let app = try ConfidentialClientApplication(
            clientId: Emulator.confidentialClient, authority: try Emulator.authority(Emulator.tenant),
            credential: .secret(secret: Emulator.secret), timeout: 20)
        let lookup = app.appTokenLookup(scopes: graphDefault)
        XCTAssertNil(lookup.cachedToken())
        let first = try await app.acquireTokenForClient(scopes: graphDefault, lookup: lookup)
        XCTAssertEqual(first.tokenSource, .identityProvider)
        let hit = try await app.acquireTokenForClient(scopes: graphDefault, lookup: lookup)
        XCTAssertEqual(hit.accessToken, first.accessToken)
        XCTAssertEqual(hit.tokenSource, .cache)
    }
}
