// Small conveniences over the generated application classes: a Swift-flavoured configuration,
// Swift `Task` cancellation wired to the core's `CancelHandle`, and NSError-throwing wrappers for
// async calls. Everything here forwards to the generated API; no decision is made in Swift.

import Foundation

// MARK: - Configuration

extension AppConfig {
    /// The library name this package sends as `x-client-sku` ("idflow.swift"), so the identity
    /// provider's logs tell Swift callers apart from other idflow bindings.
    public static let swiftClientSku = "idflow.swift"

    /// A configuration for a Swift app: `timeout` and `connectTimeout` as `TimeInterval`s and
    /// `clientSku` set to ``swiftClientSku``.
    ///
    /// - Parameters:
    ///   - clientId: the app registration's client (application) id.
    ///   - authority: `https://login.microsoftonline.com/<tenant>` (or a sovereign cloud, B2C,
    ///     CIAM), or an OpenID issuer URL when `oidcAuthority` is `true`. Use `https`; plain
    ///     `http` is accepted only for loopback hosts (local test servers).
    ///   - oidcAuthority: treat `authority` as any OpenID provider's issuer.
    ///   - timeout: whole-request timeout in seconds (`nil`: the core's 30 s).
    ///   - connectTimeout: connection timeout in seconds (`nil`: the core's 10 s).
    ///   - validateAuthority: instance discovery for unknown Microsoft hosts; leave it on unless
    ///     you control the host.
    ///   - extraRootCertificatesPem: extra trusted roots (PEM), e.g. a test server's certificate.
    ///   - clientCapabilities: announced in every request's `claims` (`["cp1"]`: the app handles
    ///     claims challenges).
    ///   - retry: the core's one retry of a 5xx without Retry-After or a timeout; turn it off when
    ///     the app runs its own retry policy.
    ///   - retryDelay: the wait before that retry, in seconds (`nil`: 1 s).
    public static func swift(
        clientId: String,
        authority: String,
        oidcAuthority: Bool = false,
        timeout: TimeInterval? = nil,
        connectTimeout: TimeInterval? = nil,
        validateAuthority: Bool = true,
        extraRootCertificatesPem: [String] = [],
        clientCapabilities: [String] = [],
        retry: Bool = true,
        retryDelay: TimeInterval? = nil
    ) -> AppConfig {
        AppConfig(
            clientId: clientId,
            authority: authority,
            oidcAuthority: oidcAuthority,
            extraRootCertificatesPem: extraRootCertificatesPem,
            timeoutMs: timeout.map(Self.milliseconds),
            connectTimeoutMs: connectTimeout.map(Self.milliseconds),
            validateAuthority: validateAuthority,
            clientSku: swiftClientSku,
            clientCapabilities: clientCapabilities,
            retryEnabled: retry,
            retryDelayMs: retryDelay.map(Self.milliseconds)
        )
    }

    /// This configuration with `clientSku` set to ``swiftClientSku`` unless it already names one.
    /// The application initializers of this file apply it for you; apply it yourself when you
    /// build an `AppConfig` with the generated memberwise initializer.
    public func withSwiftClientSku() -> AppConfig {
        var copy = self
        if copy.clientSku == nil { copy.clientSku = Self.swiftClientSku }
        return copy
    }

    private static func milliseconds(_ seconds: TimeInterval) -> UInt64 {
        guard seconds.isFinite, seconds > 0 else { return 0 }
        return UInt64(min(seconds * 1000, Double(UInt64.max / 2)).rounded(.up))
    }
}

extension PublicClientApplication {
    /// A public client (desktop, mobile, CLI) that sends `x-client-sku: idflow.swift`.
    ///
    /// Throws an `AuthError` (an `NSError` in ``IdFlowErrorDomain`` when caught as one) for a bad
    /// authority: fix the configuration.
    public convenience init(swiftConfig config: AppConfig) throws {
        try self.init(config: config.withSwiftClientSku())
    }

    /// A public client for `clientId` at `authority`; see ``AppConfig/swift(clientId:authority:oidcAuthority:timeout:connectTimeout:validateAuthority:extraRootCertificatesPem:clientCapabilities:retry:retryDelay:)``.
    public convenience init(clientId: String, authority: String, oidcAuthority: Bool = false,
                            timeout: TimeInterval? = nil) throws {
        try self.init(config: .swift(clientId: clientId, authority: authority,
                                     oidcAuthority: oidcAuthority, timeout: timeout))
    }
}

extension ConfidentialClientApplication {
    /// A confidential client (web app, API, daemon) that sends `x-client-sku: idflow.swift`.
    /// Keep `credential` out of source code and logs.
    public convenience init(swiftConfig config: AppConfig, credential: ClientCredential) throws {
        try self.init(config: config.withSwiftClientSku(), credential: credential)
    }

    /// A confidential client for `clientId` at `authority`; see ``AppConfig/swift(clientId:authority:oidcAuthority:timeout:connectTimeout:validateAuthority:extraRootCertificatesPem:clientCapabilities:retry:retryDelay:)``.
    public convenience init(clientId: String, authority: String, credential: ClientCredential,
                            oidcAuthority: Bool = false, timeout: TimeInterval? = nil) throws {
        try self.init(config: .swift(clientId: clientId, authority: authority,
                                     oidcAuthority: oidcAuthority, timeout: timeout),
                      credential: credential)
    }
}

// MARK: - Task cancellation

extension CancelHandle {
    /// Runs `body` with this handle fired as soon as the current `Task` is cancelled (also when it
    /// already is). The flow then ends promptly with `AuthError.Cancelled`, which is
    /// ``IdFlowErrorCode/userCanceled`` (-50005) as an `NSError`: treat it as "the user stopped",
    /// not as a failure to report.
    public func cancelling<T>(onTaskCancellation body: () async throws -> T) async rethrows -> T {
        try await withTaskCancellationHandler {
            try await body()
        } onCancel: {
            self.cancel()
        }
    }
}

extension PublicClientApplication {
    /// Polls a device-code flow until the user finishes, declines, or the code expires; cancelling
    /// the calling `Task` stops the polling.
    ///
    /// Show `flow.message()` to the user before calling this. Outcomes an app handles:
    /// - success: the `TokenResult`;
    /// - the user declined, or the `Task` was cancelled: ``IdFlowErrorCode/userCanceled``
    ///   (-50005); do not show an error;
    /// - the code expired: start a new flow;
    /// - anything else: see the error's recommended action (``IdFlowRecommendedActionKey``).
    public func acquireTokenByDeviceFlow(flow: DeviceCodeFlow) async throws -> TokenResult {
        let cancel = CancelHandle()
        return try await cancel.cancelling {
            try await acquireTokenByDeviceFlow(flow: flow, cancel: cancel)
        }
    }

    /// An interactive sign-in through the browser and a loopback redirect; cancelling the calling
    /// `Task` closes the loopback listener and ends the sign-in with
    /// ``IdFlowErrorCode/userCanceled`` (-50005).
    ///
    /// Pass `opener` to show the page your own way (the default opens the system browser).
    public func acquireTokenInteractive(
        scopes: [String],
        options: InteractiveOptions = InteractiveOptions(),
        opener: UrlOpener? = nil
    ) async throws -> TokenResult {
        let cancel = CancelHandle()
        return try await cancel.cancelling {
            try await acquireTokenInteractive(scopes: scopes, options: options, opener: opener,
                                              cancel: cancel)
        }
    }
}

// MARK: - NSError-throwing calls

extension AuthError {
    /// Awaits `body` and rethrows any `AuthError` as its `NSError`: the async form of
    /// the synchronous `throwingNSError(_:)` for the application methods.
    ///
    /// On Linux `catch let error as NSError` matches only real `NSError`s; wrap the call in this
    /// to catch idflow failures as `NSError`s on every platform (transport failures then arrive
    /// in `NSURLErrorDomain` with their `URLError` code). Other errors pass through unchanged.
    public static func throwingNSError<T>(_ body: () async throws -> T) async rethrows -> T {
        do {
            return try await body()
        } catch let error as AuthError {
            throw error.info.nsError
        }
    }
}

/// The two application classes, for conveniences they share.
public protocol IdFlowApplication: AnyObject {}

extension PublicClientApplication: IdFlowApplication {}
extension ConfidentialClientApplication: IdFlowApplication {}

extension IdFlowApplication {
    /// Runs `body` with this application and rethrows any `AuthError` as its `NSError`, as
    /// `AuthError.throwingNSError(_:)` does:
    ///
    /// ```swift
    /// do {
    ///     let token = try await app.throwingNSError { try await $0.acquireTokenForClient(scopes: s, claims: nil) }
    /// } catch let error as NSError where error.code == IdFlowErrorCode.interactionRequired.rawValue {
    ///     // sign in interactively, passing error.userInfo[IdFlowClaimsKey]
    /// }
    /// ```
    public func throwingNSError<T>(_ body: (Self) async throws -> T) async rethrows -> T {
        try await AuthError.throwingNSError { try await body(self) }
    }
}
