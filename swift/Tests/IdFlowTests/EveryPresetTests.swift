// Every emulator preset (GET /_admin/presets) through the real flow it matches, asserting the
// NSError an app catches: domain, code, internal code, classification, OAuth error and
// Retry-After, each derived here from the preset's own `expect` and `rule` (never from the
// error under test). Non-terminal presets (pending, slow_down, a slow answer) must succeed.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import IdFlow
import XCTest

final class EveryPresetTests: XCTestCase {
    private let userRead = ["User.Read"]
    private let graphDefault = ["https://graph.microsoft.com/.default"]
    private let redirectUri = "http://localhost/callback"

    func testEveryPresetThroughARealFlow() async throws {
        let started = Date()
        let presets = try await Emulator.admin("presets", method: "GET") as? [[String: Any]] ?? []
        XCTAssertFalse(presets.isEmpty, "GET /_admin/presets listed no presets")
        guard !presets.isEmpty else { return }

        var failures = 0, successes = 0, other = 0
        for preset in presets {
            let name = preset["name"] as? String ?? "?"
            let rule = preset["rule"] as? [String: Any] ?? [:]
            let match = rule["match"] as? [String: Any] ?? [:]
            let effect = rule["effect"] as? [String: Any] ?? [:]
            let expect = preset["expect"] as? [String: Any]
            let endpoint = match["endpoint"] as? String
            let grantType = match["grant_type"] as? String

            try await Emulator.admin("reset")
            // Pending answers wait one interval before the next poll: keep it short and
            // measurable (0 would poll again at once).
            try await Emulator.admin("settings", ["device_code_interval_secs": 1], method: "PATCH")

            if name == "iwa_managed_user" {
                // No idflow flow reads the user realm: check the answer over plain HTTP.
                try await Emulator.admin("presets/\(name)", armBody(name))
                let url = URL(string: "\(try Emulator.base())/common/userrealm/\(Emulator.username)?api-version=1.0")!
                let (data, response) = try await HTTP.send(URLRequest(url: url))
                XCTAssertEqual(response.statusCode, 200, "\(name)")
                let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
                XCTAssertEqual(json?["account_type"] as? String, "Managed", "\(name): \(String(describing: json))")
                other += 1
                continue
            }

            let flowStarted = Date()
            let call: () async throws -> TokenResult
            switch (endpoint, grantType) {
            case ("authorize", _):
                let promptNone = (expect?["flow"] as? String) == "authorize_prompt_none"
                try await Emulator.admin("sessions", ["username": Emulator.username])
                try await Emulator.admin("presets/\(name)", armBody(name))
                let app = try publicApp()
                let flow = try await app.initiateAuthCodeFlow(
                    scopes: userRead, redirectUri: redirectUri,
                    options: AuthorizeOptions(prompt: promptNone ? "none" : nil))
                let (status, location) = try await HTTP.getWithoutRedirect(
                    try XCTUnwrap(URL(string: flow.authUri()), name))
                XCTAssertTrue((300..<400).contains(status), "\(name): authorize answered \(status)")
                guard let location else {
                    XCTFail("\(name): no Location from authorize")
                    continue
                }
                call = { try await app.acquireTokenByAuthCodeFlow(flow: flow, redirect: location) }
            case ("token", "refresh_token"):
                let app = try publicApp()
                let first = try await app.acquireTokenByUsernamePassword(
                    username: Emulator.username, password: Emulator.password, scopes: userRead,
                    claims: nil)
                guard let refreshToken = first.refreshToken else {
                    XCTFail("\(name): ROPC gave no refresh token")
                    continue
                }
                try await Emulator.admin("presets/\(name)", armBody(name))
                call = {
                    try await app.acquireTokenByRefreshToken(
                        refreshToken: refreshToken, scopes: self.userRead, claims: nil)
                }
            case ("token", let grant?) where grant.contains("device_code"):
                let app = try publicApp()
                let flow = try await app.initiateDeviceFlow(scopes: userRead, claims: nil)
                try await Emulator.admin("device_codes/approve", ["user_code": flow.userCode()])
                try await Emulator.admin("presets/\(name)", armBody(name))
                call = { try await app.acquireTokenByDeviceFlow(flow: flow) }
            case ("token", nil):
                try await Emulator.admin("presets/\(name)", armBody(name))
                // A server that never answers is ended by the app's own (short) timeout.
                let noAnswer = (effect["kind"] as? String) == "no_answer"
                let app = try confidentialApp(timeout: noAnswer ? Self.noAnswerTimeout : 20)
                call = { try await app.acquireTokenForClient(scopes: self.graphDefault, claims: nil) }
            default:
                XCTFail("\(name): no flow for endpoint \(String(describing: endpoint)), grant \(String(describing: grantType))")
                continue
            }

            guard let expect else {
                // slow_response: answers normally, after the server's delay.
                do {
                    let token = try await call()
                    XCTAssertFalse(token.accessToken.isEmpty, "\(name)")
                    XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(flowStarted), 0.9,
                                                "\(name): answered before the server's delay")
                } catch {
                    XCTFail("\(name): expected a token, got \(error)")
                }
                successes += 1
                continue
            }

            if ["authorization_pending", "aadsts_70016", "slow_down"].contains(name) {
                // Not terminal: polling goes on to the (already approved) token.
                do {
                    let token = try await call()
                    XCTAssertFalse(token.accessToken.isEmpty, "\(name)")
                    XCTAssertEqual(token.account?.username, Emulator.username, "\(name)")
                } catch {
                    XCTFail("\(name): a non-terminal answer ended polling: \(error)")
                }
                successes += 1
                continue
            }

            let callStarted = Date()
            let seen = await expectNSError(name) { _ = try await call() }
            guard let (ns, _) = seen else { continue }
            check(name, ns, expect: expect, effect: effect)
            if name == "no_answer" {
                // The attempt and the core's one retry after a timeout (1 s later) both time out.
                let took = Date().timeIntervalSince(callStarted)
                XCTAssertTrue((2 * Self.noAnswerTimeout..<Self.noAnswerBound).contains(took),
                              "\(name): ended after \(took) s, not at twice the \(Self.noAnswerTimeout) s timeout")
            }
            failures += 1
        }
        let total = failures + successes + other
        print("EveryPresetTests: \(total) of \(presets.count) presets ran (\(failures) errors checked, "
              + "\(successes) successes, \(other) not a flow) in "
              + String(format: "%.1f s", Date().timeIntervalSince(started)))
        XCTAssertEqual(total, presets.count, "every preset ran")
    }

    /// 5xx answers without Retry-After are sent once more by the core (after 1 s): armed for
    /// two requests so that the call still fails.
    private static let retried: Set<String> = ["server_error_500", "html_error_page"]

    private func armBody(_ name: String) -> [String: Any] {
        Self.retried.contains(name) ? ["count": 2] : [:]
    }

    // MARK: - the expectation, from the preset

    private func check(_ name: String, _ ns: NSError, expect: [String: Any], effect: [String: Any]) {
        let kind = expect["kind"] as? String ?? "?"
        let code = expect["code"] as? String ?? "?"
        let errorCodes = effect["error_codes"] as? [Int] ?? []
        let suberror = effect["suberror"] as? String
        let what = "\(name) (\(kind) / \(code))"

        XCTAssertEqual(ns.userInfo[IdFlowErrorKindKey] as? String, kind, "\(what): kind")

        switch kind {
        case "interaction_required":
            XCTAssertEqual(ns.domain, IdFlowErrorDomain, "\(what): domain")
            // MSAL gives the password-reset case (AADSTS50142) its own code.
            let wanted = errorCodes.contains(50142)
                ? IdFlowErrorCode.serverInvalidRequestResetPasswordRequired
                : IdFlowErrorCode.interactionRequired
            XCTAssertEqual(ns.code, wanted.rawValue, "\(what): code")
            XCTAssertEqual(ns.userInfo[IdFlowClassificationKey] as? String,
                           expect["classification"] as? String, "\(what): classification")
            XCTAssertNil(ns.userInfo[IdFlowInternalErrorCodeKey], "\(what): internal code")
            XCTAssertEqual(ns.userInfo[IdFlowRecommendedActionKey] as? String,
                           "acquire_interactively", "\(what): action")
        case "cancelled":
            XCTAssertEqual(ns.domain, IdFlowErrorDomain, "\(what): domain")
            XCTAssertEqual(ns.code, IdFlowErrorCode.userCanceled.rawValue, "\(what): code")
            XCTAssertNil(ns.userInfo[IdFlowInternalErrorCodeKey], "\(what): internal code")
        case "network":
            XCTAssertEqual(ns.domain, NSURLErrorDomain, "\(what): domain")
            let urlCodes: [String: URLError.Code] = [
                "network_connection_lost": .networkConnectionLost,
                "cannot_connect_to_host": .cannotConnectToHost,
                "request_timeout": .timedOut,
            ]
            XCTAssertEqual(ns.code, urlCodes[code]?.rawValue, "\(what): code")
            XCTAssertNil(ns.userInfo[IdFlowInternalErrorCodeKey], "\(what): internal code")
        case "service":
            XCTAssertEqual(ns.domain, IdFlowErrorDomain, "\(what): domain")
            if suberror == "protection_policy_required" {
                XCTAssertEqual(ns.code, IdFlowErrorCode.serverProtectionPoliciesRequired.rawValue,
                               "\(what): code")
                XCTAssertNil(ns.userInfo[IdFlowInternalErrorCodeKey], "\(what): internal code")
            } else {
                XCTAssertEqual(ns.code, IdFlowErrorCode.internal.rawValue, "\(what): code")
                let status = (ns.userInfo[IdFlowHTTPResponseCodeKey] as? String).flatMap { Int($0) }
                XCTAssertEqual(ns.userInfo[IdFlowInternalErrorCodeKey] as? Int,
                               Self.internalCode(code, status: status).rawValue, "\(what): internal code")
            }
            XCTAssertNil(ns.userInfo[IdFlowClassificationKey], "\(what): classification")
        default:
            XCTFail("\(what): unknown expected kind")
        }

        // The server's OAuth error, when it sent one.
        if (effect["kind"] as? String) == "oauth_error" {
            XCTAssertEqual(ns.userInfo[IdFlowOAuthErrorKey] as? String, code, "\(what): OAuth error")
            if let suberror {
                XCTAssertEqual(ns.userInfo[IdFlowOAuthSubErrorKey] as? String, suberror,
                               "\(what): suberror")
            }
            if !errorCodes.isEmpty {
                XCTAssertEqual(ns.userInfo[IdFlowSTSErrorCodesKey] as? [Int], errorCodes,
                               "\(what): STS error codes")
            }
        } else {
            XCTAssertNil(ns.userInfo[IdFlowOAuthErrorKey], "\(what): no OAuth body, no OAuth error")
        }

        // Retry-After (429 / 503 presets).
        if let retry = effect["retry_after"] as? [String: Any], let seconds = retry["seconds"] as? Int {
            let actual = ns.userInfo[IdFlowRetryAfterKey] as? Int
            if retry["http_date"] as? Bool == true {
                // An HTTP date has a one-second resolution and the request took a moment.
                XCTAssertTrue(actual.map { (seconds - 5)...(seconds + 1) ~= $0 } ?? false,
                              "\(what): retry after \(String(describing: actual)), sent \(seconds) s as a date")
            } else {
                XCTAssertEqual(actual, seconds, "\(what): retry after")
            }
            XCTAssertEqual(ns.userInfo[IdFlowRecommendedActionKey] as? String, "retry_after",
                           "\(what): action")
        }
    }

    /// `IdFlowInternalErrorCodeKey` for a service error's code (MSAL's `MSALInternalError`).
    /// MSAL for iOS/macOS reads a token-endpoint body only for 2xx, 400 and 401: any other
    /// status is an unhandled response whatever the body.
    private static func internalCode(_ code: String, status: Int?) -> IdFlowInternalErrorCode {
        if let status, !(200..<300).contains(status), status != 400, status != 401 {
            return .unhandledResponse
        }
        switch code {
        case "invalid_request": return .invalidRequest
        case "invalid_client": return .invalidClient
        case "invalid_grant": return .invalidGrant
        case "invalid_scope": return .invalidScope
        case "unauthorized_client": return .unauthorizedClient
        case "server_error": return .serverError
        // Answers idflow could not use as an OAuth answer.
        case "non_parsable_oauth_error", "service_not_available", "request_throttled":
            return .unhandledResponse
        case "http_status_not_200": return .unexpectedHttpResponse
        case "invalid_token_response": return .invalidResponse
        // Any other OAuth error the server sent.
        default: return .authorizationFailed
        }
    }

    // MARK: - apps (new for each preset: the client-side throttle is per app)

    private func publicApp() throws -> PublicClientApplication {
        try PublicClientApplication(clientId: Emulator.publicClient,
                                    authority: try Emulator.authority(Emulator.tenant), timeout: 20)
    }

    private func confidentialApp(timeout: TimeInterval = 20) throws -> ConfidentialClientApplication {
        try ConfidentialClientApplication(
            clientId: Emulator.confidentialClient, authority: try Emulator.authority(Emulator.tenant),
            credential: .secret(secret: Emulator.secret), timeout: timeout)
    }

    /// The request timeout of the app that meets `no_answer`.
    private static let noAnswerTimeout: TimeInterval = 0.7
    /// The latest a timed-out call may end: far above its 2.4 s (a loaded machine stretches
    /// every step), far below the emulator's 120 s hold, so only the app's timeout can have
    /// ended it. Not a speed check.
    private static let noAnswerBound: TimeInterval = 30
}
