// idflow's log lines, delivered to a closure. Nothing is logged until a closure is set.

import Foundation

/// Where idflow's log lines go.
///
/// ```swift
/// try IdFlowLogging.setLogger(level: .info) { level, message, containsPii in
///     print("[idflow] \(level) \(message)")
/// }
/// ```
///
/// The closure runs on whichever thread logged, possibly concurrently: keep it quick and do not
/// call idflow from it. Tokens, secrets, codes and passwords are never logged; personal data
/// (usernames, account and tenant ids, URLs) only after `piiLoggingEnabled = true`, and those
/// lines arrive with `containsPii == true`.
public enum IdFlowLogging {
    public typealias Callback = @Sendable (_ level: LogLevel, _ message: String, _ containsPii: Bool) -> Void

    /// Sends lines up to `level` (`.trace` is the most verbose) to `callback`; `nil` stops logging.
    /// Throws only when the process already has another Rust `tracing` subscriber installed.
    public static func setLogger(level: LogLevel, _ callback: Callback?) throws {
        try IdFlow.setLogger(logger: callback.map(ClosureLogger.init), level: level)
    }

    /// Whether lines may show personal data; off by default, for the whole process (as
    /// MSAL's `MSALGlobalConfig.loggerConfig.logMaskingLevel`).
    public static var piiLoggingEnabled: Bool {
        get { IdFlow.piiLoggingEnabled() }
        set { IdFlow.setPiiLoggingEnabled(enabled: newValue) }
    }
}

/// The generated `Logger` protocol over a closure.
private final class ClosureLogger: Logger {
    private let callback: IdFlowLogging.Callback

    init(_ callback: @escaping IdFlowLogging.Callback) {
        self.callback = callback
    }

    func log(level: LogLevel, message: String, containsPii: Bool) {
        callback(level, message, containsPii)
    }
}
