// The token flows end to end against the real servers (the emulator and node-oidc-provider,
// started by scripts/with-servers.sh), asserting what an app sees: a TokenResult, or the NSError
// it catches (domain, code, userInfo) through the NSError-throwing conveniences.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import IdFlow
import XCTest

final class FlowTests: XCTestCase {
    private let graphDefault = ["https://graph.microsoft.com/.default"]
    private let userRead = ["User.Read"]

    // MARK: - client credentials

    func testClientCredentialsAgainstEmulator() async throws {
        let app = try confidentialApp()
        let token = try await app.acquireTokenForClient(scopes: graphDefault, claims: nil)
        XCTAssertFalse(token.accessToken.isEmpty)
        XCTAssertEqual(token.tokenType, "Bearer")
        XCTAssertEqual(token.tokenSource, .identityProvider)
        XCTAssertNil(token.account, "an app-only token has no account")
        XCTAssertGreaterThan(token.expiresOn, Int64(Date().timeIntervalSince1970))

        // The request said who sent it.
        let log = try await Emulator.admin("requests", method: "GET") as? [[String: Any]] ?? []
        let sent = log.last { ($0["grant_type"] as? String) == "client_credentials" }
        let pairs = sent?["headers"] as? [[String]] ?? []
        let sku = pairs.first { $0.count == 2 && $0[0] == "x-client-sku" }?[1]
        XCTAssertEqual(sku, AppConfig.swiftClientSku,
                       "x-client-sku of the last client-credentials request: \(String(describing: sent))")
    }

    func testClientCredentialsAgainstOpenIDProvider() async throws {
        let op = try OIDCProvider.load()
        guard let client = op.clients["secret_post"], let id = client["client_id"] as? String,
              let secret = client["client_secret"] as? String
        else { return XCTFail("no secret_post client in IDFLOW_OIDC_INFO") }
        let scope = op.apiScopes.first { $0.hasSuffix("/.default") } ?? "api://idflow-test/.default"
        let app = try ConfidentialClientApplication(
            clientId: id, authority: op.issuer, credential: .secret(secret: secret),
            oidcAuthority: true)
        let token = try await app.acquireTokenForClient(scopes: [scope], claims: nil)
        XCTAssertFalse(token.accessToken.isEmpty)
        XCTAssertEqual(token.tokenType.lowercased(), "bearer")
    }

    // MARK: - device code

    func testDeviceCodeApproved() async throws {
        let app = try publicApp()
        let flow = try await app.initiateDeviceFlow(scopes: userRead, claims: nil)
        XCTAssertFalse(flow.userCode().isEmpty)
        XCTAssertTrue(flow.message().contains(flow.userCode()), "message: \(flow.message())")
        XCTAssertTrue(flow.verificationUri().hasSuffix("/devicelogin"), flow.verificationUri())

        // Approved before the first poll, so the first poll gets the tokens.
        try await Emulator.admin("device_codes/approve", ["user_code": flow.userCode()])
        let token = try await app.acquireTokenByDeviceFlow(flow: flow)
        XCTAssertFalse(token.accessToken.isEmpty)
        XCTAssertEqual(token.account?.username, Emulator.username)
        XCTAssertNotNil(token.refreshToken)
    }

    func testDeviceCodeDeclinedIsUserCancelled() async throws {
        let app = try publicApp()
        let flow = try await app.initiateDeviceFlow(scopes: userRead, claims: nil)
        try await Emulator.admin("device_codes/decline", ["user_code": flow.userCode()])
        let seen = await expectNSError("device code declined") {
            _ = try await app.acquireTokenByDeviceFlow(flow: flow)
        }
        guard let (ns, _) = seen else { return }
        XCTAssertEqual(ns.domain, IdFlowErrorDomain)
        XCTAssertEqual(ns.code, IdFlowErrorCode.userCanceled.rawValue)
        XCTAssertEqual(ns.userInfo[IdFlowErrorKindKey] as? String, "cancelled")
        XCTAssertEqual(ns.userInfo[IdFlowOAuthErrorKey] as? String, "authorization_declined")
    }

    func testDeviceCodeTaskCancellationIsUserCancelled() async throws {
        let app = try publicApp()
        let flow = try await app.initiateDeviceFlow(scopes: userRead, claims: nil)
        let started = Date()
        let polling = Task {
            try await app.throwingNSError { try await $0.acquireTokenByDeviceFlow(flow: flow) }
        }
        try await Task.sleep(nanoseconds: 300_000_000)
        polling.cancel()
        switch await polling.result {
        case .success:
            XCTFail("a cancelled device-code poll returned a token")
        case let .failure(error as NSError) where error.domain == IdFlowErrorDomain:
            XCTAssertEqual(error.code, IdFlowErrorCode.userCanceled.rawValue, "\(error)")
            XCTAssertEqual(error.userInfo[IdFlowErrorKindKey] as? String, "cancelled")
            XCTAssertNotNil(error.userInfo[NSLocalizedDescriptionKey] as? String)
        case let .failure(error):
            XCTFail("expected an IdFlowErrorDomain NSError, got \(type(of: error)): \(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 4, "cancellation was not prompt")
    }

    func testAlreadyCancelledTaskEndsAtOnce() async throws {
        let app = try publicApp()
        let flow = try await app.initiateDeviceFlow(scopes: userRead, claims: nil)
        let started = Date()
        let polling = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await app.throwingNSError { try await $0.acquireTokenByDeviceFlow(flow: flow) }
        }
        let error = await polling.result.failure as NSError?
        XCTAssertEqual(error?.domain, IdFlowErrorDomain, "\(String(describing: error))")
        XCTAssertEqual(error?.code, IdFlowErrorCode.userCanceled.rawValue)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2, "did not end at once")
    }

    func testSwiftConfigDefaults() throws {
        let config = AppConfig.swift(clientId: "c", authority: "https://login.microsoftonline.com/common",
                                     timeout: 1.5, connectTimeout: 2)
        XCTAssertEqual(config.clientSku, "idflow.swift")
        XCTAssertEqual(config.timeoutMs, 1500)
        XCTAssertEqual(config.connectTimeoutMs, 2000)
        XCTAssertTrue(config.validateAuthority)
        XCTAssertFalse(config.oidcAuthority)

        let plain = AppConfig(clientId: "c", authority: "https://login.microsoftonline.com/common")
        XCTAssertNil(plain.clientSku)
        XCTAssertEqual(plain.withSwiftClientSku().clientSku, AppConfig.swiftClientSku)
        var own = plain
        own.clientSku = "my.sdk"
        XCTAssertEqual(own.withSwiftClientSku().clientSku, "my.sdk", "an explicit SKU is kept")

        // A bad authority is a configuration error, caught as an NSError.
        XCTAssertThrowsError(try AuthError.throwingNSError {
            try PublicClientApplication(swiftConfig: AppConfig(clientId: "c", authority: "http://example.com/common"))
        }) { error in
            let ns = error as NSError
            XCTAssertEqual(ns.domain, IdFlowErrorDomain)
            XCTAssertEqual(ns.code, IdFlowErrorCode.internal.rawValue)
            XCTAssertNotNil(ns.userInfo[IdFlowInternalErrorCodeKey] as? Int)
        }
    }

    // MARK: - username/password and refresh token

    func testUsernamePasswordSucceeds() async throws {
        let app = try publicApp()
        let token = try await app.acquireTokenByUsernamePassword(
            username: Emulator.username, password: Emulator.password, scopes: userRead, claims: nil)
        XCTAssertFalse(token.accessToken.isEmpty)
        XCTAssertEqual(token.account?.username, Emulator.username)
        XCTAssertNotNil(token.idTokenClaimsJson)

        // Its refresh token works through refresh-token import.
        let refreshToken = try XCTUnwrap(token.refreshToken)
        let refreshed = try await app.acquireTokenByRefreshToken(
            refreshToken: refreshToken, scopes: userRead, claims: nil)
        XCTAssertFalse(refreshed.accessToken.isEmpty)
    }

    func testWrongPasswordIsInteractionRequired() async throws {
        let app = try publicApp()
        let seen = await expectNSError("wrong password") {
            _ = try await app.acquireTokenByUsernamePassword(
                username: Emulator.username, password: "wrong", scopes: self.userRead, claims: nil)
        }
        guard let (ns, _) = seen else { return }
        XCTAssertEqual(ns.domain, IdFlowErrorDomain)
        XCTAssertEqual(ns.code, IdFlowErrorCode.interactionRequired.rawValue)
        XCTAssertEqual(ns.userInfo[IdFlowOAuthErrorKey] as? String, "invalid_grant")
        // invalid_grant without a suberror: interaction required, classification None.
        XCTAssertEqual(ns.userInfo[IdFlowClassificationKey] as? String, "None")
        XCTAssertEqual(ns.userInfo[IdFlowRecommendedActionKey] as? String, "acquire_interactively")
        XCTAssertTrue((ns.userInfo[IdFlowSTSErrorCodesKey] as? [Int])?.contains(50126) == true,
                      "STS codes: \(String(describing: ns.userInfo[IdFlowSTSErrorCodesKey]))")
        XCTAssertEqual(ns.userInfo[IdFlowHTTPResponseCodeKey] as? String, "400")
        XCTAssertNotNil(ns.userInfo[IdFlowCorrelationIDKey] as? String)
        XCTAssertNil(ns.userInfo[IdFlowInternalErrorCodeKey], "only internal errors carry one")
    }

    func testBadRefreshTokenIsInteractionRequired() async throws {
        let app = try publicApp()
        let seen = await expectNSError("bad refresh token") {
            _ = try await app.acquireTokenByRefreshToken(
                refreshToken: "not-a-refresh-token", scopes: self.userRead, claims: nil)
        }
        guard let (ns, _) = seen else { return }
        XCTAssertEqual(ns.domain, IdFlowErrorDomain)
        XCTAssertEqual(ns.code, IdFlowErrorCode.interactionRequired.rawValue)
        XCTAssertEqual(ns.userInfo[IdFlowOAuthErrorKey] as? String, "invalid_grant")
        XCTAssertNotNil(ns.userInfo[IdFlowClassificationKey] as? String, "classification")
    }

    // MARK: - service and transport failures

    func testThrottled429IsInternalWithRetryAfter() async throws {
        // 429 with an OAuth body (temporarily_unavailable) and Retry-After: 30.
        try await Emulator.admin("presets/throttled_429", [
            "match": ["endpoint": "token", "client_id": Emulator.confidentialClient],
        ])
        let seen = await expectNSError("429 with an OAuth body") {
            _ = try await self.confidentialApp().acquireTokenForClient(scopes: self.graphDefault, claims: nil)
        }
        guard let (ns, _) = seen else { return }
        XCTAssertEqual(ns.domain, IdFlowErrorDomain)
        XCTAssertEqual(ns.code, IdFlowErrorCode.internal.rawValue)
        // MSAL for iOS/macOS reads bodies only for 400/401: a 429 is an unhandled response
        // whatever its body (as the vectors say); the OAuth error is still in userInfo.
        XCTAssertEqual(ns.userInfo[IdFlowInternalErrorCodeKey] as? Int,
                       IdFlowInternalErrorCode.unhandledResponse.rawValue)
        XCTAssertEqual(ns.userInfo[IdFlowOAuthErrorKey] as? String, "temporarily_unavailable")
        XCTAssertEqual(ns.userInfo[IdFlowRetryAfterKey] as? Int, 30)
        XCTAssertEqual(ns.userInfo[IdFlowRecommendedActionKey] as? String, "retry_after")
        XCTAssertEqual(ns.userInfo[IdFlowHTTPResponseCodeKey] as? String, "429")
        let headers = ns.userInfo[IdFlowHTTPHeadersKey] as? [String: String]
        XCTAssertEqual(headers?["retry-after"], "30", "headers: \(String(describing: headers))")
        XCTAssertEqual(ns.userInfo[IdFlowIsRetryableKey] as? Bool, true)
    }

    func testThrottled429WithoutBodyIsUnhandledResponse() async throws {
        // 429 with no body and Retry-After as an HTTP date 120 s ahead.
        try await Emulator.admin("presets/throttled_429_http_date", [
            "match": ["endpoint": "token", "client_id": Emulator.confidentialClient],
        ])
        let seen = await expectNSError("429 without a body") {
            _ = try await self.confidentialApp().acquireTokenForClient(scopes: self.graphDefault, claims: nil)
        }
        guard let (ns, _) = seen else { return }
        XCTAssertEqual(ns.code, IdFlowErrorCode.internal.rawValue)
        XCTAssertEqual(ns.userInfo[IdFlowInternalErrorCodeKey] as? Int,
                       IdFlowInternalErrorCode.unhandledResponse.rawValue)
        let retryAfter = ns.userInfo[IdFlowRetryAfterKey] as? Int ?? -1
        XCTAssertTrue((115...121).contains(retryAfter), "retry after \(retryAfter)")
        let headers = ns.userInfo[IdFlowHTTPHeadersKey] as? [String: String]
        XCTAssertNotNil(headers?["retry-after"], "headers: \(String(describing: headers))")
        XCTAssertNil(ns.userInfo[IdFlowOAuthErrorKey], "no OAuth body, no OAuth error")
    }

    func testClosedPortIsNSURLErrorCannotConnect() async throws {
        let app = try PublicClientApplication(
            clientId: Emulator.publicClient, authority: "http://127.0.0.1:\(closedPort())/organizations",
            timeout: 10)
        do {
            _ = try await app.throwingNSError {
                try await $0.acquireTokenByUsernamePassword(
                    username: Emulator.username, password: Emulator.password, scopes: self.userRead,
                    claims: nil)
            }
            XCTFail("a closed port gave a token")
        } catch let error as NSError where error.domain == NSURLErrorDomain {
            XCTAssertEqual(error.code, URLError.Code.cannotConnectToHost.rawValue, "\(error)")
            XCTAssertEqual(error.userInfo[IdFlowErrorKindKey] as? String, "network")
            XCTAssertEqual(error.userInfo[IdFlowRecommendedActionKey] as? String, "check_network")
            XCTAssertNotNil(error.userInfo[NSLocalizedDescriptionKey] as? String)
        } catch {
            XCTFail("expected an NSURLErrorDomain NSError, got \(type(of: error)): \(error)")
        }
    }

    // MARK: - authorization code + PKCE

    func testAuthCodeWithPKCE() async throws {
        let app = try publicApp()
        let flow = try await app.initiateAuthCodeFlow(
            scopes: userRead, redirectUri: "http://localhost/callback", options: AuthorizeOptions())
        let authURI = try XCTUnwrap(URLComponents(string: flow.authUri()))
        let query = Dictionary(uniqueKeysWithValues: (authURI.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        XCTAssertEqual(query["code_challenge_method"], "S256")
        XCTAssertNotNil(query["code_challenge"])
        XCTAssertEqual(query["state"], flow.state())

        let (status, location) = try await HTTP.getWithoutRedirect(try XCTUnwrap(authURI.url))
        XCTAssertTrue((300..<400).contains(status), "authorize answered \(status)")
        let redirect = try XCTUnwrap(location, "no Location from authorize")
        XCTAssertTrue(redirect.hasPrefix("http://localhost/callback"), redirect)

        let token = try await app.acquireTokenByAuthCodeFlow(flow: flow, redirect: redirect)
        XCTAssertFalse(token.accessToken.isEmpty)
        XCTAssertEqual(token.account?.username, Emulator.username)

        // The code is single-use: replaying the redirect is refused.
        let seen = await expectNSError("auth code replay") {
            _ = try await app.acquireTokenByAuthCodeFlow(flow: flow, redirect: redirect)
        }
        if let (ns, _) = seen { XCTAssertEqual(ns.domain, IdFlowErrorDomain) }
    }

    func testInteractiveWithOpenerAndLoopbackRedirect() async throws {
        let app = try publicApp()
        let opener = FollowingOpener()
        let token = try await app.acquireTokenInteractive(
            scopes: userRead,
            options: InteractiveOptions(redirectHost: "localhost", timeoutSecs: 20),
            opener: opener)
        XCTAssertFalse(token.accessToken.isEmpty)
        XCTAssertEqual(token.account?.username, Emulator.username)
        XCTAssertEqual(opener.opened.count, 1)
    }

    // MARK: - helpers

    private func publicApp() throws -> PublicClientApplication {
        try PublicClientApplication(clientId: Emulator.publicClient,
                                    authority: try Emulator.authority("organizations"), timeout: 20)
    }

    private func confidentialApp() throws -> ConfidentialClientApplication {
        try ConfidentialClientApplication(
            clientId: Emulator.confidentialClient, authority: try Emulator.authority(Emulator.tenant),
            credential: .secret(secret: Emulator.secret), timeout: 20)
    }

    /// A loopback port with nothing listening (tcpmux, never served on the test machines).
    private func closedPort() -> Int { 1 }
}

/// Runs an app call that must fail with an `AuthError`; checks that the `NSError` an app catches
/// (through the async `AuthError.throwingNSError`) is exactly the core's decision, with the
/// existing `checkTranslation`; returns it for the test's own assertions.
func expectNSError(_ what: String, file: StaticString = #filePath, line: UInt = #line,
                   _ call: () async throws -> Void) async -> (NSError, ErrorInfo)? {
    let r = CaseReporter(name: what, file: file, line: line)
    let thrown: AuthError
    do {
        try await call()
        r.fail("did not throw")
        return nil
    } catch let error as AuthError {
        thrown = error
    } catch {
        r.fail("threw \(type(of: error)), not AuthError: \(error)")
        return nil
    }
    r.equal(thrown.caseKind, thrown.info.kind, "AuthError case vs info.kind")
    do {
        try await AuthError.throwingNSError { () async throws -> Void in throw thrown }
        r.fail("throwingNSError did not throw")
    } catch let ns as NSError {
        checkTranslation(r, "via throwingNSError", ns, thrown.info)
        return (ns, thrown.info)
    }
    return nil
}

/// A `UrlOpener` standing in for the browser: it loads the sign-in page and follows the
/// emulator's redirect to the core's loopback listener.
final class FollowingOpener: UrlOpener, @unchecked Sendable {
    private let lock = NSLock()
    private var urls: [String] = []
    var opened: [String] { lock.lock(); defer { lock.unlock() }; return urls }

    func openUrl(url: String) throws {
        lock.lock(); urls.append(url); lock.unlock()
        guard let target = URL(string: url) else { return }
        URLSession.shared.dataTask(with: target) { _, _, _ in }.resume()
    }
}

extension Result {
    var failure: Failure? { if case let .failure(e) = self { return e }; return nil }
}
