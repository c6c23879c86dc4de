import Foundation
import Logging

/// Writes one line per event to standard error, for people:
/// `ts level label: message key=value …`, metadata keys sorted.
///
/// Unlike swift-log's `StreamLogHandler`, which formats its metadata every time a key is set,
/// this formats only when it writes: handlers set `request.id` and the HTTP client sets its
/// own key on every request, and most of those loggers never write a line.
public struct TextLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String

    public init(label: String) {
        self.label = label
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        for (key, value) in metadataProvider?.get() ?? [:] { merged[key] = value }
        for (key, value) in event.metadata ?? [:] { merged[key] = value }
        var line = "\(Timestamp.iso8601(Date())) \(event.level) \(label): \(event.message)"
        for key in merged.keys.sorted() { line += " \(key)=\(merged[key]!)" }
        line += "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
