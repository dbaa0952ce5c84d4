// ManagedIdentityClient against the emulator's endpoint of every managed identity source: a
// token, then the cache; the source's refusal, a local refusal and an unreachable endpoint as
// the NSError an app catches.

import Foundation
import IdFlow
import XCTest

// Azure Arc's challenge names a key file the emulator writes under the host's /tmp, which
// scripts/test-swift.sh mounts at the same path in the Swift chroot.
final class ManagedIdentityTests: XCTestCase {
    static let resource = "https://management.azure.com"
    static let sources: [(String, ManagedIdentitySource)] = [
        ("imds", .imds), ("app_service", .appService), ("service_fabric", .serviceFabric),
        ("azure_arc", .azureArc), ("cloud_shell", .cloudShell), ("machine_learning", .machineLearning),
    ]

    private func info() async throws -> [String: Any] {
        try await Emulator.admin("reset")
        return try await Emulator.admin("managed_identity", method: "GET") as? [String: Any] ?? [:]
    }

    private func env(_ info: [String: Any], _ source: String) -> [String: String] {
        let vars = (info["sources"] as? [String: Any])?[source] as? [String: Any] ?? [:]
        var out: [String: String] = [:]
        for (k, v) in vars { out[k] = "\(v)" }
        XCTAssertFalse(out.isEmpty, "no variables for \(source)")
        return out
    }

    private func client(_ info: [String: Any], _ source: String,
                        _ id: ManagedIdentityId = .systemAssigned,
                        env override: [String: String]? = nil) throws -> ManagedIdentityClient {
        try ManagedIdentityClient(swiftIdentity: id, environment: override ?? env(info, source),
                                  arcKeyDirectory: info["arc_key_directory"].map { "\($0)" })
    }

    func testEverySourceIssuesATokenThenAnswersFromTheCache() async throws {
        let info = try await info()
        for (name, source) in Self.sources {
            let c = try client(info, name)
            XCTAssertEqual(c.source(), source, name)
            let first: ManagedIdentityTokenResult
            do {
                first = try await c.acquireToken(resource: Self.resource)
            } catch let ns as NSError {
                XCTFail("\(name): \(ns.userInfo)")
                continue
            }
            XCTAssertFalse(first.fromCache, name)
            XCTAssertEqual(first.resource, Self.resource, name)
            XCTAssertNotNil(first.refreshOn, name)
            let again = try await c.acquireToken(resource: Self.resource)
            XCTAssertTrue(again.fromCache, name)
        }
    }

    func testUserAssignedAndTheRefusals() async throws {
        let info = try await info()
        let user = (info["user_assigned"] as? [String: Any] ?? [:]).mapValues { "\($0)" }
        for name in ["imds", "app_service", "machine_learning"] {
            for id: ManagedIdentityId in [.clientId(id: user["client_id"] ?? ""),
                                          .resourceId(id: user["resource_id"] ?? ""),
                                          .objectId(id: user["object_id"] ?? "")] {
                let r = try await client(info, name, id).acquireToken(resource: Self.resource)
                XCTAssertFalse(r.fromCache, "\(name) \(id)")
            }
        }
        // Cloud Shell has no user-assigned identity: refused locally, a configuration error.
        do {
            _ = try await client(info, "cloud_shell", .clientId(id: "c")).acquireToken(resource: Self.resource)
            XCTFail("Cloud Shell served a user-assigned identity")
        } catch let ns as NSError {
            XCTAssertEqual(ns.domain, IdFlowErrorDomain)
            XCTAssertEqual(ns.code, -50000)
            XCTAssertEqual(ns.userInfo[IdFlowInternalErrorCodeKey] as? Int, -42000)
        }
        // The source's refusal: a server error with the status.
        for (name, _) in Self.sources {
            do {
                _ = try await client(info, name).acquireToken(resource: "not a resource")
                XCTFail("\(name) accepted a bad resource")
            } catch let ns as NSError {
                XCTAssertEqual(ns.domain, IdFlowErrorDomain, name)
                XCTAssertNotEqual(ns.code, 0, name)
            }
        }
        // Nothing listens: NSURLErrorDomain.
        let base = try Emulator.base()
        let port = String(base.split(separator: ":").last ?? "")
        var vars = env(info, "imds")
        vars = vars.mapValues { $0.replacingOccurrences(of: ":\(port)", with: ":9") }
        do {
            _ = try await client(info, "imds", env: vars).acquireToken(resource: Self.resource)
            XCTFail("an unreachable endpoint answered")
        } catch let ns as NSError {
            XCTAssertEqual(ns.domain, NSURLErrorDomain)
            XCTAssertEqual(ns.code, NSURLErrorCannotConnectToHost)
        }
    }
}
