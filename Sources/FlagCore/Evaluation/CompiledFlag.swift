import Foundation
import Shared

/// A flag ready for evaluation.
final class CompiledFlag: Sendable {
    struct Rule: Sendable {
        let conditions: [CompiledCondition]
        let serve: FlagDefinition.Serve

        func matches(_ context: EvaluationContext) -> Bool {
            conditions.allSatisfy { $0.matches(context) }
        }
    }

    let definition: FlagDefinition
    let version: Int64
    let variants: [CompiledVariant]
    /// The variants that can be picked (positive weight).
    let weighted: [CompiledVariant]
    let offVariant: CompiledVariant?
    let rules: [Rule]
    let hasSchedule: Bool
    /// Whether the fallthrough depends on the user (a split), or serves everyone the same.
    let fallthroughIsSplit: Bool

    init(_ definition: FlagDefinition, version: Int64, segments: [String: CompiledSegment]) {
        self.definition = definition
        self.version = version
        let variants = definition.variants.map {
            CompiledVariant(name: $0.name, weight: $0.weight, value: $0.value, nameHash: Bucketing.fnv1a($0.name))
        }
        self.variants = variants
        let weighted = variants.filter { $0.weight > 0 }
        self.weighted = weighted
        offVariant = definition.offVariant.flatMap { name in variants.first { $0.name == name } }
        rules = definition.rules.map { rule in
            Rule(conditions: rule.conditions.map { CompiledCondition($0, segments: segments) }, serve: rule.serve)
        }
        hasSchedule = definition.enableAt != nil || definition.disableAt != nil
        let rollout = definition.rolloutPercentage
        fallthroughIsSplit = (rollout > 0 && rollout < 100) || (rollout > 0 && weighted.count > 1)
    }

    var name: String { definition.name }
}
