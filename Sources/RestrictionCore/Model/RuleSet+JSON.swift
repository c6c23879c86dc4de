import Shared

/// The rules file (`RESTRICTIONS_RULES_FILE`) and `GET /rules` share this form:
///
/// ```json
/// {"events": [{"name": "purchase_made", "fields": {"amount": "amount"}}],
///  "metrics": [{"name": "spend", "event": "purchase_made", "kind": "sum", "field": "amount"}],
///  "rules": [{"name": "…", "description": "…", "clears": "can_purchase",
///             "when": [{"metric": "chargebacks", "per": "spend", "op": ">", "value": 0.1}]}]}
/// ```
extension RuleSet {
    init(json: JSONValue) throws(RuleSetError) {
        func array(_ value: JSONValue?, _ what: String) throws(RuleSetError) -> [JSONValue] {
            guard case .array(let items)? = value else { throw RuleSetError("'\(what)' must be an array") }
            return items
        }
        func string(_ value: JSONValue?, _ what: String) throws(RuleSetError) -> String {
            guard case .string(let text)? = value else { throw RuleSetError("'\(what)' must be a string") }
            return text
        }
        var events: [EventDefinition] = []
        for item in try array(json["events"], "events") {
            var fields: [EventDefinition.Field] = []
            if case .object(let declared)? = item["fields"] {
                for name in declared.keys.sorted() {
                    guard case .string(let type) = declared[name]!, let fieldType = EventDefinition.Field.FieldType(rawValue: type) else {
                        throw RuleSetError("event field '\(name)': type is \"text\" or \"amount\"")
                    }
                    fields.append(.init(name, fieldType))
                }
            }
            events.append(EventDefinition(try string(item["name"], "events[].name"), fields: fields))
        }
        var metrics: [MetricDefinition] = []
        for item in try array(json["metrics"], "metrics") {
            let name = try string(item["name"], "metrics[].name")
            let kind: MetricDefinition.Kind =
                switch try string(item["kind"], "metrics[].kind") {
                case "count": .count
                case "sum": .sum(field: try string(item["field"], "metrics[].field"))
                case "distinct": .distinct(field: try string(item["field"], "metrics[].field"))
                default: throw RuleSetError("metric '\(name)': kind is count, sum or distinct")
                }
            metrics.append(MetricDefinition(name, event: try string(item["event"], "metrics[].event"), kind: kind))
        }
        var rules: [RuleDefinition] = []
        for item in try array(json["rules"], "rules") {
            let name = try string(item["name"], "rules[].name")
            var conditions: [RuleCondition] = []
            for condition in try array(item["when"], "rules[].when") {
                guard let op = RuleCondition.Operator(rawValue: try string(condition["op"], "when[].op")) else {
                    throw RuleSetError("rule '\(name)': op is one of > >= < <=")
                }
                guard let value = condition["value"]?.double else { throw RuleSetError("rule '\(name)': value must be a number") }
                let per: String? = if condition["per"] == nil { nil } else { try string(condition["per"], "when[].per") }
                conditions.append(RuleCondition(try string(condition["metric"], "when[].metric"), per: per, op, value))
            }
            let description: String = if case .string(let text)? = item["description"] { text } else { "" }
            rules.append(RuleDefinition(name, description: description, conditions: conditions, clears: try string(item["clears"], "rules[].clears")))
        }
        try self.init(events: events, metrics: metrics, rules: rules)
    }

    var json: JSONValue {
        [
            "events": .array(
                events.map { event in
                    [
                        "name": .string(event.name),
                        "fields": .object(Dictionary(uniqueKeysWithValues: event.fields.map { ($0.name, .string($0.type.rawValue)) })),
                    ]
                }
            ),
            "metrics": .array(metrics.map(\.json)),
            "rules": .array(rules.map(\.json)),
        ]
    }
}

extension MetricDefinition {
    var json: JSONValue {
        var object: [String: JSONValue] = ["name": .string(name), "event": .string(event)]
        switch kind {
        case .count: object["kind"] = "count"
        case .sum(let field):
            object["kind"] = "sum"
            object["field"] = .string(field)
        case .distinct(let field):
            object["kind"] = "distinct"
            object["field"] = .string(field)
        }
        return .object(object)
    }
}

extension RuleDefinition {
    var json: JSONValue {
        [
            "name": .string(name),
            "description": .string(description),
            "clears": .string(clears),
            "when": .array(
                conditions.map { condition in
                    var object: [String: JSONValue] = [
                        "metric": .string(condition.metric), "op": .string(condition.op.rawValue), "value": .number(condition.value),
                    ]
                    if let per = condition.per { object["per"] = .string(per) }
                    return .object(object)
                }
            ),
        ]
    }
}
