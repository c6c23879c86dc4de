import Foundation
import Shared

/// The event catalog, the per-user metrics and the rules over them: all data, so a new rule
/// of the same kinds (thresholds on counts, sums, distinct counts and their ratios) needs a
/// rules file, not code. ``RuleSet/defaults`` are the three rules of the design.
public struct RuleSet: Sendable, Equatable {
    var events: [EventDefinition]
    var metrics: [MetricDefinition]
    var rules: [RuleDefinition]

    /// Checked: every reference resolves, names are unique and key-safe.
    init(events: [EventDefinition], metrics: [MetricDefinition], rules: [RuleDefinition]) throws(RuleSetError) {
        self.events = events
        self.metrics = metrics
        self.rules = rules
        try validate()
    }

    func event(_ name: String) -> EventDefinition? { events.first { $0.name == name } }

    /// The metrics an event updates, in definition order.
    func metrics(updatedBy event: String) -> [MetricDefinition] { metrics.filter { $0.event == event } }

    /// The rules to check after an event: those reading a metric it updates.
    func rules(affectedBy event: String) -> [RuleDefinition] {
        let updated = Set(metrics(updatedBy: event).map(\.name))
        return rules.filter { rule in rule.conditions.contains { updated.contains($0.metric) || $0.per.map(updated.contains) == true } }
    }

    /// Names become parts of Redis keys and metric labels.
    private static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first), bytes.count <= 64 else { return false }
        return bytes.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "_")
        }
    }

    private func validate() throws(RuleSetError) {
        func checkName(_ name: String, _ what: String) throws(RuleSetError) {
            guard Self.isValidName(name) else {
                throw RuleSetError("\(what) '\(name)': names are lower-case letters, digits and _ (at most 64)")
            }
        }
        func checkUnique(_ names: [String], _ what: String) throws(RuleSetError) {
            var seen = Set<String>()
            for name in names where !seen.insert(name).inserted { throw RuleSetError("\(what) '\(name)' is defined twice") }
        }
        try checkUnique(events.map(\.name), "event")
        try checkUnique(metrics.map(\.name), "metric")
        try checkUnique(rules.map(\.name), "rule")
        for event in events {
            try checkName(event.name, "event")
            for field in event.fields where field.name == "user_id" {
                throw RuleSetError("event '\(event.name)': user_id is implicit, do not list it")
            }
        }
        for metric in metrics {
            try checkName(metric.name, "metric")
            guard let event = event(metric.event) else { throw RuleSetError("metric '\(metric.name)': no event '\(metric.event)'") }
            switch metric.kind {
            case .count: break
            case .sum(let field):
                guard event.fields.contains(where: { $0.name == field && $0.type == .amount }) else {
                    throw RuleSetError("metric '\(metric.name)': '\(metric.event)' has no amount field '\(field)'")
                }
            case .distinct(let field):
                guard event.fields.contains(where: { $0.name == field }) else {
                    throw RuleSetError("metric '\(metric.name)': '\(metric.event)' has no field '\(field)'")
                }
            }
        }
        let metricNames = Set(metrics.map(\.name))
        for rule in rules {
            try checkName(rule.name, "rule")
            try checkName(rule.clears, "access")
            guard !rule.conditions.isEmpty else { throw RuleSetError("rule '\(rule.name)' has no conditions") }
            for condition in rule.conditions {
                for metric in [condition.metric] + (condition.per.map { [$0] } ?? []) where !metricNames.contains(metric) {
                    throw RuleSetError("rule '\(rule.name)': no metric '\(metric)'")
                }
                guard condition.value.isFinite else { throw RuleSetError("rule '\(rule.name)': thresholds are finite numbers") }
            }
        }
    }
}
