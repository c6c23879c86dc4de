import Foundation
import Shared

extension FlagDefinition {
    /// Fields the API shows but never takes: sending a read definition back is fine.
    static let readOnlyFields: Set<String> = ["version", "created_at", "updated_at"]
    static let fields: Set<String> = [
        "flag_name", "status", "rollout_percentage", "description", "variants", "off_variant",
        "rules", "prerequisites", "enable_at", "disable_at", "killed",
    ]
    static let maxVariants = 100
    static let maxRules = 200
    static let maxDescription = 2000

    /// Validates a definition (a create body, or a stored definition merged with an update).
    /// Throws 422 naming the first offending field.
    public init(json: JSONValue) throws {
        let reader = try FieldReader(json)
        try reader.rejectUnknown(Self.fields, ignoring: Self.readOnlyFields)
        name = try reader.name("flag_name")
        status = try reader.bool("status") ?? true
        rolloutPercentage = try reader.percentage("rollout_percentage") ?? 100
        description = try reader.string("description") ?? ""
        guard description.count <= Self.maxDescription else {
            throw reader.invalid("description", "must be at most \(Self.maxDescription) characters")
        }
        killed = try reader.bool("killed") ?? false
        enableAt = try reader.timestamp("enable_at")
        disableAt = try reader.timestamp("disable_at")
        if let enableAt, let disableAt, disableAt <= enableAt {
            throw reader.invalid("disable_at", "must be later than enable_at")
        }

        variants = try reader.array("variants", maximum: Self.maxVariants).enumerated().map { index, item in
            let variant = try FieldReader(item, path: reader.field("variants") + "[\(index)]")
            try variant.rejectUnknown(["name", "weight", "value"])
            guard let value = variant.value("value") else { throw variant.invalid("value", "is required") }
            let weight = try variant.number("weight") ?? 1
            guard weight >= 0 else { throw variant.invalid("weight", "must not be negative") }
            return Variant(name: try variant.name("name", maximum: 64), weight: weight, value: value)
        }
        let variantNames = Set(variants.map(\.name))
        guard variantNames.count == variants.count else { throw reader.invalid("variants", "variant names must be unique") }
        if !variants.isEmpty, !variants.contains(where: { $0.weight > 0 }) {
            throw reader.invalid("variants", "at least one variant needs a positive weight")
        }
        offVariant = try reader.string("off_variant")
        if let offVariant, !variantNames.contains(offVariant) {
            throw reader.invalid("off_variant", "names no variant of this flag")
        }

        rules = try reader.array("rules", maximum: Self.maxRules).enumerated().map { index, item in
            try Rule(json: item, path: reader.field("rules") + "[\(index)]", variants: variantNames)
        }
        prerequisites = try reader.array("prerequisites", maximum: 20).enumerated().map { index, item in
            let prerequisite = try FieldReader(item, path: reader.field("prerequisites") + "[\(index)]")
            try prerequisite.rejectUnknown(["flag_name", "variant"])
            return Prerequisite(flagName: try prerequisite.name("flag_name"), variant: try prerequisite.string("variant"))
        }
        if prerequisites.contains(where: { $0.flagName == name }) {
            throw reader.invalid("prerequisites", "a flag cannot require itself")
        }
    }

    /// The stored and shown form.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "flag_name": .string(name),
            "status": .bool(status),
            "rollout_percentage": .number(rolloutPercentage),
            "description": .string(description),
            "killed": .bool(killed),
            "variants": .array(variants.map { ["name": .string($0.name), "weight": .number($0.weight), "value": $0.value] }),
            "off_variant": offVariant.map(JSONValue.string) ?? .null,
            "rules": .array(rules.map(\.json)),
            "prerequisites": .array(
                prerequisites.map {
                    var prerequisite: [String: JSONValue] = ["flag_name": .string($0.flagName)]
                    if let variant = $0.variant { prerequisite["variant"] = .string(variant) }
                    return .object(prerequisite)
                }
            ),
        ]
        object["enable_at"] = enableAt.map { .string(Timestamp.iso8601($0)) } ?? .null
        object["disable_at"] = disableAt.map { .string(Timestamp.iso8601($0)) } ?? .null
        return .object(object)
    }
}

extension FlagDefinition.Rule {
    init(json: JSONValue, path: String, variants: Set<String>) throws {
        let reader = try FieldReader(json, path: path)
        try reader.rejectUnknown(["name", "conditions", "serve"])
        name = try reader.string("name")
        let conditions = try reader.array("conditions", maximum: 50)
        guard !conditions.isEmpty else { throw reader.invalid("conditions", "a rule needs at least one condition") }
        self.conditions = try conditions.enumerated().map { index, item in
            try Condition(json: item, path: reader.field("conditions") + "[\(index)]", allowSegments: true)
        }
        guard let serveValue = reader.value("serve") else { throw reader.invalid("serve", "is required") }
        let serve = try FieldReader(serveValue, path: reader.field("serve"))
        try serve.rejectUnknown(["enabled", "variant", "rollout_percentage"])
        let choices = [serve.value("enabled"), serve.value("variant"), serve.value("rollout_percentage")].compactMap { $0 }
        guard choices.count == 1 else {
            throw reader.invalid("serve", "must have exactly one of enabled, variant, rollout_percentage")
        }
        if let enabled = try serve.bool("enabled") {
            self.serve = .enabled(enabled)
        } else if let variant = try serve.string("variant") {
            guard variants.contains(variant) else { throw serve.invalid("variant", "names no variant of this flag") }
            self.serve = .variant(variant)
        } else {
            self.serve = .rollout(try serve.percentage("rollout_percentage")!)
        }
    }

    var json: JSONValue {
        var object: [String: JSONValue] = ["conditions": .array(conditions.map(\.json))]
        if let name { object["name"] = .string(name) }
        switch serve {
        case .enabled(let enabled): object["serve"] = ["enabled": .bool(enabled)]
        case .variant(let variant): object["serve"] = ["variant": .string(variant)]
        case .rollout(let percentage): object["serve"] = ["rollout_percentage": .number(percentage)]
        }
        return .object(object)
    }
}

extension Condition {
    init(json: JSONValue, path: String, allowSegments: Bool) throws {
        let reader = try FieldReader(json, path: path)
        try reader.rejectUnknown(["attribute", "operator", "values"])
        let name = try reader.requiredString("operator")
        guard let op = Operator(rawValue: name) else {
            throw reader.invalid("operator", "must be one of " + Operator.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self.op = op
        values = try reader.array("values", maximum: 10_000)
        guard !values.isEmpty else { throw reader.invalid("values", "needs at least one value") }
        if op.takesOneValue, values.count != 1 { throw reader.invalid("values", "\(name) takes exactly one value") }
        if op.isSegment {
            guard allowSegments else { throw reader.invalid("operator", "segments cannot refer to segments") }
            attribute = nil
            for (index, value) in values.enumerated() {
                guard case .string(let segment) = value else { throw reader.invalid("values[\(index)]", "must be a segment name") }
                try FieldReader.checkName(segment) { reader.invalid("values[\(index)]", $0) }
            }
            return
        }
        let attribute = try reader.requiredString("attribute")
        guard !attribute.isEmpty, attribute.utf8.count <= 256 else { throw reader.invalid("attribute", "must be 1 to 256 characters") }
        self.attribute = attribute
        for (index, value) in values.enumerated() {
            let field = "values[\(index)]"
            switch op {
            case .gt, .gte, .lt, .lte:
                guard let number = value.double, number.isFinite else { throw reader.invalid(field, "must be a finite number") }
            case .semverGt, .semverLt:
                guard case .string(let text) = value, SemanticVersion(text) != nil else {
                    throw reader.invalid(field, "must be a semantic version such as 1.4.0")
                }
            case .before, .after:
                guard ConditionValue.date(value) != nil else {
                    throw reader.invalid(field, "must be an RFC 3339 timestamp or epoch seconds")
                }
            default:
                guard ConditionValue.text(value) != nil else { throw reader.invalid(field, "must be a string, number or boolean") }
            }
        }
    }

    var json: JSONValue {
        var object: [String: JSONValue] = ["operator": .string(op.rawValue), "values": .array(values)]
        if let attribute { object["attribute"] = .string(attribute) }
        return .object(object)
    }
}
