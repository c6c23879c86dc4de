import Logging

/// One schema change. Statements run in order, each through `PQexecParams` with no
/// parameters (one statement per call), inside the migrator's transaction.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let statements: [String]

    public init(version: Int, name: String, statements: [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}
