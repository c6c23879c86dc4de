import Foundation

/// One query parameter as sent to `PQexecParams`: text format, or binary for `bytea`.
public struct PostgresBind: Sendable, Equatable {
    public var bytes: [UInt8]
    public var isBinary: Bool
}
