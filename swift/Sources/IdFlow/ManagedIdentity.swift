// Managed identity for server-side Swift: the generated `ManagedIdentityClient` with the Swift
// client SKU, and an NSError-throwing call. Every decision is the core's.

import Foundation

extension ManagedIdentityClient {
    /// A client for `identity` that sends `x-client-sku: idflow.swift`. `environment` replaces
    /// the process's managed identity variables (tests, or an app that reads them elsewhere);
    /// `nil` reads the process's own at each request. `tokenCache` shares tokens (msal's cache
    /// format); `nil` gives the client its own.
    public convenience init(swiftIdentity identity: ManagedIdentityId,
                            environment: [String: String]? = nil,
                            tokenCache: TokenCache? = nil,
                            clientCapabilities: [String] = [],
                            arcKeyDirectory: String? = nil) throws {
        try self.init(identity: identity, config: ManagedIdentityConfig(
            tokenCache: tokenCache, clientCapabilities: clientCapabilities,
            clientSku: AppConfig.swiftClientSku, environment: environment,
            arcKeyDirectory: arcKeyDirectory, retryEnabled: true, timeoutMs: nil))
    }

    /// `acquireTokenForClient`, throwing an `NSError` on every platform: `IdFlowErrorDomain`
    /// with the code of the managed identity failure (`-50000` with
    /// ``IdFlowInternalErrorCodeKey`` for a local refusal), or `NSURLErrorDomain` when the
    /// endpoint cannot be reached.
    public func acquireToken(resource: String, claims: String? = nil) async throws
        -> ManagedIdentityTokenResult {
        try await AuthError.throwingNSError {
            try await acquireTokenForClient(resource: resource, claimsChallenge: claims)
        }
    }
}
