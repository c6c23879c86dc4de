import Logging
import Shared

/// Every flag and segment one instance knows, compiled for evaluation. Immutable: a change
/// builds a new snapshot, so an evaluation always sees one consistent state.
public final class FlagSnapshot: Sendable {
    /// Every entity, tombstones included, by kind and name.
    let entities: [EntityChange.Key: EntityChange]
    let compiled: [String: CompiledFlag]
    let segments: [String: CompiledSegment]
    let flagDefinitions: [String: FlagDefinition]
    let segmentDefinitions: [String: SegmentDefinition]
    /// The highest version held: changes whenever anything changes.
    let revision: Int64

    public static let empty = FlagSnapshot(entities: [:], previous: nil, changedSegments: true, logger: nil)

    private init(entities: [EntityChange.Key: EntityChange], previous: FlagSnapshot?, changedSegments: Bool, logger: Logger?) {
        var segmentDefinitions: [String: SegmentDefinition] = [:]
        var flagDefinitions: [String: FlagDefinition] = [:]
        for entity in entities.values where !entity.deleted {
            guard let json = entity.definition else { continue }
            // An entity at the version the previous snapshot held was validated then: only
            // what changed is parsed again, not every flag on every change.
            if let previous, previous.entities[entity.key]?.version == entity.version {
                switch entity.kind {
                case .flag: flagDefinitions[entity.name] = previous.flagDefinitions[entity.name]
                case .segment: segmentDefinitions[entity.name] = previous.segmentDefinitions[entity.name]
                }
                continue
            }
            do {
                switch entity.kind {
                case .flag: flagDefinitions[entity.name] = try FlagDefinition(json: json)
                case .segment: segmentDefinitions[entity.name] = try SegmentDefinition(json: json)
                }
            } catch {
                // Only a definition written by a newer release could fail here; skipping it
                // beats refusing the whole snapshot.
                logger?.error(
                    "stored definition not understood",
                    metadata: [
                        "flags.kind": "\(entity.kind.rawValue)", "flags.key": "\(entity.name)", "error": "\(error)",
                    ]
                )
            }
        }
        let segments =
            changedSegments || previous == nil
            ? segmentDefinitions.mapValues(CompiledSegment.init)
            : previous!.segments
        var compiled: [String: CompiledFlag] = [:]
        for (name, definition) in flagDefinitions {
            let version = entities[.init(kind: .flag, name: name)]!.version
            if !changedSegments, let old = previous?.compiled[name], old.version == version {
                compiled[name] = old
            } else {
                compiled[name] = CompiledFlag(definition, version: version, segments: segments)
            }
        }
        self.entities = entities
        self.compiled = compiled
        self.segments = segments
        self.flagDefinitions = flagDefinitions
        self.segmentDefinitions = segmentDefinitions
        self.revision = entities.values.map(\.version).max() ?? 0
    }

    /// This snapshot with every change newer than what it holds for that entity applied;
    /// also returns the changes that took. Older or repeated changes are ignored, so a full
    /// reload and late pub/sub messages can be applied in any order.
    public func applying(_ changes: [EntityChange], logger: Logger?) -> (FlagSnapshot, [EntityChange]) {
        var entities = self.entities
        var applied: [EntityChange] = []
        for change in changes.sorted(by: { $0.version < $1.version }) {
            if let held = entities[change.key], held.version >= change.version { continue }
            entities[change.key] = change
            applied.append(change)
        }
        guard !applied.isEmpty else { return (self, []) }
        let changedSegments = applied.contains { $0.kind == .segment }
        return (FlagSnapshot(entities: entities, previous: self, changedSegments: changedSegments, logger: logger), applied)
    }

    /// The version held of an entity, tombstones included; nil if never seen.
    func version(_ kind: EntityChange.Kind, _ name: String) -> Int64? {
        entities[.init(kind: kind, name: name)]?.version
    }

    /// A live (not deleted) entity.
    func entity(_ kind: EntityChange.Kind, _ name: String) -> EntityChange? {
        guard let entity = entities[.init(kind: kind, name: name)], !entity.deleted else { return nil }
        return entity
    }

    /// Live entities of a kind, by name.
    func entities(_ kind: EntityChange.Kind) -> [EntityChange] {
        entities.values.filter { $0.kind == kind && !$0.deleted }.sorted { $0.name < $1.name }
    }

    /// Flags whose rules name `segment`.
    func flags(usingSegment segment: String) -> [String] {
        flagDefinitions.values.filter { $0.segmentReferences.contains(segment) }.map(\.name).sorted()
    }

    /// Flags that list `flag` as a prerequisite.
    func flags(requiring flag: String) -> [String] {
        flagDefinitions.values.filter { $0.prerequisites.contains { $0.flagName == flag } }.map(\.name).sorted()
    }

    /// Whether giving `definition` its prerequisites would close a cycle.
    func closesPrerequisiteCycle(_ definition: FlagDefinition) -> Bool {
        var seen: Set<String> = []
        var pending = definition.prerequisites.map(\.flagName)
        while let name = pending.popLast() {
            if name == definition.name { return true }
            guard seen.insert(name).inserted else { continue }
            pending += flagDefinitions[name]?.prerequisites.map(\.flagName) ?? []
        }
        return false
    }
}
