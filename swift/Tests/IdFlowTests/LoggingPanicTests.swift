// No panic crosses into Swift from an async call, and idflow's log lines reach a closure without
// a secret, with personal data only when switched on. One test owns the process-wide logger.

import Foundation
import IdFlow
import XCTest

final class LoggingPanicTests: XCTestCase {
    private let userRead = ["User.Read"]
    private let graphDefault = ["https://graph.microsoft.com/.default"]

    func testAnAsyncPanicIsAClassifiedInternalError() async {
        let seen = await expectNSError("selfTestPanicAsync") { try await selfTestPanicAsync() }
        guard let (ns, info) = seen else { return }
        XCTAssertEqual(info.code, "internal_error")
        XCTAssertEqual(ns.domain, IdFlowErrorDomain)
        XCTAssertEqual(ns.code, IdFlowErrorCode.internal.rawValue)
    }

    private final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [(LogLevel, String, Bool)] = []
        func add(_ l: LogLevel, _ m: String, _ p: Bool) { lock.lock(); items.append((l, m, p)); lock.unlock() }
        func all() -> [(LogLevel, String, Bool)] { lock.lock(); defer { lock.unlock() }; return items }
        func clear() { lock.lock(); items.removeAll(); lock.unlock() }
    }

    /// Client credentials and ROPC, a success and a failure each; every secret involved.
    private func runFlows() async throws -> [String] {
        try await Emulator.admin("reset")
        let authority = try Emulator.authority(Emulator.tenant)
        let cca = try ConfidentialClientApplication(
            clientId: Emulator.confidentialClient, authority: authority,
            credential: .secret(secret: Emulator.secret), timeout: 20)
        let pca = try PublicClientApplication(clientId: Emulator.publicClient, authority: authority, timeout: 20)
        let app = try await cca.acquireTokenForClient(scopes: graphDefault, claims: nil)
        let user = try await pca.acquireTokenByUsernamePassword(
            username: Emulator.username, password: Emulator.password, scopes: userRead, claims: nil)
        let wrongSecret = "WRONG-SECRET-5e6f", wrongPassword = "WRONG-PASSWORD-7a8b"
        let bad = try ConfidentialClientApplication(
            clientId: Emulator.confidentialClient, authority: authority,
            credential: .secret(secret: wrongSecret), timeout: 20)
        do {
            _ = try await bad.acquireTokenForClient(scopes: graphDefault, claims: nil)
            XCTFail("a wrong secret was accepted")
        } catch let e as AuthError {
            XCTAssertEqual(e.info.code, "invalid_client")
        }
        do {
            _ = try await pca.acquireTokenByUsernamePassword(
                username: Emulator.username, password: wrongPassword, scopes: userRead, claims: nil)
            XCTFail("a wrong password was accepted")
        } catch is AuthError {}
        return [Emulator.secret, Emulator.password, wrongSecret, wrongPassword, app.accessToken,
                user.accessToken] + [user.refreshToken, user.idToken].compactMap { $0 }
    }

    func testLogLinesReachTheClosureWithoutSecretsAndPiiOnlyWhenOn() async throws {
        let lines = Lines()
        defer {
            IdFlowLogging.piiLoggingEnabled = false
            try? IdFlowLogging.setLogger(level: .error, nil)
        }
        IdFlowLogging.piiLoggingEnabled = false
        try IdFlowLogging.setLogger(level: .trace) { lines.add($0, $1, $2) }
        var secrets = try await runFlows()
        var all = lines.all()
        var text = all.map { "\($0.0) \($0.1)" }.joined(separator: "\n")
        XCTAssertTrue(all.contains { $0.0 == .debug && $0.1.hasPrefix("request sent") }, text)
        XCTAssertTrue(all.contains { $0.0 == .warning && $0.1.contains("code=invalid_client") }, text)
        XCTAssertFalse(all.contains { $0.2 }, text)
        for value in secrets + [Emulator.username, Emulator.tenant] {
            XCTAssertFalse(text.contains(value), "\(value.prefix(6))... leaked")
        }

        lines.clear()
        IdFlowLogging.piiLoggingEnabled = true
        XCTAssertTrue(IdFlowLogging.piiLoggingEnabled)
        secrets = try await runFlows()
        all = lines.all()
        text = all.map { "\($0.0) \($0.1)" }.joined(separator: "\n")
        XCTAssertTrue(all.contains { $0.2 && $0.1.contains(Emulator.username) }, text)
        for value in secrets {
            XCTAssertFalse(text.contains(value), "\(value.prefix(6))... leaked with PII on")
        }

        lines.clear()
        try IdFlowLogging.setLogger(level: .error) { lines.add($0, $1, $2) }
        _ = try await runFlows()
        XCTAssertTrue(lines.all().allSatisfy { $0.0 == .error }, "\(lines.all())")
    }
}
