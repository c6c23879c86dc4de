import Shared

extension SegmentDefinition {
    static let fields: Set<String> = ["segment_name", "description", "included", "excluded", "conditions"]

    /// Validates a segment (a create body, or a stored one merged with an update).
    init(json: JSONValue) throws {
        let reader = try FieldReader(json)
        try reader.rejectUnknown(Self.fields, ignoring: FlagDefinition.readOnlyFields)
        name = try reader.name("segment_name")
        description = try reader.string("description") ?? ""
        guard description.count <= FlagDefinition.maxDescription else {
            throw reader.invalid("description", "must be at most \(FlagDefinition.maxDescription) characters")
        }
        func keys(_ field: String) throws -> [String] {
            try reader.array(field, maximum: 100_000).enumerated().map { index, item in
                guard case .string(let key) = item, !key.isEmpty, key.utf8.count <= 1024 else {
                    throw reader.invalid("\(field)[\(index)]", "must be a targeting key (1 to 1024 characters)")
                }
                return key
            }
        }
        included = try keys("included")
        excluded = try keys("excluded")
        conditions = try reader.array("conditions", maximum: 50).enumerated().map { index, item in
            try Condition(json: item, path: reader.field("conditions") + "[\(index)]", allowSegments: false)
        }
    }

    var json: JSONValue {
        [
            "segment_name": .string(name),
            "description": .string(description),
            "included": .array(included.map(JSONValue.string)),
            "excluded": .array(excluded.map(JSONValue.string)),
            "conditions": .array(conditions.map(\.json)),
        ]
    }
}
