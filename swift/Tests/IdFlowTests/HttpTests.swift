// The app's own HTTP stack (URLSession) carrying every flow, a throwing client becoming the
// network NSError, and `proxies` through a real forward proxy (tinyproxy, started by
// scripts/with-servers.sh, whose log counts what it forwards).

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import IdFlow
import XCTest

final class HttpTests: XCTestCase {
    private let graphDefault = ["https://graph.microsoft.com/.default"]
    private let userRead = ["User.Read"]

    /// Counts the requests it passes on to the wrapped client.
    private final class Counting: HttpClient, @unchecked Sendable {
        let inner: HttpClient
        private let lock = NSLock()
        private var n = 0
        var calls: Int { lock.lock(); defer { lock.unlock() }; return n }
        init(_ inner: HttpClient) { self.inner = inner }
        func send(request: HttpClientRequest) throws -> HttpClientResponse {
            lock.lock(); n += 1; lock.unlock()
            return try inner.send(request: request)
        }
    }

    private final class Failing: HttpClient, @unchecked Sendable {
        func send(request: HttpClientRequest) throws -> HttpClientResponse {
            throw httpClientFailure(URLError(.timedOut))
        }
    }

    override func setUp() async throws {
        try await Emulator.admin("reset")
        try await Emulator.admin("settings", ["device_code_interval_secs": 0], method: "PATCH")
        try await Emulator.admin("requests", method: "DELETE")
    }

    /// Requests the app sent (the emulator's log).
    private func served() async throws -> Int {
        (try await Emulator.admin("requests", method: "GET") as? [[String: Any]] ?? []).count
    }

    private func everyFlow(_ configure: (AppConfig) -> AppConfig) async throws {
        let cca = try ConfidentialClientApplication(
            swiftConfig: configure(.swift(clientId: Emulator.confidentialClient,
                                          authority: try Emulator.authority(Emulator.tenant), timeout: 20)),
            credential: .secret(secret: Emulator.secret))
        let app = try await cca.acquireTokenForClient(scopes: graphDefault, claims: nil)
        XCTAssertFalse(app.accessToken.isEmpty)
        let pca = try PublicClientApplication(
            swiftConfig: configure(.swift(clientId: Emulator.publicClient,
                                          authority: try Emulator.authority("organizations"), timeout: 20)))
        let ropc = try await pca.acquireTokenByUsernamePassword(
            username: Emulator.username, password: Emulator.password, scopes: userRead, claims: nil)
        let refreshed = try await pca.acquireTokenByRefreshToken(
            refreshToken: ropc.refreshToken ?? "", scopes: userRead, claims: nil)
        XCTAssertFalse(refreshed.accessToken.isEmpty)
        let flow = try await pca.initiateDeviceFlow(scopes: userRead, claims: nil)
        try await Emulator.admin("device_codes/approve", ["user_code": flow.userCode()])
        let device = try await pca.acquireTokenByDeviceFlow(flow: flow)
        XCTAssertFalse(device.accessToken.isEmpty)
    }

    func testURLSessionClientCarriesEveryFlow() async throws {
        let client = Counting(URLSessionHttpClient())
        try await everyFlow { $0.withHttpClient(client) }
        let served = try await served()
        XCTAssertGreaterThanOrEqual(served, 6)
        XCTAssertEqual(client.calls, served)
    }

    func testThrowingClientIsTheNetworkNSError() async throws {
        let config = AppConfig.swift(clientId: Emulator.confidentialClient,
                                     authority: try Emulator.authority(Emulator.tenant))
            .withHttpClient(Failing())
        let app = try ConfidentialClientApplication(swiftConfig: config,
                                                    credential: .secret(secret: Emulator.secret))
        do {
            _ = try await app.throwingNSError { try await $0.acquireTokenForClient(scopes: self.graphDefault, claims: nil) }
            XCTFail("a failing client gave a token")
        } catch let error as NSError where error.domain == NSURLErrorDomain {
            XCTAssertEqual(error.code, URLError.Code.timedOut.rawValue, "\(error)")
            XCTAssertFalse("\(error)".contains(Emulator.secret))
        } catch {
            XCTFail("expected an NSURLErrorDomain NSError, got \(type(of: error)): \(error)")
        }
    }

    /// Every flow succeeds through the real proxy; a proxy that refuses connections fails them
    /// all (so they did go to it), unless `no_proxy` names the host. (The proxy's log, which the
    /// Python and Kotlin suites count, is outside the Swift chroot.)
    func testProxiesSendEveryFlowThroughTheProxy() async throws {
        guard let text = ProcessInfo.processInfo.environment["IDFLOW_PROXY_INFO"],
              let info = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String],
              let url = info["url"]
        else { throw ServersMissing("IDFLOW_PROXY_INFO is unset: run scripts/test-swift.sh") }
        try await everyFlow { $0.withProxies(["http": url]) }
        let throughProxy = try await served()
        XCTAssertGreaterThanOrEqual(throughProxy, 6)

        let refusing = "http://127.0.0.1:1"
        let config = AppConfig.swift(clientId: Emulator.confidentialClient,
                                     authority: try Emulator.authority(Emulator.tenant))
        let app = try ConfidentialClientApplication(
            swiftConfig: config.withProxies(["http": refusing], fromEnvironment: false),
            credential: .secret(secret: Emulator.secret))
        try await Emulator.admin("requests", method: "DELETE")
        do {
            _ = try await app.throwingNSError { try await $0.acquireTokenForClient(scopes: self.graphDefault, claims: nil) }
            XCTFail("a refusing proxy gave a token")
        } catch let error as NSError where error.domain == NSURLErrorDomain {
            XCTAssertEqual(error.code, URLError.Code.cannotConnectToHost.rawValue, "\(error)")
        }
        let reached = try await served()
        XCTAssertEqual(reached, 0, "nothing reached the emulator")
        try await everyFlow { $0.withProxies(["http": refusing, "no_proxy": "127.0.0.1"]) }
    }
}
