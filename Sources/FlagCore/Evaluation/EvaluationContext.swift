import Shared

/// Who a flag is evaluated for: the targeting key (the user id) and any attributes.
public struct EvaluationContext: Sendable {
    public var targetingKey: String?
    public var attributes: [String: JSONValue]

    public init(targetingKey: String?, attributes: [String: JSONValue] = [:]) {
        self.targetingKey = targetingKey
        self.attributes = attributes
    }

    /// An attribute; `targetingKey`, `user_id` and `key` fall back to the targeting key.
    func value(_ attribute: String) -> JSONValue? {
        if let value = attributes[attribute] { return value }
        switch attribute {
        case "targetingKey", "user_id", "key": return targetingKey.map(JSONValue.string)
        default: return nil
        }
    }
}
