// getAccount(homeAccountId:) over a partitioned cache: a web farm's other instance finds the user
// by the id it kept (getAccounts lists only the partitions this process holds) and answers
// silently from the shared store.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import IdFlow
import XCTest

final class GetAccountTests: XCTestCase {
    private let userRead = ["User.Read"]

    override func setUp() async throws {
        try await Emulator.admin("reset")
        try await Emulator.admin("requests", method: "DELETE")
    }

    private func instance(_ store: MapPartitionStore) throws -> ConfidentialClientApplication {
        let cache = TokenCache()
        cache.attachPartitionedStorage(storage: store, l1TtlMs: 0)
        let config = AppConfig.swift(clientId: Emulator.confidentialClient,
                                     authority: try Emulator.authority(Emulator.tenant),
                                     timeout: 20).withTokenCache(cache)
        return try ConfidentialClientApplication(swiftConfig: config,
                                                 credential: .secret(secret: Emulator.secret))
    }

    private func tokenRequests() async throws -> Int {
        let log = try await Emulator.admin("requests", method: "GET") as? [[String: Any]] ?? []
        return log.filter { ($0["endpoint"] as? String) == "token" }.count
    }

    func testAnotherInstanceFindsTheUserByIdAndAnswersSilently() async throws {
        let store = MapPartitionStore()
        let signedIn = try await instance(store).acquireTokenByUsernamePassword(
            username: Emulator.username, password: Emulator.password, scopes: userRead, claims: nil)
        let home = try XCTUnwrap(signedIn.account).homeAccountId
        let other = try instance(store)
        // It has read no partition yet: the list is empty, the lookup by id is not.
        XCTAssertTrue(try other.getAccounts(username: nil).isEmpty)
        let missing = try await other.getAccount(homeAccountId: "no-such-user.\(Emulator.tenant)")
        XCTAssertNil(missing)
        let account = try await other.getAccount(homeAccountId: home)
        XCTAssertEqual(account?.homeAccountId, home)
        XCTAssertEqual(account?.username, Emulator.username)
        let silent = try await other.acquireTokenSilent(scopes: userRead, account: account, claims: nil,
                                                        forceRefresh: false)
        XCTAssertEqual(silent.tokenSource, .cache)
        XCTAssertEqual(silent.accessToken, signedIn.accessToken)
        let requests = try await tokenRequests()
        XCTAssertEqual(requests, 1)
    }
}
