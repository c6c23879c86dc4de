import Shared

/// The outcome of evaluating one flag for one context.
public struct Evaluation: Sendable, Equatable {
    /// The OpenFeature reasons this service gives.
    enum Reason: String, Sendable {
        /// The same for everyone: no rules, no split.
        case staticValue = "STATIC"
        /// A targeting rule matched.
        case targetingMatch = "TARGETING_MATCH"
        /// The user's bucket decided (percentage rollout or weighted variants).
        case split = "SPLIT"
        /// Off: status, kill switch, schedule or a prerequisite.
        case disabled = "DISABLED"
        /// Rules exist but none matched, and the fallthrough is not a split.
        case defaultValue = "DEFAULT"
    }

    var flag: String
    public var enabled: Bool
    /// `on`/`off` for boolean flags, else the variant's name (`off` when off without an
    /// off variant).
    var variant: String
    /// Nil when a multivariate flag is off without an off variant: the client's default.
    var value: JSONValue?
    var reason: Reason
    var version: Int64
    /// Why, in a word, for metadata: `killed`, `status`, `schedule`, `prerequisite:<flag>`,
    /// `rule:<index>`.
    var cause: String?
}
