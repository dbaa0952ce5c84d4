// The test servers (scripts/with-servers.sh): the emulator's admin API and node-oidc-provider's
// start-up line, plus a little HTTP over URLSession (FoundationNetworking on Linux).

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// The emulator's defaults (emulator/README.md).
enum Emulator {
    static let publicClient = "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e01"
    static let confidentialClient = "5f3b8c1e-7d2a-4e6b-9c0d-1a2b3c4d5e10"
    static let secret = "emulator-secret-do-not-use-in-production"
    static let username = "ada@emulator.idflow.test"
    static let password = "correct horse battery staple"
    static let tenant = "emulator.idflow.test"

    /// `IDFLOW_EMULATOR_URL`; fails the test when the servers are not up (never a silent skip).
    static func base() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["IDFLOW_EMULATOR_URL"], !url.isEmpty
        else { throw ServersMissing("IDFLOW_EMULATOR_URL is unset: run scripts/test-swift.sh") }
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }

    static func authority(_ tenant: String) throws -> String { "\(try base())/\(tenant)" }

    /// POSTs JSON to `/_admin/<path>`; fails the test on a non-2xx answer.
    @discardableResult
    static func admin(_ path: String, _ body: Any = [String: Any](), method: String = "POST",
                      file: StaticString = #filePath, line: UInt = #line) async throws -> Any? {
        var request = URLRequest(url: URL(string: "\(try base())/_admin/\(path)")!)
        request.httpMethod = method
        if method != "GET" && method != "DELETE" {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
        }
        let (data, response) = try await HTTP.send(request)
        let status = response.statusCode
        if !(200..<300).contains(status) {
            let text = String(decoding: data, as: UTF8.self)
            XCTFail("admin \(method) \(path): HTTP \(status) \(text)", file: file, line: line)
            throw AdminFailure()
        }
        return data.isEmpty ? nil : try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    }

    struct AdminFailure: Error {}
}

/// node-oidc-provider's start-up JSON (`IDFLOW_OIDC_INFO`).
struct OIDCProvider {
    let issuer: String
    let clients: [String: [String: Any]]
    let apiScopes: [String]

    static func load() throws -> OIDCProvider {
        guard let raw = ProcessInfo.processInfo.environment["IDFLOW_OIDC_INFO"], !raw.isEmpty
        else { throw ServersMissing("IDFLOW_OIDC_INFO is unset: run scripts/test-swift.sh") }
        let json = try JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any] ?? [:]
        guard let issuer = json["issuer"] as? String,
              let clients = json["clients"] as? [String: [String: Any]]
        else { throw ServersMissing("IDFLOW_OIDC_INFO has no issuer or clients: \(raw)") }
        let api = json["api"] as? [String: Any]
        return OIDCProvider(issuer: issuer, clients: clients,
                            apiScopes: api?["scopes"] as? [String] ?? [])
    }
}

/// URLSession requests from async code, with redirects followed or not.
enum HTTP {
    /// Sends `request`, following redirects.
    static func send(_ request: URLRequest) async throws -> (Data, HTTPURLResponse) {
        try await withCheckedThrowingContinuation { continuation in
            URLSession.shared.dataTask(with: request) { data, response, error in
                if let error { return continuation.resume(throwing: error) }
                guard let http = response as? HTTPURLResponse else {
                    return continuation.resume(throwing: URLError(.badServerResponse))
                }
                continuation.resume(returning: (data ?? Data(), http))
            }.resume()
        }
    }

    /// GETs `url` without following a redirect; returns the status and the `Location` header.
    static func getWithoutRedirect(_ url: URL) async throws -> (Int, String?) {
        let stopper = RedirectStopper()
        let session = URLSession(configuration: .ephemeral, delegate: stopper, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        let response: HTTPURLResponse = try await withCheckedThrowingContinuation { continuation in
            stopper.completion = { continuation.resume(with: $0) }
            session.dataTask(with: url).resume()
        }
        let location = response.allHeaderFields.first {
            ($0.key as? String)?.lowercased() == "location"
        }?.value as? String
        return (response.statusCode, location)
    }

    /// Refuses every redirect, so the task completes with the 3xx response itself.
    /// (A completion-handler task would follow redirects without asking the delegate.)
    private final class RedirectStopper: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        var completion: ((Result<HTTPURLResponse, Error>) -> Void)?

        func urlSession(_ session: URLSession, task: URLSessionTask,
                        willPerformHTTPRedirection response: HTTPURLResponse,
                        newRequest request: URLRequest,
                        completionHandler: @escaping (URLRequest?) -> Void) {
            completionHandler(nil)
        }

        func urlSession(_ session: URLSession, task: URLSessionTask,
                        didCompleteWithError error: Error?) {
            let done = completion
            completion = nil
            if let error {
                done?(.failure(error))
            } else if let http = task.response as? HTTPURLResponse {
                done?(.success(http))
            } else {
                done?(.failure(URLError(.badServerResponse)))
            }
        }
    }
}

/// Thrown when the test servers are not up: the suite must run under
/// scripts/test-swift.sh, which starts them; a missing server is a failure.
struct ServersMissing: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
