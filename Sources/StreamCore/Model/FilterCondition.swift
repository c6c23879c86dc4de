import Shared

/// The optional `conditions` of a filter: a tree of `and`, `or` and `not` over tests of one
/// event field each, as sent and stored (``CompiledCondition`` is what matching runs).
///
/// JSON: `{"and": [c, …]}`, `{"or": [c, …]}`, `{"not": c}`, or a test
/// `{"field": "properties.region", "op": "eq", "value": "EU"}` (`in`/`not_in` take
/// `"values": […]`, `exists` takes neither). Values are strings, numbers or booleans.
indirect enum FilterCondition: Sendable, Equatable {
    case all([FilterCondition])
    case any([FilterCondition])
    case not(FilterCondition)
    case test(field: FieldPath, op: Operator, values: [ConditionScalar])

    enum Operator: String, Sendable, CaseIterable {
        case eq, neq, `in`
        case notIn = "not_in"
        case gt, gte, lt, lte, exists
        case startsWith = "starts_with"

        /// How many values the operator takes: nil for a list.
        var arity: Int? {
            switch self {
            case .in, .notIn: nil
            case .exists: 0
            default: 1
            }
        }
    }

    /// Bounds that keep one filter's cost small whatever is sent.
    static let maxDepth = 8
    static let maxNodes = 256
    static let maxValues = 1_000

    /// Parses and validates a tree; errors name the member by its path (`conditions.and[1].op`).
    init(json: JSONValue, path: String) throws {
        var nodes = 0
        self = try Self.parse(json, path: path, depth: 1, nodes: &nodes)
    }

    private static func parse(_ json: JSONValue, path: String, depth: Int, nodes: inout Int) throws -> FilterCondition {
        nodes += 1
        guard depth <= maxDepth else { throw JSONFieldError(field: path, "nests deeper than \(maxDepth) levels") }
        guard nodes <= maxNodes else { throw JSONFieldError(field: path, "the tree has more than \(maxNodes) nodes") }
        let reader = try FieldReader(json, path: path)
        for combinator in ["and", "or"] {
            guard reader.value(combinator) != nil else { continue }
            try reader.rejectUnknown([combinator])
            let items = try reader.array(combinator, maximum: maxNodes)
            guard !items.isEmpty else { throw reader.invalid(combinator, "must list at least one condition") }
            let children = try items.enumerated().map { index, item in
                try parse(item, path: reader.field(combinator) + "[\(index)]", depth: depth + 1, nodes: &nodes)
            }
            return combinator == "and" ? .all(children) : .any(children)
        }
        if let inner = reader.value("not") {
            try reader.rejectUnknown(["not"])
            return .not(try parse(inner, path: reader.field("not"), depth: depth + 1, nodes: &nodes))
        }
        try reader.rejectUnknown(["field", "op", "value", "values"])
        let field = try FieldPath(try reader.requiredString("field")) { reader.invalid("field", $0) }
        let opName = try reader.requiredString("op")
        guard let op = Operator(rawValue: opName) else {
            throw reader.invalid("op", "must be one of " + Operator.allCases.map(\.rawValue).joined(separator: ", "))
        }
        var values: [ConditionScalar] = []
        switch op.arity {
        case nil:
            guard reader.value("value") == nil else { throw reader.invalid("value", "\(op.rawValue) takes \"values\", a list") }
            guard reader.value("values") != nil else { throw reader.invalid("values", "is required") }
            let items = try reader.array("values", maximum: maxValues)
            guard !items.isEmpty else { throw reader.invalid("values", "must not be empty") }
            values = try items.enumerated().map { index, item in
                try ConditionScalar(item) { JSONFieldError(field: reader.field("values") + "[\(index)]", $0) }
            }
        case 0:
            guard reader.value("value") == nil, reader.value("values") == nil else {
                throw reader.invalid("value", "exists takes no value")
            }
        default:
            guard reader.value("values") == nil else { throw reader.invalid("values", "\(op.rawValue) takes one \"value\"") }
            guard let value = reader.value("value") else { throw reader.invalid("value", "is required") }
            let scalar = try ConditionScalar(value) { reader.invalid("value", $0) }
            switch op {
            case .gt, .gte, .lt, .lte:
                guard case .number = scalar else { throw reader.invalid("value", "\(op.rawValue) compares numbers") }
            case .startsWith:
                guard case .string = scalar else { throw reader.invalid("value", "starts_with takes a string") }
            default: break
            }
            values = [scalar]
        }
        return .test(field: field, op: op, values: values)
    }

    /// The tree as stored and shown.
    var json: JSONValue {
        switch self {
        case .all(let children): ["and": .array(children.map(\.json))]
        case .any(let children): ["or": .array(children.map(\.json))]
        case .not(let child): ["not": child.json]
        case .test(let field, let op, let values):
            switch op.arity {
            case nil: ["field": .string(field.text), "op": .string(op.rawValue), "values": .array(values.map(\.json))]
            case 0: ["field": .string(field.text), "op": .string(op.rawValue)]
            default: ["field": .string(field.text), "op": .string(op.rawValue), "value": values[0].json]
            }
        }
    }
}
