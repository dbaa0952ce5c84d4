// The user-facing flows against node-oidc-provider (an OIDC authority): authorization code with
// PKCE and the device code, with the provider's own login and consent pages driven over plain
// HTTP by a scripted browser (the Swift port of testing/src/browser.rs).

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import IdFlow
import XCTest

final class OidcPagesTests: XCTestCase {
    private let read = ["api://idflow-test/read"]
    private let redirectUri = "http://127.0.0.1:51234/callback"

    // MARK: - authorization code + PKCE

    func testAuthCodeWithPkceThroughPagesThenRefresh() async throws {
        let op = try OIDCProvider.load()
        let app = try nativeApp(op)
        let flow = try await app.throwingNSError {
            try await $0.initiateAuthCodeFlow(scopes: self.read, redirectUri: self.redirectUri,
                                              options: AuthorizeOptions(prompt: "consent"))
        }
        let authUri = flow.authUri()
        XCTAssertTrue(authUri.hasPrefix(op.issuer), "auth URI \(authUri) is not at \(op.issuer)")
        XCTAssertTrue(authUri.contains("code_challenge="), "no PKCE challenge: \(authUri)")
        XCTAssertTrue(authUri.contains("code_challenge_method=S256"), authUri)

        let browser = PageBrowser(issuer: op.issuer)
        let redirect = try await browser.authorize(authUri)
        XCTAssertTrue(redirect.absoluteString.hasPrefix(redirectUri), "left for \(redirect)")
        let query = URLComponents(url: redirect, resolvingAgainstBaseURL: false)?.queryItems ?? []
        XCTAssertNotNil(query.first { $0.name == "code" }?.value, "no code in \(redirect)")
        XCTAssertEqual(query.first { $0.name == "state" }?.value, flow.state())

        let token = try await app.throwingNSError {
            try await $0.acquireTokenByAuthCodeFlow(flow: flow, redirect: redirect.absoluteString)
        }
        XCTAssertFalse(token.accessToken.isEmpty)
        XCTAssertEqual(token.tokenType.lowercased(), "bearer")
        XCTAssertEqual(token.tokenSource, .identityProvider)
        XCTAssertGreaterThan(token.expiresOn, Int64(Date().timeIntervalSince1970))
        XCTAssertNotNil(token.idToken)

        let claimsJson = try XCTUnwrap(token.idTokenClaimsJson, "no id token claims")
        let claims = try JSONSerialization.jsonObject(with: Data(claimsJson.utf8)) as? [String: Any]
        let sub = try XCTUnwrap(claims?["sub"] as? String, "no sub in \(claimsJson)")
        XCTAssertEqual(sub, PageBrowser.login, "the signed-in login is the subject")
        XCTAssertEqual(claims?["iss"] as? String, op.issuer)
        let account = try XCTUnwrap(token.account, "an interactive token has an account")
        XCTAssertEqual(account.homeAccountId, sub)

        // prompt=consent let offline_access through: the refresh token redeems.
        let refreshToken = try XCTUnwrap(token.refreshToken, "no refresh token with prompt=consent")
        let refreshed = try await app.throwingNSError {
            try await $0.acquireTokenByRefreshToken(refreshToken: refreshToken, scopes: self.read,
                                                    claims: nil)
        }
        XCTAssertFalse(refreshed.accessToken.isEmpty)
        XCTAssertNotEqual(refreshed.accessToken, token.accessToken, "a new access token")
        XCTAssertEqual(refreshed.tokenSource, .identityProvider)
    }

    // MARK: - device code

    func testDeviceCodeApprovedThroughPagesWhilePolling() async throws {
        let op = try OIDCProvider.load()
        let app = try nativeApp(op)
        let flow = try await app.throwingNSError {
            try await $0.initiateDeviceFlow(scopes: self.read, claims: nil)
        }
        let userCode = flow.userCode()
        XCTAssertFalse(userCode.isEmpty)
        XCTAssertTrue(flow.verificationUri().hasPrefix(op.issuer), flow.verificationUri())
        XCTAssertTrue(flow.message().contains(userCode), "message: \(flow.message())")

        // Poll (interval 1 s) while the user approves in a browser.
        let polling = Task {
            try await app.throwingNSError { try await $0.acquireTokenByDeviceFlow(flow: flow) }
        }
        let browser = PageBrowser(issuer: op.issuer)
        let done: PageBrowser.Page
        do {
            done = try await browser.approveDevice(userCode)
        } catch {
            polling.cancel()
            throw error
        }
        XCTAssertTrue(done.html.contains("Sign-in Success") || done.title == "Sign-in Success",
                      "final page: HTTP \(done.status) \(String(describing: done.title))")

        let token = try await polling.value
        XCTAssertFalse(token.accessToken.isEmpty)
        XCTAssertEqual(token.tokenType.lowercased(), "bearer")
        let claimsJson = try XCTUnwrap(token.idTokenClaimsJson)
        let claims = try JSONSerialization.jsonObject(with: Data(claimsJson.utf8)) as? [String: Any]
        XCTAssertEqual(claims?["sub"] as? String, PageBrowser.login)
        XCTAssertEqual(token.account?.homeAccountId, PageBrowser.login)
    }

    // MARK: - helpers

    private func nativeApp(_ op: OIDCProvider) throws -> PublicClientApplication {
        let native = op.clients["native"]
            ?? op.clients.values.first { ($0["client_id"] as? String) == "idflow-native" }
        let id = native?["client_id"] as? String ?? "idflow-native"
        return try PublicClientApplication(clientId: id, authority: op.issuer, oidcAuthority: true,
                                           timeout: 20)
    }
}

/// One user's browser on the provider's pages: its own cookie jar, redirects followed by hand
/// (so a redirect leaving the provider for the client's redirect URI is where it stops).
final class PageBrowser: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    /// The login typed into the login form (it becomes the `sub`); any password is accepted.
    static let login = "alice"
    static let password = "any-password"
    /// Redirects and form posts allowed in one drive (login + consent take about six).
    static let maxSteps = 16

    struct Page {
        let url: URL
        let status: Int
        let html: String

        var title: String? {
            guard let open = html.range(of: "<title>"),
                  let close = html.range(of: "</title>", range: open.upperBound..<html.endIndex)
            else { return nil }
            return html[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// The first form: its absolute action URL and its named inputs, in order.
        func form() -> (URL, [(String, String)])? {
            guard let start = html.range(of: "<form") else { return nil }
            let end = html.range(of: "</form>", range: start.lowerBound..<html.endIndex)?.lowerBound
                ?? html.endIndex
            let form = html[start.lowerBound..<end]
            guard let openEnd = form.firstIndex(of: ">"),
                  let action = PageBrowser.attr(String(form[..<openEnd]), "action"),
                  let actionUrl = URL(string: action, relativeTo: url)?.absoluteURL
            else { return nil }
            var fields: [(String, String)] = []
            var rest = form[openEnd...]
            while let input = rest.range(of: "<input") {
                let tagEnd = rest[input.lowerBound...].firstIndex(of: ">") ?? rest.endIndex
                let tag = String(rest[input.lowerBound..<tagEnd])
                if let name = PageBrowser.attr(tag, "name") {
                    fields.append((name, PageBrowser.attr(tag, "value") ?? ""))
                }
                rest = rest[tagEnd...]
            }
            return (actionUrl, fields)
        }
    }

    struct BrowserError: Error, CustomStringConvertible {
        let description: String
    }

    private enum Driven {
        case left(URL)
        case page(Page)
    }

    private let issuer: String
    private let lock = NSLock()
    private var cookies: [String: HTTPCookie] = [:]
    private var pending: [Int: (data: Data, done: (Result<(Data, HTTPURLResponse), Error>) -> Void)] = [:]
    private var session: URLSession!

    init(issuer: String) {
        self.issuer = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        super.init()
        let config = URLSessionConfiguration.ephemeral
        config.httpShouldSetCookies = false   // this browser keeps its own jar
        config.httpCookieAcceptPolicy = .never
        config.httpCookieStorage = nil
        config.timeoutIntervalForRequest = 20
        session = URLSession(configuration: config, delegate: self, delegateQueue: nil)
    }

    deinit { session?.invalidateAndCancel() }

    // MARK: drives

    /// Opens an authorize URL and signs in and consents until the provider redirects away;
    /// returns that redirect (to the client's redirect URI).
    func authorize(_ url: String) async throws -> URL {
        guard let start = URL(string: url) else { throw BrowserError(description: "bad URL \(url)") }
        switch try await drive(try await get(start)) {
        case let .left(url): return url
        case let .page(p):
            throw BrowserError(description: "authorize ended on a page: HTTP \(p.status) \(p.url) \(String(describing: p.title))")
        }
    }

    /// Types `userCode` at /device, confirms it, signs in and consents; returns the last page.
    func approveDevice(_ userCode: String) async throws -> Page {
        let entry = try await page(try await get(URL(string: "\(issuer)/device")!))
        guard let (action, entryFields) = entry.form() else {
            throw BrowserError(description: "the /device page has no form: \(String(describing: entry.title))")
        }
        let typed = entryFields.map { $0.0 == "user_code" ? ($0.0, userCode) : $0 }
        let confirm = try await page(try await post(action, typed))
        guard let (confirmAction, confirmFields) = confirm.form(),
              confirmFields.contains(where: { $0.0 == "confirm" })
        else {
            throw BrowserError(description: "user code \(userCode) was not accepted: \(String(describing: confirm.title))")
        }
        switch try await drive(try await post(confirmAction, confirmFields)) {
        case let .page(p): return p
        case let .left(url): throw BrowserError(description: "device approval left the provider for \(url)")
        }
    }

    private func inside(_ url: URL) -> Bool {
        let s = url.absoluteString
        return s == issuer || s.hasPrefix(issuer + "/")
    }

    /// Follows redirects inside the provider and fills login and consent forms, until a redirect
    /// leaves the provider or a page has neither form.
    private func drive(_ first: (Data, HTTPURLResponse)) async throws -> Driven {
        var current = first
        for _ in 0..<Self.maxSteps {
            let (_, response) = current
            if (300..<400).contains(response.statusCode) {
                guard let location = Self.header(response, "Location"),
                      let base = response.url,
                      let next = URL(string: location, relativeTo: base)?.absoluteURL
                else { throw BrowserError(description: "a redirect without Location") }
                if !inside(next) { return .left(next) }
                current = try await get(next)
                continue
            }
            let p = try await page(current)
            guard let (action, fields) = p.form() else { return .page(p) }
            let prompt = fields.first { $0.0 == "prompt" }?.1
            let filled: [(String, String)]
            switch prompt {
            case "login":
                filled = fields.map { field in
                    switch field.0 {
                    case "login": return (field.0, Self.login)
                    case "password": return (field.0, Self.password)
                    default: return field
                    }
                }
            case "consent":
                filled = fields
            default:
                return .page(p)
            }
            current = try await post(action, filled)
        }
        throw BrowserError(description: "no end after \(Self.maxSteps) redirects and form posts")
    }

    private func page(_ r: (Data, HTTPURLResponse)) async throws -> Page {
        Page(url: r.1.url ?? URL(string: issuer)!, status: r.1.statusCode,
             html: String(decoding: r.0, as: UTF8.self))
    }

    // MARK: HTTP with a cookie jar

    private func get(_ url: URL) async throws -> (Data, HTTPURLResponse) {
        try await send(URLRequest(url: url))
    }

    private func post(_ url: URL, _ fields: [(String, String)]) async throws -> (Data, HTTPURLResponse) {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(fields.map { "\(Self.formEncode($0.0))=\(Self.formEncode($0.1))" }
            .joined(separator: "&").utf8)
        return try await send(request)
    }

    private func send(_ original: URLRequest) async throws -> (Data, HTTPURLResponse) {
        guard let url = original.url else { throw URLError(.badURL) }
        var request = original
        let header = cookieHeader(for: url)
        if !header.isEmpty { request.setValue(header, forHTTPHeaderField: "Cookie") }
        let (data, response) = try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<(Data, HTTPURLResponse), Error>) in
            let task = session.dataTask(with: request)
            lock.lock()
            pending[task.taskIdentifier] = (Data(), { continuation.resume(with: $0) })
            lock.unlock()
            task.resume()
        }
        store(response, for: response.url ?? url)
        return (data, response)
    }

    private func cookieHeader(for url: URL) -> String {
        let path = url.path.isEmpty ? "/" : url.path
        lock.lock()
        defer { lock.unlock() }
        return cookies.values
            .filter { path.hasPrefix($0.path.isEmpty ? "/" : $0.path) }
            .sorted { $0.path.count > $1.path.count }
            .map { "\($0.name)=\($0.value)" }
            .joined(separator: "; ")
    }

    private func store(_ response: HTTPURLResponse, for url: URL) {
        guard let setCookie = Self.header(response, "Set-Cookie") else { return }
        let parsed = HTTPCookie.cookies(withResponseHeaderFields: ["Set-Cookie": setCookie], for: url)
        let now = Date()
        lock.lock()
        defer { lock.unlock() }
        for cookie in parsed {
            let key = "\(cookie.name)|\(cookie.path)"
            if let expires = cookie.expiresDate, expires <= now {
                cookies[key] = nil
            } else {
                cookies[key] = cookie
            }
        }
    }

    // MARK: URLSessionDataDelegate

    func urlSession(_ session: URLSession, task: URLSessionTask,
                    willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest,
                    completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)   // every redirect is followed by hand, with the jar
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        lock.lock()
        pending[dataTask.taskIdentifier]?.data.append(data)
        lock.unlock()
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        lock.lock()
        let entry = pending.removeValue(forKey: task.taskIdentifier)
        lock.unlock()
        guard let entry else { return }
        if let error {
            entry.done(.failure(error))
        } else if let http = task.response as? HTTPURLResponse {
            entry.done(.success((entry.data, http)))
        } else {
            entry.done(.failure(URLError(.badServerResponse)))
        }
    }

    // MARK: text helpers

    static func header(_ response: HTTPURLResponse, _ name: String) -> String? {
        response.allHeaderFields.first { ($0.key as? String)?.lowercased() == name.lowercased() }?
            .value as? String
    }

    /// The value of `name="…"` in one tag, HTML entities decoded.
    static func attr(_ tag: String, _ name: String) -> String? {
        let normalized = tag.replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\r", with: " ")
        guard let start = normalized.range(of: " \(name)=\""),
              let end = normalized[start.upperBound...].firstIndex(of: "\"")
        else { return nil }
        return String(normalized[start.upperBound..<end])
            .replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&#x27;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func formEncode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? s
    }
}
