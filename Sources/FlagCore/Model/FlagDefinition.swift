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
    var status: Bool
    /// Share of users (by bucket) that get the flag on when no rule matches.
    var rolloutPercentage: Double
    var description: String
    /// Empty for a plain boolean flag.
    var variants: [Variant]
    /// The variant served when the flag is off; nil serves no value (clients use their default).
    var offVariant: String?
    var rules: [Rule]
    var prerequisites: [Prerequisite]
    var enableAt: Date?
    var disableAt: Date?
    /// The kill switch: off for everyone, whatever the rest says, while set.
    var killed: Bool

    struct Variant: Sendable, Equatable {
        var name: String
        var weight: Double
        var value: JSONValue
    }

    /// What a matching rule serves.
    enum Serve: Sendable, Equatable {
        case enabled(Bool)
        case variant(String)
        case rollout(Double)
    }

    struct Rule: Sendable, Equatable {
        var name: String?
        /// All must hold.
        var conditions: [Condition]
        var serve: Serve
    }

    /// This flag is on only when `flagName` is on (and serves `variant`, if given).
    struct Prerequisite: Sendable, Equatable {
        var flagName: String
        var variant: String?
    }

    /// Every segment the rules name.
    var segmentReferences: Set<String> {
        Set(rules.flatMap { $0.conditions.flatMap(\.segmentNames) })
    }
}
