import Foundation
import Shared

/// `social.users`, ProfileService's table.
struct ProfileStore: Sendable {
    let postgres: PostgresClient

    func profile(_ userID: Int64) async throws -> Profile? {
        try await postgres.query("SELECT user_id, user_name, created_at FROM social.users WHERE user_id = $1", [userID])
            .first.map(Self.profile)
    }

    func insert(userName: String) async throws -> Profile {
        let rows = try await postgres.query(
            "INSERT INTO social.users (user_name) VALUES ($1) RETURNING user_id, user_name, created_at",
            [userName]
        )
        return try Self.profile(rows.first!)
    }

    private static func profile(_ row: PostgresRow) throws -> Profile {
        Profile(
            userID: try row.decode("user_id", as: Int64.self),
            userName: try row.decode("user_name", as: String.self),
            createdAt: Timestamp.iso8601(try row.decode("created_at", as: Date.self))
        )
    }
}
