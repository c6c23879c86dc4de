import Foundation
import Shared

/// `metric op value`, or `metric / per op value` (false while `per` is 0).
struct RuleCondition: Sendable, Equatable {
    enum Operator: String, Sendable, CaseIterable {
        case gt = ">"
        case gte = ">="
        case lt = "<"
        case lte = "<="
    }

    var metric: String
    var per: String?
    var op: Operator
    var value: Double

    init(_ metric: String, per: String? = nil, _ op: Operator, _ value: Double) {
        self.metric = metric
        self.per = per
        self.op = op
        self.value = value
    }
}
