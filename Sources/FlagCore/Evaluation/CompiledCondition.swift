import Foundation
import Shared

/// A condition with its operands parsed once, at snapshot build, not per evaluation.
///
/// A class of plain fields rather than an enum with payloads: walking the rules then copies
/// one reference per condition, where matching an enum copied (and reference-counted) its
/// payloads, which cost more than the test itself on the hot path.
final class CompiledCondition: Sendable {
    let op: Condition.Operator
    let attribute: String
    let attributeHash: UInt64
    /// The string operators' operands, as text.
    let texts: [String]
    /// `in`/`not_in` with many operands hash; a short list is scanned.
    let textSet: Set<String>?
    /// The numeric operand, or seconds since 1970 for `before`/`after`; NaN matches nothing.
    let number: Double
    let version: SemanticVersion?
    /// Nil entries name segments that no longer exist: they match no one.
    let segments: [CompiledSegment?]

    private static let hashedOperands = 8

    init(_ condition: Condition, segments: [String: CompiledSegment]) {
        op = condition.op
        attribute = condition.attribute ?? ""
        attributeHash = Bucketing.fnv1a(attribute)
        texts = condition.values.compactMap(ConditionValue.text)
        textSet = texts.count > Self.hashedOperands ? Set(texts) : nil
        let first = condition.values.first
        number =
            switch condition.op {
            case .gt, .gte, .lt, .lte: first.flatMap(ConditionValue.number) ?? .nan
            case .before, .after: first.flatMap(ConditionValue.date) ?? .nan
            default: .nan
            }
        version = first.flatMap(ConditionValue.semver)
        self.segments = condition.segmentNames.map { segments[$0] }
    }

    /// A missing attribute, or one of a type the operator cannot read, never matches, also
    /// for the negated operators: "not in [DE]" says nothing about a user without a country.
    func matches(_ context: EvaluationContext) -> Bool {
        if op.isSegment {
            let inAny = segments.contains { $0?.contains(context) ?? false }
            return inAny != (op == .notInSegment)
        }
        guard let value = context.value(attribute, hash: attributeHash) else { return false }
        switch op {
        case .in, .eq, .notIn, .neq:
            guard let text = ConditionValue.text(value) else { return false }
            let found = textSet?.contains(text) ?? texts.contains(text)
            return found != (op == .notIn || op == .neq)
        case .startsWith:
            guard let text = ConditionValue.text(value) else { return false }
            return texts.contains { text.hasPrefix($0) }
        case .endsWith:
            guard let text = ConditionValue.text(value) else { return false }
            return texts.contains { text.hasSuffix($0) }
        case .contains:
            guard let text = ConditionValue.text(value) else { return false }
            return texts.contains { text.contains($0) }
        case .gt: return ConditionValue.number(value).map { $0 > number } ?? false
        case .gte: return ConditionValue.number(value).map { $0 >= number } ?? false
        case .lt: return ConditionValue.number(value).map { $0 < number } ?? false
        case .lte: return ConditionValue.number(value).map { $0 <= number } ?? false
        case .semverGt, .semverLt:
            guard let operand = version, let version = ConditionValue.semver(value) else { return false }
            return op == .semverGt ? version > operand : version < operand
        case .before: return ConditionValue.date(value).map { $0 < number } ?? false
        case .after: return ConditionValue.date(value).map { $0 > number } ?? false
        case .inSegment, .notInSegment: return false
        }
    }
}
