// Certificate forms and per-request assertions against the emulator: a PEM key
// with its certificate, a closure, a federated token file, and the NSError a
// mismatched key gives.

import Foundation
import IdFlow
import XCTest

final class CredentialTests: XCTestCase {
    private let graphDefault = ["https://graph.microsoft.com/.default"]

    private func lastAssertionHeader() async throws -> [String: Any] {
        let log = try await Emulator.admin("requests", method: "GET") as? [[String: Any]] ?? []
        let token = log.last { ($0["endpoint"] as? String) == "token" }
        return token?["client_assertion_header"] as? [String: Any] ?? [:]
    }

    func testPrivateKeyWithCertificateSignsPs256() async throws {
        try await Emulator.admin("reset")
        let cert = try await Emulator.admin("clients/\(Emulator.confidentialClient)/certificate") as? [String: Any]
        let keyPem = cert?["private_key_pem"] as? String ?? ""
        let certPem = cert?["certificate_pem"] as? String ?? ""
        let app = try ConfidentialClientApplication(
            clientId: Emulator.confidentialClient, authority: try Emulator.authority(Emulator.tenant),
            credential: .privateKey(keyPem, certificatePem: certPem, sendX5c: true))
        _ = try await app.acquireTokenForClient(scopes: graphDefault, claims: nil)
        let header = try await lastAssertionHeader()
        XCTAssertEqual(header["alg"] as? String, "PS256")
        XCTAssertNotNil(header["x5t#S256"])
        XCTAssertEqual((header["x5c"] as? [Any])?.count, 1)

        let thumbprint = cert?["thumbprint_hex"] as? String ?? ""
        let byThumbprint = try ConfidentialClientApplication(
            clientId: Emulator.confidentialClient, authority: try Emulator.authority(Emulator.tenant),
            credential: .privateKey(keyPem, sha1Thumbprint: thumbprint))
        _ = try await byThumbprint.acquireTokenForClient(scopes: ["api://\(Emulator.confidentialClient)/.default"],
                                                         claims: nil)
        let rs256 = try await lastAssertionHeader()
        XCTAssertEqual(rs256["alg"] as? String, "RS256")
        XCTAssertEqual(rs256["x5t"] as? String, cert?["x5t"] as? String)
    }

    func testMismatchedKeyThrowsAClientError() async throws {
        try await Emulator.admin("reset")
        let one = try await Emulator.admin("clients/\(Emulator.confidentialClient)/certificate") as? [String: Any]
        let two = try await Emulator.admin("clients/\(Emulator.confidentialClient)/certificate") as? [String: Any]
        XCTAssertThrowsError(try ConfidentialClientApplication(
            clientId: Emulator.confidentialClient, authority: try Emulator.authority(Emulator.tenant),
            credential: .privateKey(two?["private_key_pem"] as? String ?? "",
                                    certificatePem: one?["certificate_pem"] as? String ?? ""))) { error in
            XCTAssertTrue("\(error)".contains("certificate_key_mismatch"), "\(error)")
        }
    }

    func testClosureAndFederatedTokenFile() async throws {
        try await Emulator.admin("reset")
        let subject = "system:serviceaccount:default:swift"
        let minted = try await Emulator.admin("federated-token", ["subject": subject]) as? [String: Any]
        let issuer = minted?["issuer"] as? String ?? ""
        let client = "5a1b2c3d-0000-4000-8000-0000000051f7"
        try await Emulator.admin("clients", [
            "client_id": client, "confidential": true,
            "federated_credentials": [["issuer": issuer, "subject": subject]],
        ])
        let token = minted?["token"] as? String ?? ""
        let calls = Counter()
        let app = try ConfidentialClientApplication(
            clientId: client, authority: try Emulator.authority(Emulator.tenant),
            credential: .assertion { clientId, endpoint in
                calls.add()
                XCTAssertEqual(clientId, client)
                XCTAssertTrue(endpoint.hasSuffix("/oauth2/v2.0/token"), endpoint)
                return token
            })
        _ = try await app.acquireTokenForClient(scopes: graphDefault, claims: nil)
        _ = try await app.acquireTokenForClient(scopes: ["api://\(client)/.default"], claims: nil)
        XCTAssertEqual(calls.value, 2, "asked before each request")

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("swift-federated-\(UUID())")
        try token.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let fromFile = try ConfidentialClientApplication(
            clientId: client, authority: try Emulator.authority(Emulator.tenant),
            credential: .federatedTokenFile(file.path))
        let result = try await fromFile.acquireTokenForClient(scopes: graphDefault, claims: nil)
        XCTAssertFalse(result.accessToken.isEmpty)
    }
}

/// A thread-safe call counter (the closure runs on the core's threads).
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
