import Foundation
import Shared

/// A flag as its owners define it: what `POST /flags` takes and `GET /flags/{flag_name}`
/// shows, without the bookkeeping (version, timestamps) that ``EntityRecord`` adds.
///
/// Built only through ``init(json:)``, which validates, so every definition in a snapshot is
/// one the API accepted.
public struct FlagDefinition: Sendable, Equatable {
    public var name: String
    /// The legacy on/off switch.
    public var status: Bool
    /// Share of users (by bucket) that get the flag on when no rule matches.
    public var rolloutPercentage: Double
    public var description: String
    /// Empty for a plain boolean flag.
    public var variants: [Variant]
    /// The variant served when the flag is off; nil serves no value (clients use their default).
    public var offVariant: String?
    public var rules: [Rule]
    public var prerequisites: [Prerequisite]
    public var enableAt: Date?
    public var disableAt: Date?
    /// The kill switch: off for everyone, whatever the rest says, while set.
    public var killed: Bool

    public struct Variant: Sendable, Equatable {
        public var name: String
        public var weight: Double
        public var value: JSONValue
    }

    /// What a matching rule serves.
    public enum Serve: Sendable, Equatable {
        case enabled(Bool)
        case variant(String)
        case rollout(Double)
    }

    public struct Rule: Sendable, Equatable {
        public var name: String?
        /// All must hold.
        public var conditions: [Condition]
        public var serve: Serve
    }

    /// This flag is on only when `flagName` is on (and serves `variant`, if given).
    public struct Prerequisite: Sendable, Equatable {
        public var flagName: String
        public var variant: String?
    }

    /// Every segment the rules name.
    public var segmentReferences: Set<String> {
        Set(rules.flatMap { $0.conditions.flatMap(\.segmentNames) })
    }
}
