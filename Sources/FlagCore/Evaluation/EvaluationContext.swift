import Foundation
import Shared

/// Who a flag is evaluated for: the targeting key (the user id) and any attributes.
public struct EvaluationContext: Sendable {
    let targetingKey: String?
    /// Attribute names, their hashes and values side by side. Every condition reads one
    /// attribute, so lookups dominate evaluation: scanning a few precomputed 64-bit hashes
    /// (the condition's is computed at snapshot build) costs a fraction of a dictionary's
    /// SipHash of the name per read.
    private let names: [String]
    private let hashes: [UInt64]
    private let values: [JSONValue]

    public init(targetingKey: String?, attributes: [String: JSONValue] = [:]) {
        self.targetingKey = targetingKey
        names = Array(attributes.keys)
        hashes = names.map(Bucketing.fnv1a)
        values = names.map { attributes[$0]! }
    }

    /// An attribute by name and ``Bucketing/fnv1a(_:)`` hash; `targetingKey`, `user_id`
    /// and `key` fall back to the targeting key.
    func value(_ attribute: String, hash: UInt64) -> JSONValue? {
        for index in hashes.indices where hashes[index] == hash && names[index] == attribute {
            return values[index]
        }
        switch attribute {
        case "targetingKey", "user_id", "key": return targetingKey.map(JSONValue.string)
        default: return nil
        }
    }
}
