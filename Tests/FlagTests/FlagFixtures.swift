import Foundation
import Shared

@testable import FlagCore

/// Snapshots built from definitions as the API would store them.
enum Fixtures {
    static func snapshot(flags: [JSONValue], segments: [JSONValue] = []) throws -> FlagSnapshot {
        var version: Int64 = 0
        var changes: [EntityChange] = []
        for json in segments {
            let segment = try SegmentDefinition(json: json)
            version += 1
            changes.append(change(.segment, segment.name, version, segment.json))
        }
        for json in flags {
            let flag = try FlagDefinition(json: json)
            version += 1
            changes.append(change(.flag, flag.name, version, flag.json))
        }
        return FlagSnapshot.empty.applying(changes, logger: nil).0
    }

    static func change(_ kind: EntityChange.Kind, _ name: String, _ version: Int64, _ definition: JSONValue?) -> EntityChange {
        EntityChange(
            kind: kind,
            name: name,
            version: version,
            deleted: definition == nil,
            definition: definition,
            createdAt: "2026-01-01T00:00:00.000Z",
            updatedAt: "2026-01-01T00:00:00.000Z"
        )
    }

    static func evaluate(
        _ flag: String,
        in snapshot: FlagSnapshot,
        key: String? = "user1",
        _ attributes: [String: JSONValue] = [:],
        now: Date = Date()
    ) throws -> Evaluation {
        try FlagEvaluator(snapshot: snapshot, now: { now }).evaluate(flag, context: EvaluationContext(targetingKey: key, attributes: attributes))
    }

    static func rule(_ attribute: String, _ op: String, _ values: [JSONValue], serve: JSONValue = ["enabled": true]) -> JSONValue {
        ["conditions": [["attribute": .string(attribute), "operator": .string(op), "values": .array(values)]], "serve": serve]
    }
}
