import Foundation
import Logging

/// Writes one line per event to standard error, in the service's `LOG_FORMAT`:
/// - `json`: one object with `ts`, `level`, `label`, `msg` and the metadata as flat
///   namespaced keys (`hb.request.id`, `redis.command`);
/// - `text`: `ts level label: message key=value …`, keys sorted.
///
/// Metadata is formatted only when a line is written. swift-log's `StreamLogHandler` formats
/// it every time a key is set; the request id middleware sets `hb.request.id` and the HTTP client its own key on
/// every request, for loggers that mostly never write.
public struct LineLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let format: LogFormat
    private let write: @Sendable (Data) -> Void

    /// `write` gets each line, newline included; standard error unless a test says otherwise.
    public init(label: String, format: LogFormat, write: @escaping @Sendable (Data) -> Void = { FileHandle.standardError.write($0) }) {
        self.label = label
        self.format = format
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        for (key, value) in metadataProvider?.get() ?? [:] { merged[key] = value }
        for (key, value) in event.metadata ?? [:] { merged[key] = value }
        let timestamp = Timestamp.iso8601(Date())
        var line: Data
        switch format {
        case .json:
            var object = merged.mapValues { "\($0)" }
            object["ts"] = timestamp
            object["level"] = event.level.rawValue
            object["label"] = label
            object["msg"] = "\(event.message)"
            guard let encoded = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
            line = encoded
        case .text:
            var text = "\(timestamp) \(event.level) \(label): \(Self.escaped("\(event.message)", quoteSpaces: false))"
            for key in merged.keys.sorted() {
                text += " \(Self.escaped(key, quoteSpaces: true))=\(Self.escaped("\(merged[key]!)", quoteSpaces: true))"
            }
            line = Data(text.utf8)
        }
        line.append(0x0A)
        write(line)
    }

    /// A value as one token of a text line: control characters (a newline could forge a
    /// whole log line), quotes and backslashes escaped; with `quoteSpaces`, a value holding a
    /// space, `=` or an escape is quoted, so `key=value` pairs always split the same way.
    static func escaped(_ value: String, quoteSpaces: Bool) -> String {
        var out = ""
        var needsQuotes = false
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\n":
                out += "\\n"
                needsQuotes = true
            case "\r":
                out += "\\r"
                needsQuotes = true
            case "\t":
                out += "\\t"
                needsQuotes = true
            case "\"":
                out += "\\\""
                needsQuotes = true
            case "\\":
                out += "\\\\"
                needsQuotes = true
            case " ", "=":
                out.unicodeScalars.append(scalar)
                needsQuotes = true
            case _
            where scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value)
                || scalar.value == 0x2028 || scalar.value == 0x2029:
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
                needsQuotes = true
            default: out.unicodeScalars.append(scalar)
            }
        }
        return quoteSpaces && (needsQuotes || out.isEmpty) ? "\"" + out + "\"" : out
    }
}
