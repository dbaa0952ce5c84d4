// The NSError idiom: `catch let error as NSError` sees an idflow failure the way an MSAL app
// sees an MSAL failure. Every value comes from `ErrorInfo.swift`, the core's decision; this
// file only turns its `UserInfoValue`s into Foundation values.

import Foundation

extension AuthError {
    /// The whole decision: kind, code, recommended action, mitigation, server fields, and
    /// `swift`, the exact `NSError` this error becomes.
    public var info: ErrorInfo {
        switch self {
        case let .Client(info, _), let .Service(info, _), let .InteractionRequired(info, _),
             let .Network(info, _), let .Throttled(info, _), let .Cancelled(info, _):
            return info
        }
    }

    /// Runs `body` and rethrows any `AuthError` as its `NSError`.
    ///
    /// On Apple platforms `catch let error as NSError` already catches every `AuthError`
    /// (through `CustomNSError`), so you do not need this there. On Linux there is no
    /// Objective-C bridging: a Swift error never matches `catch let error as NSError`, only a real
    /// `NSError` does. Wrap the call in this to catch idflow failures the same way on every
    /// platform. Other errors pass through unchanged.
    public static func throwingNSError<T>(_ body: () throws -> T) rethrows -> T {
        do {
            return try body()
        } catch let error as AuthError {
            throw error.info.nsError
        }
    }
}

extension AuthError: CustomNSError {
    /// `IdFlowErrorDomain`: the domain of every failure but transport failures (see `_domain`).
    public static var errorDomain: String { IdFlowErrorDomain }

    /// The per-value domain (`NSURLErrorDomain` for transport failures). `CustomNSError` has
    /// only a static domain; Apple's Foundation bridges through `_domain`, so this gives the
    /// right domain there. swift-corelibs-foundation (Linux) uses the static `errorDomain` when
    /// it bridges; catch through ``throwingNSError(_:)`` or use `info.nsError` there.
    public var _domain: String { info.swift.domain }

    /// MSAL's `MSALError` value (``IdFlowErrorCode``), or the `URLError` code in `NSURLErrorDomain`.
    public var errorCode: Int { Int(clamping: info.swift.code) }

    /// Every userInfo entry the core decided, as Foundation values; includes
    /// `NSLocalizedDescriptionKey` (the error's message).
    public var errorUserInfo: [String: Any] { info.swift.foundationUserInfo }
}

extension AuthError: LocalizedError {
    /// The core's message: safe to log, never holds secrets. Do not branch on it.
    public var errorDescription: String? { info.message }

    /// What to do about it, in a paragraph (the core's mitigation text).
    public var recoverySuggestion: String? { info.mitigation }
}

extension ErrorInfo {
    /// This decision as the `NSError` an app catches (the same one `AuthError` bridges to).
    /// Use it for an `ErrorInfo` you hold without a throw, e.g. from `classifyResponse`.
    public var nsError: NSError {
        NSError(domain: swift.domain, code: Int(clamping: swift.code),
                userInfo: swift.foundationUserInfo)
    }
}

extension SwiftInfo {
    /// `userInfo` for `NSError(domain: domain, code: code, userInfo:)`.
    public var foundationUserInfo: [String: Any] {
        var result: [String: Any] = [:]
        for entry in userInfo {
            result[entry.key] = entry.value.foundationValue
        }
        return result
    }
}

extension UserInfoValue {
    /// The Foundation value an `NSError` userInfo holds: `String`, `Int`, `Bool`, `[Int]`,
    /// `[String]` or `[String: String]`.
    public var foundationValue: Any {
        switch self {
        case let .text(value): return value
        case let .int(value): return Int(clamping: value)
        case let .bool(value): return value
        case let .ints(values): return values.map { Int(clamping: $0) }
        case let .texts(values): return values
        case let .map(entries): return entries
        }
    }
}
