import Foundation
import Shared

/// Evaluates flags of one snapshot, in memory only.
///
/// Order: kill switch, status, schedule, prerequisites (each evaluated for the same
/// context), then the rules top to bottom (the first match serves), then the fallthrough
/// rollout. "On" for a multivariate flag serves the variant the weighted hash picks.
public struct FlagEvaluator: Sendable {
    let snapshot: FlagSnapshot
    let now: @Sendable () -> Date
    /// Prerequisite chains deeper than this count as unmet (writes refuse cycles, this is
    /// the backstop).
    static let maxDepth = 8

    public init(snapshot: FlagSnapshot, now: @escaping @Sendable () -> Date = { Date() }) {
        self.snapshot = snapshot
        self.now = now
    }

    public func evaluate(_ name: String, context: EvaluationContext) throws(EvaluationError) -> Evaluation {
        guard let flag = snapshot.compiled[name] else { throw .flagNotFound(name) }
        return try evaluate(flag, context: context, depth: 0)
    }

    func evaluate(_ flag: CompiledFlag, context: EvaluationContext, depth: Int) throws(EvaluationError) -> Evaluation {
        // Fields are read through `flag.definition.` rather than a local copy of the
        // definition: copying the struct retains each of its strings and arrays.
        if flag.definition.killed { return off(flag, .disabled, cause: "killed") }
        if !flag.definition.status { return off(flag, .disabled, cause: "status") }
        if flag.hasSchedule {
            let time = now()
            if let enableAt = flag.definition.enableAt, time < enableAt { return off(flag, .disabled, cause: "schedule") }
            if let disableAt = flag.definition.disableAt, time >= disableAt { return off(flag, .disabled, cause: "schedule") }
        }
        for prerequisite in flag.definition.prerequisites {
            guard depth < Self.maxDepth, let required = snapshot.compiled[prerequisite.flagName],
                let result = try? evaluate(required, context: context, depth: depth + 1),
                result.enabled, prerequisite.variant == nil || prerequisite.variant == result.variant
            else { return off(flag, .disabled, cause: "prerequisite:" + prerequisite.flagName) }
        }
        if let index = flag.rules.firstIndex(where: { $0.matches(context) }) {
            let cause = "rule:\(index)"
            switch flag.rules[index].serve {
            case .enabled(true): return try on(flag, context, .targetingMatch, cause: cause)
            case .enabled(false): return off(flag, .targetingMatch, cause: cause)
            case .variant(let name):
                let variant = flag.variants.first { $0.name == name }
                return Evaluation(
                    flag: flag.name,
                    enabled: true,
                    variant: name,
                    value: variant?.value,
                    reason: .targetingMatch,
                    version: flag.version,
                    cause: cause
                )
            case .rollout(let percentage):
                return try inRollout(flag, context, percentage)
                    ? on(flag, context, .targetingMatch, cause: cause)
                    : off(flag, .targetingMatch, cause: cause)
            }
        }
        let reason: Evaluation.Reason = flag.fallthroughIsSplit ? .split : flag.rules.isEmpty ? .staticValue : .defaultValue
        return try inRollout(flag, context, flag.definition.rolloutPercentage)
            ? on(flag, context, reason, cause: nil)
            : off(flag, reason, cause: nil)
    }

    /// `bucket < percentage`, asking for a targeting key only when the answer depends on it.
    private func inRollout(_ flag: CompiledFlag, _ context: EvaluationContext, _ percentage: Double) throws(EvaluationError) -> Bool {
        if percentage >= 100 { return true }
        if percentage <= 0 { return false }
        guard let key = context.targetingKey else { throw .targetingKeyMissing(flag.name) }
        return Double(Bucketing.bucket(key: key, flag: flag.name)) < percentage
    }

    private func on(
        _ flag: CompiledFlag,
        _ context: EvaluationContext,
        _ reason: Evaluation.Reason,
        cause: String?
    ) throws(EvaluationError) -> Evaluation {
        guard !flag.variants.isEmpty else {
            return Evaluation(flag: flag.name, enabled: true, variant: "on", value: .bool(true), reason: reason, version: flag.version, cause: cause)
        }
        let variant: CompiledVariant
        if flag.weighted.count == 1 {
            variant = flag.weighted[0]
        } else {
            guard let key = context.targetingKey else { throw .targetingKeyMissing(flag.name) }
            variant = Bucketing.pick(seed: Bucketing.variantSeed(key: key, flag: flag.name), variants: flag.weighted)!
        }
        return Evaluation(
            flag: flag.name,
            enabled: true,
            variant: variant.name,
            value: variant.value,
            reason: reason,
            version: flag.version,
            cause: cause
        )
    }

    private func off(_ flag: CompiledFlag, _ reason: Evaluation.Reason, cause: String?) -> Evaluation {
        if let variant = flag.offVariant {
            return Evaluation(
                flag: flag.name,
                enabled: false,
                variant: variant.name,
                value: variant.value,
                reason: reason,
                version: flag.version,
                cause: cause
            )
        }
        return Evaluation(
            flag: flag.name,
            enabled: false,
            variant: "off",
            value: flag.variants.isEmpty ? .bool(false) : nil,
            reason: reason,
            version: flag.version,
            cause: cause
        )
    }
}
