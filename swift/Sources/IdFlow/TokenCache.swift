// The token cache for Swift apps: share one `TokenCache` between applications through
// `AppConfig.tokenCache`, move it with `serialize()` / `deserialize(state:)`, or keep it in the
// Keychain (or anywhere) with a `CacheStorage`. Everything forwards to the generated API.

import Foundation

/// A `CacheStorage` from closures, e.g. over one Keychain item:
///
/// ```swift
/// let storage = ClosureCacheStorage(
///     load: { try keychain.read(account: "idflow-cache") },      // nil when nothing was saved
///     save: { data in try keychain.write(data, account: "idflow-cache") })
/// try cache.attachStorage(storage: storage)
/// ```
///
/// The bytes hold tokens: keep them in the Keychain (or encrypted). Anything the closures throw
/// fails the token call that needed the storage with `cache_storage_failed`
/// (``IdFlowErrorCode/internal`` with its internal code as an `NSError`).
public final class ClosureCacheStorage: CacheStorage, @unchecked Sendable {
    private let loadBytes: @Sendable () throws -> Data?
    private let saveBytes: @Sendable (Data) throws -> Void
    private let versionOf: (@Sendable () throws -> String?)?

    /// - Parameters:
    ///   - load: the bytes last saved, or `nil` when nothing was saved yet.
    ///   - save: replaces the stored bytes, all at once.
    ///   - version: a cheap value that changes with the stored bytes (a modification date), so
    ///     unchanged storage is not re-read before every lookup; `nil` re-reads every time.
    public init(load: @escaping @Sendable () throws -> Data?,
                save: @escaping @Sendable (Data) throws -> Void,
                version: (@Sendable () throws -> String?)? = nil) {
        loadBytes = load
        saveBytes = save
        versionOf = version
    }

    public func load() throws -> Data? { try guarded("load") { try loadBytes() } }

    public func save(data: Data) throws { try guarded("save") { try saveBytes(data) } }

    public func version() throws -> String? { try guarded("version") { try versionOf?() } }

    private func guarded<T>(_ what: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as AuthError {
            throw error
        } catch {
            let info = try explain(query: "cache_storage_failed")
            var copy = info
            copy.message = "the cache storage's \(what) failed: \(error)"
            throw AuthError.Client(info: copy, message: copy.message)
        }
    }
}

extension AppConfig {
    /// This configuration keeping its tokens in `cache` (shared with every app given the same one).
    public func withTokenCache(_ cache: TokenCache) -> AppConfig {
        var copy = self
        copy.tokenCache = cache
        return copy
    }
}
