import Foundation
import Shared

/// A variant ready for evaluation: its name hashed once for ``Bucketing/pick(seed:variants:)``.
struct CompiledVariant: Sendable {
    let name: String
    let weight: Double
    let value: JSONValue
    let nameHash: UInt64
}

/// A condition with its operands parsed once, at snapshot build, not per evaluation.
enum CompiledCondition: Sendable {
    case oneOf(attribute: String, Set<String>, negated: Bool)
    case text(attribute: String, [String], TextTest)
    case number(attribute: String, Double, Comparison)
    case semver(attribute: String, SemanticVersion, greater: Bool)
    case date(attribute: String, Double, after: Bool)
    /// Nil segments name ones that no longer exist: they match no one.
    case segments([CompiledSegment?], negated: Bool)

    enum TextTest: Sendable { case prefix, suffix, contains }
    enum Comparison: Sendable { case gt, gte, lt, lte }

    init(_ condition: Condition, segments: [String: CompiledSegment]) {
        let attribute = condition.attribute ?? ""
        let texts = condition.values.compactMap(ConditionValue.text)
        switch condition.op {
        case .in, .eq: self = .oneOf(attribute: attribute, Set(texts), negated: false)
        case .notIn, .neq: self = .oneOf(attribute: attribute, Set(texts), negated: true)
        case .startsWith: self = .text(attribute: attribute, texts, .prefix)
        case .endsWith: self = .text(attribute: attribute, texts, .suffix)
        case .contains: self = .text(attribute: attribute, texts, .contains)
        case .gt, .gte, .lt, .lte:
            let comparison: Comparison = switch condition.op {
            case .gt: .gt
            case .gte: .gte
            case .lt: .lt
            default: .lte
            }
            self = .number(attribute: attribute, ConditionValue.number(condition.values[0]) ?? .nan, comparison)
        case .semverGt, .semverLt:
            self = .semver(attribute: attribute, ConditionValue.semver(condition.values[0]) ?? SemanticVersion("0")!, greater: condition.op == .semverGt)
        case .before, .after:
            self = .date(attribute: attribute, ConditionValue.date(condition.values[0]) ?? .nan, after: condition.op == .after)
        case .inSegment, .notInSegment:
            self = .segments(condition.segmentNames.map { segments[$0] }, negated: condition.op == .notInSegment)
        }
    }

    /// A missing attribute, or one of a type the operator cannot read, never matches, also
    /// for the negated operators: "not in [DE]" says nothing about a user without a country.
    func matches(_ context: EvaluationContext) -> Bool {
        switch self {
        case .oneOf(let attribute, let set, let negated):
            guard let value = context.value(attribute), let text = ConditionValue.text(value) else { return false }
            return set.contains(text) != negated
        case .text(let attribute, let operands, let test):
            guard let value = context.value(attribute), let text = ConditionValue.text(value) else { return false }
            switch test {
            case .prefix: return operands.contains { text.hasPrefix($0) }
            case .suffix: return operands.contains { text.hasSuffix($0) }
            case .contains: return operands.contains { text.contains($0) }
            }
        case .number(let attribute, let operand, let comparison):
            guard let value = context.value(attribute), let number = ConditionValue.number(value) else { return false }
            switch comparison {
            case .gt: return number > operand
            case .gte: return number >= operand
            case .lt: return number < operand
            case .lte: return number <= operand
            }
        case .semver(let attribute, let operand, let greater):
            guard let value = context.value(attribute), let version = ConditionValue.semver(value) else { return false }
            return greater ? version > operand : version < operand
        case .date(let attribute, let operand, let after):
            guard let value = context.value(attribute), let seconds = ConditionValue.date(value) else { return false }
            return after ? seconds > operand : seconds < operand
        case .segments(let segments, let negated):
            let inAny = segments.contains { $0?.contains(context) ?? false }
            return inAny != negated
        }
    }
}

/// A segment ready for evaluation.
final class CompiledSegment: Sendable {
    let included: Set<String>
    let excluded: Set<String>
    let conditions: [CompiledCondition]

    init(_ definition: SegmentDefinition) {
        included = Set(definition.included)
        excluded = Set(definition.excluded)
        conditions = definition.conditions.map { CompiledCondition($0, segments: [:]) }
    }

    func contains(_ context: EvaluationContext) -> Bool {
        if let key = context.targetingKey {
            if included.contains(key) { return true }
            if excluded.contains(key) { return false }
        }
        return !conditions.isEmpty && conditions.allSatisfy { $0.matches(context) }
    }
}

/// A flag ready for evaluation.
final class CompiledFlag: Sendable {
    struct Rule: Sendable {
        let conditions: [CompiledCondition]
        let serve: FlagDefinition.Serve
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
