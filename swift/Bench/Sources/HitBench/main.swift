// Loads the cache file `silent_hit_bench` wrote (argument 1: its path; argument 2: its number of
// users) and prints the median nanoseconds per call of a silent cache hit through the binding:
//   swift_acquire_token_silent         the generated async call
//   swift_acquire_token_silent_lookup  the same through a prepared lookup (CacheHits.swift)
//   swift_cached_token_lookup          the lookup alone (synchronous)
//   swift_acquire_token_silent_main_actor  the generated async call made from the main actor
import Foundation
import IdFlow

let arguments = CommandLine.arguments
guard arguments.count == 3, let users = Int(arguments[2]) else {
    FileHandle.standardError.write("usage: HitBench CACHE_FILE USERS\n".data(using: .utf8)!)
    exit(2)
}
let scopes = ["https://graph.microsoft.com/User.Read"]
let cache = TokenCache()
try cache.deserializeUtf8(state: try Data(contentsOf: URL(fileURLWithPath: arguments[1])))
let app = try PublicClientApplication(swiftConfig: AppConfig.swift(
    clientId: "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e10",
    authority: "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47"
).withTokenCache(cache))
guard let account = try app.getAccounts(username: "user\(users / 2)@contoso.com").first else {
    fatalError("the account is not in the cache")
}
let lookup = app.silentTokenLookup(scopes: scopes, account: account)

/// The median nanoseconds per call over 51 rounds of `per` calls of a synchronous `body`.
func medianNs(per: Int, _ body: () -> Void) -> Double {
    var rounds: [Double] = []
    for _ in 0..<51 {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<per { body() }
        rounds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(per))
    }
    rounds.sort()
    return rounds[rounds.count / 2]
}

/// The same for an async `body`, awaited where the caller runs.
func medianNs(per: Int, _ body: () async throws -> Void) async rethrows -> Double {
    var rounds: [Double] = []
    for _ in 0..<51 {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<per { try await body() }
        rounds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(per))
    }
    rounds.sort()
    return rounds[rounds.count / 2]
}

/// The binding's figures, measured from a nonisolated function: top-level code runs on the main
/// actor, and a closure written there would hop to it and back on every call (≈ 7 µs here), which
/// is the harness's cost, not the binding's.
func measure(_ app: PublicClientApplication, _ account: AccountInfo, _ scopes: [String],
             _ lookup: CachedTokenLookup) async throws -> [(String, Double)] {
    let full = try await medianNs(per: 500) {
        let hit = try await app.acquireTokenSilent(scopes: scopes, account: account, claims: nil, forceRefresh: false)
        precondition(hit.tokenSource == .cache)
    }
    let viaLookup = try await medianNs(per: 2_000) {
        let hit = try await app.acquireTokenSilent(scopes: scopes, account: account, lookup: lookup)
        precondition(hit.tokenSource == .cache)
    }
    let lookupOnly = medianNs(per: 2_000) {
        precondition(lookup.cachedToken() != nil)
    }
    return [("swift_acquire_token_silent", full), ("swift_acquire_token_silent_lookup", viaLookup),
            ("swift_cached_token_lookup", lookupOnly)]
}

/// The generated async call as UI code makes it, from the main actor: the call leaves the main
/// actor for the core's future and comes back.
@MainActor func measureOnMain(_ app: PublicClientApplication, _ account: AccountInfo,
                              _ scopes: [String]) async throws -> Double {
    try await medianNs(per: 500) {
        let hit = try await app.acquireTokenSilent(scopes: scopes, account: account, claims: nil, forceRefresh: false)
        precondition(hit.tokenSource == .cache)
    }
}

for (name, ns) in try await measure(app, account, scopes, lookup) {
    print(String(format: "\(name) %.0f", ns))
}
print(String(format: "swift_acquire_token_silent_main_actor %.0f", try await measureOnMain(app, account, scopes)))
