import Foundation

/// A Swift type that can be read from a column in text format.
public protocol PostgresDecodable: Sendable {
    init?(postgresText bytes: ArraySlice<UInt8>, type: UInt32)
}
