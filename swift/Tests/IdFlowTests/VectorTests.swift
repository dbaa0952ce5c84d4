// Every case of testdata/vectors.json, run generically: the core's decision through the FFI,
// and the NSError an app catches.

import Foundation
import IdFlow
import XCTest

final class VectorTests: XCTestCase {
    func testEveryVectorCase() throws {
        try runAll(Vectors.path, label: "vectors")
    }

    /// The responses taken from the MSAL libraries' test suites, run the same way.
    func testEveryCorpusCase() throws {
        let file = try Vectors.load(Vectors.corpusPath)
        XCTAssertGreaterThanOrEqual(file.cases.count, 150, "corpus in \(Vectors.corpusPath)")
        try runAll(Vectors.corpusPath, label: "corpus")
    }

    private func runAll(_ path: String, label: String) throws {
        let file = try Vectors.load(path)
        XCTAssertFalse(file.cases.isEmpty, "no cases in \(path)")
        var counts: [String: Int] = [:]
        for vector in file.cases {
            let r = CaseReporter(name: vector.name, file: #filePath, line: #line)
            let type = vector.input["type"]?.string ?? "<missing>"
            counts[type, default: 0] += 1
            switch type {
            case "response": runResponse(r, vector)
            case "transport": runTransport(r, vector)
            case "explain": runExplain(r, vector)
            default: r.fail("unknown input type \(type)")
            }
        }
        let byType = counts.keys.sorted().map { "\($0): \(counts[$0]!)" }.joined(separator: ", ")
        print("IdFlow \(label): ran \(file.cases.count) cases (\(byType)) from \(path)")
    }

    // MARK: - inputs

    private func runResponse(_ r: CaseReporter, _ vector: VectorCase) {
        let input = vector.input, expect = vector.expect
        guard let status = input["status"]?.int.flatMap(UInt16.init(exactly:)),
              let flowName = input["flow"]?.string,
              // a flow name or a grant name (`refresh_token`), read by the core
              let flow = try? parseFlow(name: flowName)
        else { return r.fail("response input needs status and a known flow: \(input)") }
        let headers = (input["headers"]?.array ?? []).compactMap { pair -> Header? in
            guard let p = pair.array, p.count == 2, let n = p[0].string, let v = p[1].string
            else { r.fail("bad header \(pair)"); return nil }
            return Header(name: n, value: v)
        }
        guard let body = Self.body(of: input) else { return r.fail("unreadable body in \(input)") }

        let classified: Classified
        do {
            classified = try classifyResponse(status: status, headers: headers, body: body, flow: flow)
        } catch {
            return r.fail("classifyResponse threw \(error)")
        }
        if let outcome = expect["outcome"]?.string {
            r.equal(classified.outcome.vectorName, outcome, "outcome")
        }
        if let polling = expect["polling"] {
            r.equal(classified.polling?.vectorName, polling.string, "polling")
        }
        checkDecision(r, expect, classified.error)

        let raise = { _ = try raiseForResponse(status: status, headers: headers, body: body, flow: flow) }
        if classified.outcome == .success {
            r.expect(classified.error == nil, "success carries an error")
            do { try raise() } catch { r.fail("raiseForResponse threw on success: \(error)") }
            r.expect(expect["swift"] == nil || expect["swift"]?.isNull == true
                || expect["swift"]?["domain"] == nil,
                "success case expects a Swift error")
        } else {
            checkThrown(r, expect, "raiseForResponse", raise)
        }
    }

    private func runTransport(_ r: CaseReporter, _ vector: VectorCase) {
        let input = vector.input
        guard let name = input["network"]?.string, let kind = VectorInputNames.networks[name]
        else { return r.fail("transport input needs a known network kind: \(input)") }
        let info: ErrorInfo
        do {
            info = try transportFailure(kind: kind, detail: input["detail"]?.string ?? "")
        } catch {
            return r.fail("transportFailure threw \(error)")
        }
        r.equal(info.network, kind, "info.network")
        checkDecision(r, vector.expect, info)
        checkThrown(r, vector.expect, "raiseError") { try raiseError(info: info) }
    }

    private func runExplain(_ r: CaseReporter, _ vector: VectorCase) {
        guard let query = vector.input["query"]?.string
        else { return r.fail("explain input needs a query: \(vector.input)") }
        let info: ErrorInfo
        do {
            info = try explain(query: query)
        } catch let error as AuthError {
            // A query explain cannot answer is itself the observation (invalid_parameter).
            checkDecision(r, vector.expect, error.info)
            checkThrown(r, vector.expect, "explain") { _ = try explain(query: query) }
            return
        } catch {
            return r.fail("explain threw \(type(of: error)): \(error)")
        }
        checkDecision(r, vector.expect, info)
        checkThrown(r, vector.expect, "raiseError") { try raiseError(info: info) }
    }

    // MARK: - checks

    /// The core's decision as the FFI delivers it (keys absent from the vector are not checked).
    private func checkDecision(_ r: CaseReporter, _ expect: JSONValue, _ info: ErrorInfo?) {
        let errorKeys = ["kind", "code", "classification", "retryable", "retry_after_secs",
                         "action", "aadsts"]
        guard let info else {
            for key in errorKeys where expect[key] != nil && expect[key]?.isNull != true {
                r.fail("expected \(key) = \(expect[key]!), but there is no error")
            }
            return
        }
        if let v = expect["kind"] { r.equal(info.kind.vectorName, v.string, "kind") }
        if let v = expect["code"] { r.equal(info.code, v.string, "code") }
        if let v = expect["classification"] {
            // null: not interaction-required, so the FFI carries `.none`.
            r.equal(info.classification.vectorName, v.string ?? "None", "classification")
            if v.isNull { r.expect(info.kind != .interactionRequired, "classification null on interaction_required") }
        }
        if let v = expect["retryable"] { r.equal(info.retryable, v.bool, "retryable") }
        if let v = expect["retry_after_secs"] {
            r.equal(info.retryAfterSecs.map(Int.init), v.int, "retry_after_secs")
        }
        if let v = expect["action"] { r.equal(info.action.vectorName, v.string, "action") }
        if let v = expect["aadsts"] {
            r.equal(info.errorCodes.map { Int($0) }, (v.array ?? []).compactMap(\.int), "aadsts")
        }
    }

    /// The throw: translation of the core's decision, then the vector's `swift` expectation.
    private func checkThrown(_ r: CaseReporter, _ expect: JSONValue, _ what: String,
                             _ call: () throws -> Void) {
        guard let (ns, info) = observeThrow(r, what, call) else { return }
        if let kind = expect["kind"]?.string { r.equal(info.kind.vectorName, kind, "\(what): kind") }
        if let swift = expect["swift"], !swift.isNull {
            checkSwiftExpectation(r, ns, swift)
        } else {
            r.fail("no swift expectation for an error case")
        }
    }

    // MARK: - helpers

    private static func body(of input: JSONValue) -> Data? {
        if let text = input["body"]?.string { return Data(text.utf8) }
        if let b64 = input["body_base64"]?.string { return Data(base64Encoded: b64) }
        if let rep = input["body_repeat"] {
            guard let chunk = rep["chunk"]?.string, let times = rep["times"]?.int, times >= 0
            else { return nil }
            return Data(String(repeating: chunk, count: times).utf8)
        }
        return Data()
    }
}
