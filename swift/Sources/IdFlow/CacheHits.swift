// The cache-hit hot path for Swift: a prepared native lookup per (scopes, account) that answers a
// hit synchronously, with one integer crossing the boundary while the cached token stays the same
// and the `TokenResult` record only when it changed. The generated `acquireTokenSilent` is async:
// each call pays for a Swift task, the core's future and the record, several times the lookup.

import Foundation

/// A prepared cache lookup for one account and scope set (``PublicClientApplication/silentTokenLookup(scopes:account:)``)
/// or for an app's own token (``ConfidentialClientApplication/appTokenLookup(scopes:)``). Keep it
/// and call ``cachedToken()`` before each token call; it is safe to share between threads.
public final class CachedTokenLookup: @unchecked Sendable {
    private let probe: CachedTokenProbe
    private let lock = NSLock()
    private var last: TokenResult?

    init(probe: CachedTokenProbe) {
        self.probe = probe
    }

    /// The cached token if one is usable now, without the network; `nil` when the full call must
    /// run (it then refreshes, or reports why it cannot).
    public func cachedToken() -> TokenResult? {
        // `probe()`: the cached token's expiry while it is the one last fetched, -2 when another
        // is cached, -1 when nothing usable is.
        let expiresOn = probe.probe()
        if expiresOn == -1 { return nil }
        lock.lock()
        let kept = last
        lock.unlock()
        if expiresOn >= 0, let kept, kept.expiresOn == expiresOn { return kept }
        guard let fresh = (try? probe.fetch()) ?? nil else { return nil }
        lock.lock()
        last = fresh
        lock.unlock()
        return fresh
    }
}

extension PublicClientApplication {
    /// A prepared lookup of `account`'s cached token for `scopes` (see ``CachedTokenLookup``).
    public func silentTokenLookup(scopes: [String], account: AccountInfo) -> CachedTokenLookup {
        CachedTokenLookup(probe: silentProbe(scopes: scopes, homeAccountId: account.homeAccountId))
    }

    /// `acquireTokenSilent` answered by `lookup` when it holds a usable token (no task, no
    /// network), else the full call. `lookup` must come from ``silentTokenLookup(scopes:account:)``
    /// with the same scopes and account.
    public func acquireTokenSilent(scopes: [String], account: AccountInfo,
                                   lookup: CachedTokenLookup) async throws -> TokenResult {
        if let hit = lookup.cachedToken() { return hit }
        return try await acquireTokenSilent(scopes: scopes, account: account, claims: nil, forceRefresh: false)
    }
}

extension ConfidentialClientApplication {
    /// A prepared lookup of `account`'s cached token for `scopes` (see ``CachedTokenLookup``).
    public func silentTokenLookup(scopes: [String], account: AccountInfo) -> CachedTokenLookup {
        CachedTokenLookup(probe: silentProbe(scopes: scopes, homeAccountId: account.homeAccountId))
    }

    /// A prepared lookup of the app's own cached token for `scopes` (client credentials).
    public func appTokenLookup(scopes: [String]) -> CachedTokenLookup {
        CachedTokenLookup(probe: clientProbe(scopes: scopes))
    }

    /// `acquireTokenForClient` answered by `lookup` when it holds a usable token (no task, no
    /// network), else the full call. `lookup` must come from ``appTokenLookup(scopes:)`` with the
    /// same scopes.
    public func acquireTokenForClient(scopes: [String], lookup: CachedTokenLookup) async throws -> TokenResult {
        if let hit = lookup.cachedToken() { return hit }
        return try await acquireTokenForClient(scopes: scopes, claims: nil)
    }
}
