// The app's own HTTP stack under idflow: `URLSessionHttpClient` implements the generated
// `HttpClient` protocol over `URLSession` (FoundationNetworking on Linux), so an app's session
// configuration — VPN and MDM settings, ATS, its proxy dictionary, protocol classes — carries
// every request of every flow; idflow's retry and throttling run on top unchanged. Set it with
// `config.httpClient = URLSessionHttpClient()`; `config.proxies` / `proxiesFromEnvironment`
// configure idflow's own transport instead.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension AppConfig {
    /// This configuration with idflow's own transport going through `proxies` (the dictionary
    /// msal and Python's `requests` take: `["https": "http://proxy:3128", "no_proxy": "localhost"]`)
    /// and, unless `fromEnvironment` is `false`, `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY`.
    public func withProxies(_ proxies: [String: String], fromEnvironment: Bool = true) -> AppConfig {
        var copy = self
        copy.proxies = proxies
        copy.proxiesFromEnvironment = fromEnvironment
        return copy
    }

    /// This configuration with every request sent by `client` (e.g. ``URLSessionHttpClient``).
    public func withHttpClient(_ client: HttpClient) -> AppConfig {
        var copy = self
        copy.httpClient = client
        return copy
    }
}

/// The error an `HttpClient` throws when no answer came: idflow reports it as the network
/// failure of `kind` (an `NSError` in `NSURLErrorDomain` for the caller). Any other thrown error
/// is reported as a lost connection. Keep the request body out of `detail`: it holds secrets.
public func httpClientFailure(kind: NetworkKind, detail: String) -> Error {
    HttpClientError.Failed(kind: kind, detail: detail)
}

/// ``httpClientFailure(kind:detail:)`` for an error of `URLSession` (its kind from the `URLError` code).
public func httpClientFailure(_ error: Error) -> Error {
    HttpClientError.Failed(kind: URLSessionHttpClient.kind(of: error),
                           detail: "URLSession: \(error.localizedDescription)")
}

/// idflow's transport over a `URLSession`: redirects are not followed (an identity provider
/// answering a token request with a redirect is itself the failure to report), each request gets
/// idflow's timeout, and a failure is thrown with the network kind of its `URLError`.
public final class URLSessionHttpClient: HttpClient, @unchecked Sendable {
    private let session: URLSession
    private let collector = Collector()

    /// An ephemeral session with `configuration` (default `.ephemeral`): set its proxy
    /// dictionary, protocol classes or timeouts there. Redirects are never followed.
    public init(configuration: URLSessionConfiguration = .ephemeral) {
        session = URLSession(configuration: configuration, delegate: collector, delegateQueue: nil)
    }

    deinit { session.invalidateAndCancel() }

    public func send(request: HttpClientRequest) throws -> HttpClientResponse {
        guard let url = URL(string: request.url()) else {
            throw HttpClientError.Failed(kind: .connectionLost, detail: "not a URL")
        }
        var r = URLRequest(url: url)
        r.httpMethod = request.method()
        r.timeoutInterval = Double(request.timeoutMs()) / 1000
        for h in request.headers() { r.setValue(h.value, forHTTPHeaderField: h.name) }
        if request.method() == "POST" { r.httpBody = request.body() }

        // A delegate-driven task: a completion-handler task would follow redirects without
        // asking the delegate (FoundationNetworking).
        let task = session.dataTask(with: r)
        let exchange = collector.start(task)
        task.resume()
        exchange.done.wait()

        if let error = exchange.error { throw httpClientFailure(error) }
        guard let response = exchange.response else {
            throw HttpClientError.Failed(kind: .connectionLost, detail: "URLSession: no HTTP response")
        }
        var headers: [Header] = []
        for (name, value) in response.allHeaderFields {
            headers.append(Header(name: "\(name)", value: "\(value)"))
        }
        return HttpClientResponse(status: UInt16(clamping: response.statusCode), headers: headers,
                                  body: exchange.data)
    }

    /// The network kind of a `URLError` (anything else: the connection was lost).
    public static func kind(of error: Error) -> NetworkKind {
        guard let e = error as? URLError else { return .connectionLost }
        switch e.code {
        case .timedOut: return .timeout
        case .cannotFindHost, .dnsLookupFailed: return .dns
        case .cannotConnectToHost: return .connectionRefused
        case .notConnectedToInternet, .internationalRoamingOff, .dataNotAllowed: return .notConnected
        case .secureConnectionFailed, .serverCertificateHasBadDate, .serverCertificateUntrusted,
             .serverCertificateHasUnknownRoot, .serverCertificateNotYetValid,
             .clientCertificateRejected, .clientCertificateRequired:
            return .tls
        default: return .connectionLost
        }
    }

    /// One request's answer, filled by the delegate.
    private final class Exchange: @unchecked Sendable {
        let done = DispatchSemaphore(value: 0)
        var data = Data()
        var response: HTTPURLResponse?
        var error: Error?
    }

    /// Collects each task's response and body; refuses every redirect, so the task completes
    /// with the 3xx response itself.
    private final class Collector: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        private let lock = NSLock()
        private var exchanges: [Int: Exchange] = [:]

        func start(_ task: URLSessionTask) -> Exchange {
            let exchange = Exchange()
            lock.lock()
            exchanges[task.taskIdentifier] = exchange
            lock.unlock()
            return exchange
        }

        private func exchange(_ task: URLSessionTask, remove: Bool = false) -> Exchange? {
            lock.lock()
            defer { lock.unlock() }
            return remove ? exchanges.removeValue(forKey: task.taskIdentifier)
                          : exchanges[task.taskIdentifier]
        }

        func urlSession(_ session: URLSession, task: URLSessionTask,
                        willPerformHTTPRedirection response: HTTPURLResponse,
                        newRequest request: URLRequest,
                        completionHandler: @escaping (URLRequest?) -> Void) {
            completionHandler(nil)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            exchange(dataTask)?.data.append(data)
        }

        func urlSession(_ session: URLSession, task: URLSessionTask,
                        didCompleteWithError error: Error?) {
            guard let exchange = exchange(task, remove: true) else { return }
            exchange.response = task.response as? HTTPURLResponse
            exchange.error = error
            exchange.done.signal()
        }
    }
}
