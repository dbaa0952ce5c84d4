// The partitioned token cache from Swift (server-side): the app's own store with
// compare-and-set, and Redis that does not answer failing no call.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import IdFlow
import XCTest

/// What an app's database table would do: one row per partition, compare-and-set on a version.
final class MapPartitionStore: PartitionedCacheStorage, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var rows: [String: PartitionData] = [:]
    private var writes = 0

    func load(partition: String) throws -> PartitionData? {
        lock.lock(); defer { lock.unlock() }
        return rows[partition]
    }

    func save(partition: String, data: Data, expectedVersion: String?, expiresAtUnix: UInt64) throws -> Bool {
        lock.lock(); defer { lock.unlock() }
        if rows[partition]?.version != expectedVersion { return false }
        writes += 1
        rows[partition] = PartitionData(data: data, version: String(writes))
        return true
    }
}

final class PartitionedCacheTests: XCTestCase {
    private let scope = ["https://graph.microsoft.com/.default"]

    override func setUp() async throws {
        try await Emulator.admin("reset")
        try await Emulator.admin("requests", method: "DELETE")
    }

    private func app(_ cache: TokenCache) throws -> ConfidentialClientApplication {
        let config = AppConfig.swift(clientId: Emulator.confidentialClient,
                                     authority: try Emulator.authority(Emulator.tenant),
                                     timeout: 20).withTokenCache(cache)
        return try ConfidentialClientApplication(swiftConfig: config,
                                                 credential: .secret(secret: Emulator.secret))
    }

    func testASecondInstanceReadsTheFirstOnesTokenFromTheAppsStore() async throws {
        let store = MapPartitionStore()
        let first = TokenCache()
        first.attachPartitionedStorage(storage: store, l1TtlMs: 0)
        let second = TokenCache()
        second.attachPartitionedStorage(storage: store, l1TtlMs: 0)
        let token = try await app(first).acquireTokenForClient(scopes: scope, claims: nil)
        let again = try await app(second).acquireTokenForClient(scopes: scope, claims: nil)
        XCTAssertEqual(again.tokenSource, .cache)
        XCTAssertEqual(again.accessToken, token.accessToken)
        XCTAssertEqual(store.rows.count, 1)
        XCTAssertTrue(store.rows.keys.first?.hasSuffix("_AppTokenCache") ?? false)
    }

    func testARedisThatDoesNotAnswerFailsNoCall() async throws {
        let cache = TokenCache()
        try cache.attachRedis(urls: ["redis://127.0.0.1:1/"], options: RedisCacheOptions())
        let app = try app(cache)
        _ = try await app.acquireTokenForClient(scopes: scope, claims: nil)
        let again = try await app.acquireTokenForClient(scopes: scope, claims: nil)
        XCTAssertEqual(again.tokenSource, .cache)
        XCTAssertTrue(cache.partitionStoreDegraded())
    }
}
