// Started flows as JSON (msal Python's keys), completed by another application instance, as a
// web app's other worker or a job queue's consumer would.

import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import IdFlow
import XCTest

final class WebFlowTests: XCTestCase {
    private let userRead = ["User.Read"]

    func testAuthCodeFlowJsonIsRedeemedOnceByAnotherInstance() async throws {
        let json = try await publicApp().initiateAuthCodeFlow(
            scopes: userRead, redirectUri: "http://localhost/callback",
            options: AuthorizeOptions(state: "return-to-inbox-7f3a", maxAge: 3600)
        ).toJson()
        let data = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        for key in ["state", "redirect_uri", "scope", "auth_uri", "code_verifier", "nonce",
                    "claims_challenge", "max_age"] {
            XCTAssertNotNil(data[key], "\(key) in the flow's JSON")
        }
        XCTAssertEqual(data["state"] as? String, "return-to-inbox-7f3a")

        let flow = try AuthCodeFlow.fromJson(json: json)
        let (status, location) = try await HTTP.getWithoutRedirect(try XCTUnwrap(URL(string: flow.authUri())))
        XCTAssertTrue((300..<400).contains(status), "authorize answered \(status)")
        let redirect = try XCTUnwrap(location)

        let worker = try publicApp()
        let token = try await worker.acquireTokenByAuthCodeFlow(flow: flow, redirect: redirect)
        XCTAssertEqual(token.account?.username, Emulator.username)

        let replay = await expectNSError("a replayed redirect") {
            _ = try await worker.acquireTokenByAuthCodeFlow(flow: flow, redirect: redirect)
        }
        if let (ns, info) = replay {
            XCTAssertEqual(info.code, "state_mismatch")
            XCTAssertEqual(ns.domain, IdFlowErrorDomain)
        }
    }

    func testMalformedJsonIsAnInvalidParameter() throws {
        XCTAssertThrowsError(try AuthCodeFlow.fromJson(json: "{\"state\":\"s\"}")) { error in
            XCTAssertEqual((error as? AuthError)?.info.code, "invalid_parameter")
        }
        XCTAssertThrowsError(try DeviceCodeFlow.fromJson(json: "[]"))
    }

    func testDeviceFlowJsonIsPolledByAnotherInstance() async throws {
        let flow = try await publicApp().initiateDeviceFlow(scopes: userRead, claims: nil)
        let json = flow.toJson()
        XCTAssertTrue(json.contains("\"device_code\""))
        try await Emulator.admin("device_codes/approve", ["user_code": flow.userCode()])
        let token = try await publicApp().acquireTokenByDeviceFlow(flow: try DeviceCodeFlow.fromJson(json: json))
        XCTAssertEqual(token.account?.username, Emulator.username)
    }

    private func publicApp() throws -> PublicClientApplication {
        try PublicClientApplication(clientId: Emulator.publicClient,
                                    authority: try Emulator.authority("organizations"), timeout: 20)
    }
}
