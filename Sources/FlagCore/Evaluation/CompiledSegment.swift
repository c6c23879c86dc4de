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
