import Foundation
import Logging

/// Writes one line per event to standard error, in the service's `LOG_FORMAT`:
/// - `json`: one object with `ts`, `level`, `label`, `msg` and the metadata as flat
///   namespaced keys (`request.id`, `redis.command`);
/// - `text`: `ts level label: message key=value …`, keys sorted.
///
/// Metadata is formatted only when a line is written. swift-log's `StreamLogHandler` formats
/// it every time a key is set; handlers set `request.id` and the HTTP client its own key on
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
            var text = "\(timestamp) \(event.level) \(label): \(event.message)"
            for key in merged.keys.sorted() { text += " \(key)=\(merged[key]!)" }
            line = Data(text.utf8)
        }
        line.append(0x0A)
        write(line)
    }
}
