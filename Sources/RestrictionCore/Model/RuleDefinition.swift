import Foundation
import Shared

/// When every condition holds for a user, the rule takes `clears` (an access such as
/// `can_purchase`) away. Restrictions stay once applied: later events never give access back.
struct RuleDefinition: Sendable, Equatable {
    var name: String
    var description: String
    var conditions: [RuleCondition]
    var clears: String

    init(_ name: String, description: String, conditions: [RuleCondition], clears: String) {
        self.name = name
        self.description = description
        self.conditions = conditions
        self.clears = clears
    }
}
