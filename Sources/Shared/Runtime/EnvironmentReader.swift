import Foundation

/// Reads typed settings from the process environment (or a dictionary in tests).
///
/// Every component's `Configuration` is built from one of these so that defaults live next
/// to the setting they belong to and tests can pass an explicit dictionary instead of
/// mutating the real environment.
public struct EnvironmentReader: Sendable {
    public let values: [String: String]
    private let log: EnvironmentReadLog?

    /// - Parameter log: notes the name of every variable asked for (see `--print-config`).
    public init(_ values: [String: String] = ProcessInfo.processInfo.environment, log: EnvironmentReadLog? = nil) {
        self.values = values
        self.log = log
    }

    /// The trimmed value of `key`; `nil` when unset or blank. Every other accessor reads
    /// through this one.
    public func string(_ key: String) -> String? {
        log?.note(key)
        guard let value = values[key]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        return value
    }

    public func string(_ key: String, default defaultValue: String) -> String {
        string(key) ?? defaultValue
    }

    public func int(_ key: String, default defaultValue: Int) -> Int {
        string(key).flatMap(Int.init) ?? defaultValue
    }

    public func double(_ key: String, default defaultValue: Double) -> Double {
        string(key).flatMap(Double.init) ?? defaultValue
    }

    public func bool(_ key: String, default defaultValue: Bool) -> Bool {
        switch string(key)?.lowercased() {
        case "1", "true", "yes", "on": true
        case "0", "false", "no", "off": false
        default: defaultValue
        }
    }

    /// A duration given in milliseconds, e.g. `HEALTH_INTERVAL_MS=500`.
    public func milliseconds(_ key: String, default defaultValue: Duration) -> Duration {
        string(key).flatMap(Int64.init).map { .milliseconds($0) } ?? defaultValue
    }

    /// A comma separated list with empty items dropped.
    public func list(_ key: String) -> [String] {
        (string(key) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
