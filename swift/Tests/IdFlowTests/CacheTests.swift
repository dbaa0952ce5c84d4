// The token cache and silent acquisition against the emulator: hits that send nothing, accounts,
// a serialized cache serving another app with the network gone, and a closure storage.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import IdFlow
import XCTest

final class CacheTests: XCTestCase {
    private let userRead = ["User.Read"]

    override func setUp() async throws {
        try await Emulator.admin("reset")
    }

    private func app(_ cache: TokenCache, authority: String? = nil) throws -> PublicClientApplication {
        let config = AppConfig.swift(clientId: Emulator.publicClient,
                                     authority: try authority ?? Emulator.authority(Emulator.tenant),
                                     timeout: 20).withTokenCache(cache)
        return try PublicClientApplication(swiftConfig: config)
    }

    private func signIn(_ app: PublicClientApplication) async throws -> TokenResult {
        try await app.acquireTokenByUsernamePassword(username: Emulator.username,
                                                     password: Emulator.password,
                                                     scopes: userRead, claims: nil)
    }

    private func tokenRequests() async throws -> Int {
        let log = try await Emulator.admin("requests", method: "GET") as? [[String: Any]] ?? []
        return log.filter { ($0["endpoint"] as? String) == "token" }.count
    }

    /// A loopback port with nothing listening (tcpmux, never served on the test machines).
    private func offlineAuthority() -> String { "http://127.0.0.1:1/\(Emulator.tenant)" }

    func testSilentHitSendsNothingAndForceRefreshDoes() async throws {
        let app = try app(TokenCache())
        let first = try await signIn(app)
        let accounts = try app.getAccounts(username: nil)
        XCTAssertEqual(accounts.map(\.username), [Emulator.username])
        try await Emulator.admin("requests", method: "DELETE")

        let hit = try await app.acquireTokenSilent(scopes: userRead, account: accounts[0],
                                                   claims: nil, forceRefresh: false)
        XCTAssertEqual(hit.tokenSource, .cache)
        XCTAssertEqual(hit.accessToken, first.accessToken)
        let afterHit = try await tokenRequests()
        XCTAssertEqual(afterHit, 0)

        let forced = try await app.acquireTokenSilent(scopes: userRead, account: accounts[0],
                                                      claims: nil, forceRefresh: true)
        XCTAssertEqual(forced.tokenSource, .identityProvider)
        let afterForce = try await tokenRequests()
        XCTAssertEqual(afterForce, 1)
    }

    func testNothingCachedIsInteractionRequired() async throws {
        let app = try app(TokenCache())
        do {
            _ = try await app.throwingNSError {
                try await $0.acquireTokenSilent(scopes: self.userRead, account: nil, claims: nil,
                                                forceRefresh: false)
            }
            XCTFail("a silent call without an account must fail")
        } catch let error as NSError {
            XCTAssertEqual(error.domain, IdFlowErrorDomain)
            XCTAssertEqual(error.code, IdFlowErrorCode.interactionRequired.rawValue)
        }
    }

    func testAccountsAreRemovedWithTheirTokens() async throws {
        let cache = TokenCache()
        let app = try app(cache)
        _ = try await signIn(app)
        XCTAssertEqual(try app.getAccounts(username: Emulator.username.uppercased()).count, 1)
        try app.removeAccount(account: try app.getAccounts(username: nil)[0])
        XCTAssertTrue(try app.getAccounts(username: nil).isEmpty)
        XCTAssertEqual(cache.counts().refreshTokens, 0)
    }

    func testASerializedCacheServesAnotherAppOffline() async throws {
        let cache = TokenCache()
        let first = try await signIn(try app(cache))
        XCTAssertTrue(cache.hasStateChanged())
        let state = cache.serialize()
        XCTAssertFalse(cache.hasStateChanged())

        let loaded = TokenCache()
        try loaded.deserialize(state: state)
        let offline = try app(loaded, authority: offlineAuthority())
        let account = try offline.getAccounts(username: nil)[0]
        let hit = try await offline.acquireTokenSilent(scopes: userRead, account: account,
                                                       claims: nil, forceRefresh: false)
        XCTAssertEqual(hit.accessToken, first.accessToken)
        XCTAssertThrowsError(try loaded.deserialize(state: "not a cache"))
    }

    func testClosureStorageKeepsTheCache() async throws {
        final class Box: @unchecked Sendable { var data: Data? }
        let box = Box()
        let storage = ClosureCacheStorage(load: { box.data }, save: { box.data = $0 })
        let cache = TokenCache()
        try cache.attachStorage(storage: storage)
        let first = try await signIn(try app(cache))
        XCTAssertNotNil(box.data)

        let reloaded = TokenCache()
        try reloaded.attachStorage(storage: ClosureCacheStorage(load: { box.data }, save: { box.data = $0 }))
        let offline = try app(reloaded, authority: offlineAuthority())
        let hit = try await offline.acquireTokenSilent(
            scopes: userRead, account: try offline.getAccounts(username: nil)[0], claims: nil,
            forceRefresh: false)
        XCTAssertEqual(hit.accessToken, first.accessToken)

        struct DiskGone: Error {}
        let failing = TokenCache()
        XCTAssertThrowsError(try failing.attachStorage(
            storage: ClosureCacheStorage(load: { throw DiskGone() }, save: { _ in }))) { error in
            XCTAssertEqual((error as? AuthError)?.info.code, "cache_storage_failed")
        }
    }
}
