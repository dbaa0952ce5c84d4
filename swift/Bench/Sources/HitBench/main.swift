// Loads the cache file `silent_hit_bench` wrote (argument 1: its path; argument 2: its number of
// users) and prints the median nanoseconds per call of a silent cache hit through the binding:
//   swift_acquire_token_silent         the generated async call
//   swift_acquire_token_silent_lookup  the same through a prepared lookup (CacheHits.swift)
//   swift_cached_token_lookup          the lookup alone (synchronous)
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

/// The median nanoseconds per call over 51 rounds of `per` calls.
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

let full = try await medianNs(per: 500) {
    let hit = try await app.acquireTokenSilent(scopes: scopes, account: account, claims: nil, forceRefresh: false)
    precondition(hit.tokenSource == .cache)
}
let viaLookup = try await medianNs(per: 2_000) {
    let hit = try await app.acquireTokenSilent(scopes: scopes, account: account, lookup: lookup)
    precondition(hit.tokenSource == .cache)
}
let lookupOnly = await medianNs(per: 2_000) {
    precondition(lookup.cachedToken() != nil)
}
print(String(format: "swift_acquire_token_silent %.0f", full))
print(String(format: "swift_acquire_token_silent_lookup %.0f", viaLookup))
print(String(format: "swift_cached_token_lookup %.0f", lookupOnly))
