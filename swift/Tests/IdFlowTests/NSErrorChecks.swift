// What an app observes when it catches an idflow failure as an NSError, checked two ways:
// against the core's own decision (`info.swift`: the Swift layer must translate it exactly)
// and against a vector's hand-written `swift` expectation.

import Foundation
import IdFlow
import XCTest

/// The `URLError` codes the seed prescribes for transport failures.
let knownURLErrorCodes: Set<Int> = [
    URLError.Code.timedOut.rawValue,               // -1001
    URLError.Code.cannotFindHost.rawValue,         // -1003
    URLError.Code.cannotConnectToHost.rawValue,    // -1004
    URLError.Code.networkConnectionLost.rawValue,  // -1005
    URLError.Code.notConnectedToInternet.rawValue, // -1009
    URLError.Code.secureConnectionFailed.rawValue, // -1200
]

/// Runs `call`, which must throw an `AuthError`, and checks every way an app observes it:
///  - `catch let e as NSError` through `AuthError.throwingNSError` (works on every platform);
///  - on Apple platforms, `catch let e as NSError` on the plain call (Foundation bridges it);
///  - the bridged `error as NSError`. On Linux, swift-corelibs-foundation bridges a
///    `CustomNSError` with its static `errorDomain` only, so there a transport failure's bridged
///    domain is `IdFlowErrorDomain` instead of `NSURLErrorDomain`; everything else must match.
/// Returns the NSError caught as such and the decision it carries, for the vector checks.
func observeThrow(_ r: CaseReporter, _ what: String, _ call: () throws -> Void)
    -> (NSError, ErrorInfo)?
{
    var info: ErrorInfo?
    do {
        try call()
        r.fail("\(what) did not throw")
        return nil
    } catch let error as AuthError {
        info = error.info
        r.equal(error.caseKind, error.info.kind, "\(what): AuthError case vs info.kind")
        let plain: Error = error
        r.equal(plain.localizedDescription, error.info.message, "\(what): localizedDescription")
        #if canImport(Darwin)
        checkTranslation(r, "\(what) bridged", error as NSError, error.info)
        #else
        checkTranslation(r, "\(what) bridged", error as NSError, error.info,
                         staticDomainOnly: true)
        #endif
    } catch {
        r.fail("\(what) threw \(type(of: error)), not AuthError: \(error)")
        return nil
    }
    guard let info else { return nil }

    #if canImport(Darwin)
    do {
        try call()
    } catch let caught as NSError {
        checkTranslation(r, "\(what) caught as NSError", caught, info)
    }
    #endif

    do {
        try AuthError.throwingNSError(call)
        r.fail("\(what) via throwingNSError did not throw")
        return nil
    } catch let caught as NSError {
        checkTranslation(r, "\(what) via throwingNSError", caught, info)
        return (caught, info)
    } catch {
        r.fail("\(what) via throwingNSError threw a non-NSError: \(error)")
        return nil
    }
}

/// The NSError must be exactly `info.swift`: domain, code, and every userInfo entry as the
/// right Foundation type, nothing more; and its codes must be named by the public enums.
/// `staticDomainOnly`: the bridge could only use `AuthError.errorDomain` (see `observeThrow`).
func checkTranslation(_ r: CaseReporter, _ what: String, _ ns: NSError, _ info: ErrorInfo,
                      staticDomainOnly: Bool = false) {
    let swift = info.swift
    if staticDomainOnly {
        r.equal(ns.domain, AuthError.errorDomain, "\(what): domain")
    } else {
        r.equal(ns.domain, swift.domain, "\(what): domain")
    }
    r.equal(Int64(ns.code), swift.code, "\(what): code")
    r.equal(Set(ns.userInfo.keys), Set(swift.userInfo.map(\.key)), "\(what): userInfo keys")
    for entry in swift.userInfo {
        let actual = ns.userInfo[entry.key]
        r.expect(matches(actual, entry.value),
                 "\(what): userInfo[\(entry.key)] is \(describe(actual)), core says \(entry.value)")
    }
    r.equal(ns.userInfo[NSLocalizedDescriptionKey] as? String, info.message,
            "\(what): NSLocalizedDescriptionKey")
    r.equal(ns.localizedDescription, info.message, "\(what): localizedDescription")
    let internalCode = ns.userInfo[IdFlowInternalErrorCodeKey] as? Int
    r.equal(internalCode.map(Int64.init), swift.internalCode, "\(what): internal code")

    switch swift.domain {
    case IdFlowErrorDomain:
        r.expect(IdFlowErrorCode(rawValue: ns.code) != nil,
                 "\(what): code \(ns.code) is not an IdFlowErrorCode case")
    case NSURLErrorDomain:
        r.expect(knownURLErrorCodes.contains(ns.code),
                 "\(what): code \(ns.code) is not a transport URLError code")
    default:
        r.fail("\(what): unexpected domain \(swift.domain)")
    }
    if let internalCode {
        r.expect(IdFlowInternalErrorCode(rawValue: internalCode) != nil,
                 "\(what): internal code \(internalCode) is not an IdFlowInternalErrorCode case")
    }
}

/// A vector's `swift` block: domain, code, internal_code, the `user_info` subset and the
/// `user_info_absent` keys.
func checkSwiftExpectation(_ r: CaseReporter, _ ns: NSError, _ expect: JSONValue) {
    if let domain = expect["domain"]?.string { r.equal(ns.domain, domain, "NSError.domain") }
    if let code = expect["code"]?.int { r.equal(ns.code, code, "NSError.code") }
    if let internalCode = expect["internal_code"] {
        let actual = ns.userInfo[IdFlowInternalErrorCodeKey]
        r.expect(matches(actual, internalCode),
                 "userInfo[\(IdFlowInternalErrorCodeKey)] is \(describe(actual)), expected \(internalCode)")
    }
    for (key, value) in expect["user_info"]?.object ?? [:] {
        let actual = ns.userInfo[key]
        r.expect(matches(actual, value),
                 "userInfo[\(key)] is \(describe(actual)), expected \(value)")
    }
    for key in expect["user_info_absent"]?.array ?? [] {
        guard let key = key.string else { r.fail("user_info_absent holds \(key)"); continue }
        r.expect(ns.userInfo[key] == nil,
                 "userInfo[\(key)] should be absent, is \(describe(ns.userInfo[key]))")
    }
}

/// A userInfo value against the core's typed value (strict Foundation types: a Bool is not an
/// Int, "400" is not 400).
func matches(_ actual: Any?, _ expected: UserInfoValue) -> Bool {
    guard let actual else { return false }
    switch expected {
    case let .text(value): return actual as? String == value
    case let .int(value): return !(actual is Bool) && actual as? Int == Int(value)
    case let .bool(value): return actual as? Bool == value
    case let .ints(values): return actual as? [Int] == values.map { Int($0) }
    case let .texts(values): return actual as? [String] == values
    case let .map(entries): return actual as? [String: String] == entries
    }
}

/// A userInfo value against a vector's JSON (`null` means the key must be absent).
func matches(_ actual: Any?, _ expected: JSONValue) -> Bool {
    switch expected {
    case .null: return actual == nil
    case let .string(s): return actual as? String == s
    case let .bool(b): return actual as? Bool == b
    case let .int(i): return actual.map { !($0 is Bool) } == true && actual as? Int == i
    case .double: return false
    case let .array(items):
        if items.isEmpty { return (actual as? [Any])?.isEmpty == true }
        let ints = items.compactMap(\.int)
        if ints.count == items.count { return actual as? [Int] == ints }
        let strings = items.compactMap(\.string)
        if strings.count == items.count { return actual as? [String] == strings }
        return false
    case let .object(fields):
        let strings = fields.compactMapValues(\.string)
        guard strings.count == fields.count else { return false }
        return actual as? [String: String] == strings
    }
}

func describe(_ value: Any?) -> String {
    guard let value else { return "absent" }
    return "\(value) (\(type(of: value)))"
}
