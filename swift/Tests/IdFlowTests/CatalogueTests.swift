// The Swift layer against the core's catalogue: every code and key the core can emit has a
// Swift name, every Swift name still means something in the core, and every idflow-defined code
// becomes the NSError the catalogue fixes. Fails when either side changes alone.

import Foundation
import IdFlow
import XCTest

final class CatalogueTests: XCTestCase {
    private let catalogue = mappingCatalogue()

    /// Each public userInfo constant with its own name (names must equal values, as MSAL's do).
    private let userInfoConstants: [(name: String, value: String)] = [
        ("IdFlowOAuthErrorKey", IdFlowOAuthErrorKey),
        ("IdFlowOAuthSubErrorKey", IdFlowOAuthSubErrorKey),
        ("IdFlowErrorDescriptionKey", IdFlowErrorDescriptionKey),
        ("IdFlowSTSErrorCodesKey", IdFlowSTSErrorCodesKey),
        ("IdFlowInternalErrorCodeKey", IdFlowInternalErrorCodeKey),
        ("IdFlowHTTPHeadersKey", IdFlowHTTPHeadersKey),
        ("IdFlowHTTPResponseCodeKey", IdFlowHTTPResponseCodeKey),
        ("IdFlowCorrelationIDKey", IdFlowCorrelationIDKey),
        ("IdFlowDeclinedScopesKey", IdFlowDeclinedScopesKey),
        ("IdFlowGrantedScopesKey", IdFlowGrantedScopesKey),
        ("IdFlowThrottlingCacheHitKey", IdFlowThrottlingCacheHitKey),
        ("IdFlowClaimsKey", IdFlowClaimsKey),
        ("IdFlowClassificationKey", IdFlowClassificationKey),
        ("IdFlowRecommendedActionKey", IdFlowRecommendedActionKey),
        ("IdFlowMitigationKey", IdFlowMitigationKey),
        ("IdFlowRetryAfterKey", IdFlowRetryAfterKey),
        ("IdFlowIsRetryableKey", IdFlowIsRetryableKey),
        ("IdFlowErrorKindKey", IdFlowErrorKindKey),
        ("NSLocalizedDescriptionKey", NSLocalizedDescriptionKey),
    ]

    func testPublicCodesMatchCatalogue() {
        let core = Set(catalogue.swiftPublicCodes.map { Int($0) })
        let swift = Set(IdFlowErrorCode.allCases.map(\.rawValue))
        XCTAssertEqual(core.subtracting(swift), [],
                       "core public codes with no IdFlowErrorCode case")
        XCTAssertEqual(swift.subtracting(core), [],
                       "IdFlowErrorCode cases the core never emits")
    }

    func testInternalCodesMatchCatalogue() {
        let core = Set(catalogue.swiftInternalCodes.map { Int($0) })
        let swift = Set(IdFlowInternalErrorCode.allCases.map(\.rawValue))
        XCTAssertEqual(core.subtracting(swift), [],
                       "core internal codes with no IdFlowInternalErrorCode case")
        XCTAssertEqual(swift.subtracting(core), [],
                       "IdFlowInternalErrorCode cases the core never emits")
    }

    func testEveryUserInfoKeyHasAPublicConstant() {
        for (name, value) in userInfoConstants {
            XCTAssertEqual(name == "NSLocalizedDescriptionKey" ? "NSLocalizedDescription" : name,
                           value, "constant \(name) has value \(value)")
        }
        let core = Set(catalogue.userInfoKeys)
        let swift = Set(userInfoConstants.map(\.value))
        XCTAssertEqual(core.subtracting(swift), [], "core userInfo keys with no Swift constant")
        XCTAssertEqual(swift.subtracting(core), [], "Swift constants the core never emits")
    }

    /// Every idflow-defined code, explained and thrown, is the NSError the catalogue fixes.
    func testEveryLocalCodeBecomesItsNSError() throws {
        XCTAssertFalse(catalogue.localCodes.isEmpty)
        let codedKinds = Set(catalogue.localCodes.map(\.kind))
        for kind in catalogue.kinds {
            XCTAssertTrue(codedKinds.contains(kind), "no local code of kind \(kind) to check")
        }
        for local in catalogue.localCodes {
            let r = CaseReporter(name: local.code, file: #filePath, line: #line)
            let info: ErrorInfo
            do {
                info = try explain(query: local.code)
            } catch {
                r.fail("explain threw \(error)")
                continue
            }
            r.equal(info.code, local.code, "explained code")
            r.equal(info.kind, local.kind, "kind")
            guard let (ns, _) = observeThrow(r, "raiseError", { try raiseError(info: info) })
            else { continue }
            let domain = local.kind == .network ? NSURLErrorDomain : IdFlowErrorDomain
            r.equal(ns.domain, domain, "domain")
            r.equal(Int64(ns.code), local.swiftCode, "code")
            r.equal((ns.userInfo[IdFlowInternalErrorCodeKey] as? Int).map(Int64.init),
                    local.swiftInternalCode, "internal code")
            r.equal(ns.userInfo[IdFlowErrorKindKey] as? String, local.kind.vectorName, "kind key")
        }
    }

    /// Every transport failure kind is an NSURLErrorDomain error with its URLError code.
    func testEveryNetworkKindIsAURLError() {
        let expected: [NetworkKind: URLError.Code] = [
            .timeout: .timedOut, .dns: .cannotFindHost, .connectionRefused: .cannotConnectToHost,
            .connectionLost: .networkConnectionLost, .notConnected: .notConnectedToInternet,
            .tls: .secureConnectionFailed,
        ]
        for kind in catalogue.networkKinds {
            let r = CaseReporter(name: "network \(kind)", file: #filePath, line: #line)
            guard let info = try? transportFailure(kind: kind, detail: "test") else {
                r.fail("transportFailure threw")
                continue
            }
            guard let (ns, _) = observeThrow(r, "raiseError", { try raiseError(info: info) })
            else { continue }
            r.equal(ns.domain, NSURLErrorDomain, "domain")
            r.equal(ns.code, expected[kind]?.rawValue, "URLError code")
        }
    }

    /// A panic inside the core reaches Swift as a classified error, not a crash.
    func testSelfTestPanicThrowsInternalError() {
        let r = CaseReporter(name: "selfTestPanic", file: #filePath, line: #line)
        guard let (ns, info) = observeThrow(r, "selfTestPanic", { try selfTestPanic() }) else { return }
        XCTAssertEqual(info.kind, .client)
        XCTAssertEqual(info.code, "internal_error")
        XCTAssertEqual(ns.domain, IdFlowErrorDomain)
        XCTAssertEqual(ns.code, IdFlowErrorCode.internal.rawValue)
        XCTAssertEqual(ns.userInfo[IdFlowInternalErrorCodeKey] as? Int,
                       IdFlowInternalErrorCode.unexpected.rawValue)
        XCTAssertEqual(ns.userInfo[IdFlowErrorKindKey] as? String, "client")
    }
}
