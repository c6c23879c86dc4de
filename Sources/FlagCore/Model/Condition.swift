import Shared

/// One test on an evaluation context attribute, or on segment membership.
struct Condition: Sendable, Equatable {
    enum Operator: String, Sendable, CaseIterable {
        case `in`
        case notIn = "not_in"
        case eq, neq
        case startsWith = "starts_with"
        case endsWith = "ends_with"
        case contains
        case gt, gte, lt, lte
        case semverGt = "semver_gt"
        case semverLt = "semver_lt"
        case before, after
        case inSegment = "in_segment"
        case notInSegment = "not_in_segment"

        var isSegment: Bool { self == .inSegment || self == .notInSegment }
        /// Operators comparing against exactly one value.
        var takesOneValue: Bool {
            switch self {
            case .eq, .neq, .gt, .gte, .lt, .lte, .semverGt, .semverLt, .before, .after: true
            default: false
            }
        }
    }

    /// Nil for the segment operators.
    var attribute: String?
    var op: Operator
    var values: [JSONValue]

    var segmentNames: [String] {
        guard op.isSegment else { return [] }
        return values.compactMap { if case .string(let name) = $0 { name } else { nil } }
    }
}
