// Sign in with idflow and handle every kind of failure the way the MSAL error guide recommends
// for iOS and macOS apps: branch on the NSError's domain and code.
//
//   swift run SignIn client-credentials   # an app-only token
//   swift run SignIn device-code          # a user signs in on another device
//
// Configuration from the environment: IDFLOW_AUTHORITY, IDFLOW_CLIENT_ID, IDFLOW_CLIENT_SECRET
// (client credentials), IDFLOW_SCOPE, IDFLOW_SIGNIN_TIMEOUT.

import Foundation
import IdFlow

func env(_ name: String) -> String {
    guard let value = ProcessInfo.processInfo.environment[name] else {
        FileHandle.standardError.write("set \(name)\n".data(using: .utf8)!)
        exit(2)
    }
    return value
}

func signedIn(_ token: TokenResult) {
    let expiresIn = token.expiresOn - Int64(Date().timeIntervalSince1970)
    let source = token.tokenSource == .cache ? "cache" : "identity_provider"
    print("signed in: token from \(source), expires in \(expiresIn) s")
}

/// What the app does for each failure; returns the claims to sign in again with, if it should.
func handle(_ error: NSError) -> String? {
    let info = error.userInfo
    let code = info[IdFlowOAuthErrorKey] as? String ?? "\(error.code)"
    if error.domain == NSURLErrorDomain {
        // No answer: tell the user they are offline, keep their work, retry later.
        print("network error \(code): check the connection, retry later")
        return nil
    }
    switch IdFlowErrorCode(rawValue: error.code) {
    case .interactionRequired, .serverInvalidRequestResetPasswordRequired:
        // Only the user can fix this: sign in interactively, passing the claims challenge.
        let claims = info[IdFlowClaimsKey] as? String
        let reason = info[IdFlowClassificationKey] as? String ?? "none"
        print("interaction required (\(reason), \(code)): signing in interactively"
              + (claims != nil ? " with the claims" : ""))
        return claims ?? ""
    case .userCanceled:
        print("cancelled (\(code)): stopping quietly")
    default:
        let retryAfter = (info[IdFlowRetryAfterKey] as? NSNumber)?.intValue
        let mitigation = info[IdFlowMitigationKey] as? String ?? ""
        switch info[IdFlowErrorKindKey] as? String {
        case "throttled":
            print("throttled: blocked locally, wait \(retryAfter ?? 0) s")
        case "service" where retryAfter != nil:
            print("service error \(code): retry after \(retryAfter!) s")
        case "service" where (info[IdFlowIsRetryableKey] as? Bool) == true:
            print("service error \(code): retry later")
        case "service":
            print("service error \(code): fix the configuration: \(mitigation)")
        default:
            print("client error \(code): fix the call: \(mitigation)")
        }
    }
    return nil
}

/// A device-code sign-in that gives up after IDFLOW_SIGNIN_TIMEOUT seconds.
func deviceCode(_ app: PublicClientApplication, _ scopes: [String], claims: String?) async throws -> TokenResult {
    let flow = try await app.initiateDeviceFlow(scopes: scopes, claims: claims)
    FileHandle.standardError.write((flow.message() + "\n").data(using: .utf8)!)
    let cancel = CancelHandle()
    let seconds = UInt64(ProcessInfo.processInfo.environment["IDFLOW_SIGNIN_TIMEOUT"] ?? "300") ?? 300
    let timer = Task {
        try? await Task.sleep(nanoseconds: seconds * 1_000_000_000)
        cancel.cancel()
    }
    defer { timer.cancel() }
    return try await app.acquireTokenByDeviceFlow(flow: flow, cancel: cancel)
}

func run(_ mode: String) async -> Bool {
    do {
        if mode == "client-credentials" {
            // `throwingNSError` makes `catch let error as NSError` match on Linux too.
            let app = try AuthError.throwingNSError {
                try ConfidentialClientApplication(
                    clientId: env("IDFLOW_CLIENT_ID"), authority: env("IDFLOW_AUTHORITY"),
                    credential: .secret(secret: env("IDFLOW_CLIENT_SECRET")))
            }
            let scope = ProcessInfo.processInfo.environment["IDFLOW_SCOPE"] ?? "https://graph.microsoft.com/.default"
            signedIn(try await app.throwingNSError { try await $0.acquireTokenForClient(scopes: [scope], claims: nil) })
            return true
        }
        let app = try AuthError.throwingNSError {
            try PublicClientApplication(clientId: env("IDFLOW_CLIENT_ID"), authority: env("IDFLOW_AUTHORITY"))
        }
        let scopes = [ProcessInfo.processInfo.environment["IDFLOW_SCOPE"] ?? "User.Read"]
        do {
            signedIn(try await app.throwingNSError { try await deviceCode($0, scopes, claims: nil) })
            return true
        } catch let error as NSError {
            guard let claims = handle(error) else { return false }
            // The interactive sign-in, once (device code is this console app's interactive flow).
            signedIn(try await app.throwingNSError {
                try await deviceCode($0, scopes, claims: claims.isEmpty ? nil : claims)
            })
            return true
        }
    } catch let error as NSError {
        _ = handle(error)
        return false
    }
}

let args = CommandLine.arguments.dropFirst()
guard let mode = args.first, args.count == 1, ["client-credentials", "device-code"].contains(mode) else {
    FileHandle.standardError.write("usage: SignIn client-credentials|device-code\n".data(using: .utf8)!)
    exit(2)
}
exit(await run(mode) ? 0 : 1)
