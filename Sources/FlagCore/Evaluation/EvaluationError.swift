import Shared

/// Why a flag could not be evaluated.
public enum EvaluationError: Error, Sendable, Equatable {
    case flagNotFound(String)
    /// The flag needs a bucket (split or rollout) and the context has no targeting key.
    case targetingKeyMissing(String)
}
