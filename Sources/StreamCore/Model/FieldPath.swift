import Shared

/// Which event field a condition reads: one of the event's own fields, or a path into its
/// `properties` (`properties.cart.total`).
enum FieldPath: Hashable, Sendable {
    case eventType, userID, userTier, amount, timestamp, eventID
    case property([String])

    static let maxSegments = 8

    init(_ text: String, error: (String) -> JSONFieldError) throws {
        switch text {
        case "event_type": self = .eventType
        case "user_id": self = .userID
        case "user_tier": self = .userTier
        case "amount": self = .amount
        case "timestamp": self = .timestamp
        case "event_id": self = .eventID
        default:
            let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2, parts[0] == "properties" else {
                throw error("must be event_type, user_id, user_tier, amount, timestamp, event_id or properties.<name>[.<name>…]")
            }
            guard parts.count - 1 <= Self.maxSegments else { throw error("may go at most \(Self.maxSegments) levels into properties") }
            for part in parts.dropFirst() {
                guard !part.isEmpty, part.utf8.count <= 64 else { throw error("each name in the path must be 1 to 64 characters") }
            }
            self = .property(Array(parts.dropFirst()))
        }
    }

    var text: String {
        switch self {
        case .eventType: "event_type"
        case .userID: "user_id"
        case .userTier: "user_tier"
        case .amount: "amount"
        case .timestamp: "timestamp"
        case .eventID: "event_id"
        case .property(let path): "properties." + path.joined(separator: ".")
        }
    }
}
