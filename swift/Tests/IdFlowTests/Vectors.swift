// Reading testdata/vectors.json (schema: testdata/README.md) at test time, so new cases run
// without new test code.

import Foundation
import XCTest

/// A JSON value that keeps booleans, integers and strings apart (the vectors compare them
/// strictly: `true` is not `1`, `"400"` is not `400`).
enum JSONValue: Decodable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let v = try? c.decode(Bool.self) { self = .bool(v) }
        else if let v = try? c.decode(Int.self) { self = .int(v) }
        else if let v = try? c.decode(Double.self) { self = .double(v) }
        else if let v = try? c.decode(String.self) { self = .string(v) }
        else if let v = try? c.decode([JSONValue].self) { self = .array(v) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    var string: String? { if case let .string(s) = self { return s }; return nil }
    var int: Int? { if case let .int(i) = self { return i }; return nil }
    var bool: Bool? { if case let .bool(b) = self { return b }; return nil }
    var array: [JSONValue]? { if case let .array(a) = self { return a }; return nil }
    var object: [String: JSONValue]? { if case let .object(o) = self { return o }; return nil }
    var isNull: Bool { self == .null }

    subscript(key: String) -> JSONValue? { object?[key] }

    var description: String {
        switch self {
        case .null: return "null"
        case let .bool(b): return String(b)
        case let .int(i): return String(i)
        case let .double(d): return String(d)
        case let .string(s): return "\"\(s)\""
        case let .array(a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case let .object(o):
            return "{" + o.keys.sorted().map { "\"\($0)\": \(o[$0]!)" }.joined(separator: ", ") + "}"
        }
    }
}

struct VectorCase: Decodable {
    let name: String
    let input: JSONValue
    let expect: JSONValue
}

struct VectorFile: Decodable {
    let version: Int
    let cases: [VectorCase]
}

enum Vectors {
    /// `IDFLOW_VECTORS` when set (the test script sets it), else the repository's copy.
    static var path: String {
        if let p = ProcessInfo.processInfo.environment["IDFLOW_VECTORS"], !p.isEmpty { return p }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("testdata/vectors.json").path
    }

    /// testdata/corpus.json, next to the vectors: the same schema, each case citing its source.
    static var corpusPath: String {
        URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("corpus.json").path
    }

    static func load(_ file: String = path) throws -> VectorFile {
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        return try JSONDecoder().decode(VectorFile.self, from: data)
    }
}

/// Failure reporting that names the case (corelibs XCTest has no `XCTContext` activities).
struct CaseReporter {
    let name: String
    let file: StaticString
    let line: UInt

    func fail(_ message: String) {
        XCTFail("[\(name)] \(message)", file: file, line: line)
    }

    func expect(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fail(message()) }
    }

    func equal<T: Equatable>(_ actual: T, _ expected: T, _ what: String) {
        if actual != expected { fail("\(what): got \(actual), expected \(expected)") }
    }
}
