/// A PostgreSQL failure that is not "the server is unreachable" (that one is
/// ``DependencyUnavailableError``).
///
/// The server's message stays in logs: the HTTP kit never renders it to clients, since it can
/// quote SQL and data.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    private enum Code: Sendable {
        case server
        case invalidParameter
        case decoding
    }

    private let code: Code
    /// The five-character SQLSTATE for server errors, e.g. `23505`.
    public let sqlState: String?
    /// Server or decoding message, for logs only.
    public let message: String

    private init(code: Code, sqlState: String?, message: String) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
    }

    public static func server(sqlState: String?, message: String) -> PostgresError {
        PostgresError(code: .server, sqlState: sqlState, message: message)
    }

    public static func invalidParameter(_ message: String) -> PostgresError {
        PostgresError(code: .invalidParameter, sqlState: nil, message: message)
    }

    public static func decoding(_ message: String) -> PostgresError {
        PostgresError(code: .decoding, sqlState: nil, message: message)
    }

    /// `unique_violation`: the caller maps it to 409 Conflict.
    public var isUniqueViolation: Bool { sqlState == "23505" }
    /// `query_canceled`, raised by `statement_timeout`.
    public var isTimeout: Bool { sqlState == "57014" }
    /// `feature_not_supported`, which is what the server answers ("cached plan must not change
    /// result type") when a schema change altered the result of a prepared statement.
    var meansStalePlan: Bool { sqlState == "0A000" }

    public var description: String {
        switch code {
        case .server: "postgres error \(sqlState ?? "?????"): \(message)"
        case .invalidParameter: "invalid parameter: \(message)"
        case .decoding: "cannot decode: \(message)"
        }
    }
}

extension PostgresError {
    /// The error as a 503 for a client: for a statement whose input was checked beforehand,
    /// a server error means the database failed it, and nothing of it was stored. The SQL
    /// state goes along (never the message, which may quote SQL).
    public var asUnavailable: DependencyUnavailableError {
        DependencyUnavailableError(dependency: "postgres", reason: sqlState.map { "failed (\($0))" } ?? "unreachable")
    }
}
