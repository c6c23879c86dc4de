/// Every filter of the instance, filed so that an event only meets the filters that can
/// match it.
///
/// Each filter is filed under one dimension, the narrowest it has, in this order: an
/// equality its `conditions` require (`{"field":"properties.sku","op":"in",…}` files it under
/// each listed value of that field); else its event types × user tiers when both are listed
/// and that makes at most ``maxPairs`` keys; else its event types; else its tiers. A filter
/// with none of these (it wants every event, or only ranges and negations) is checked
/// against every event. An event looks up one key per dimension in use, so it finds each
/// filter at most once, and pays for the filters filed under its own values, not for the
/// others.
struct FilterIndex: Sendable {
    enum Key: Hashable, Sendable {
        case typeAndTier(String, String)
        case value(FieldPath, ConditionScalar)
    }

    static let maxPairs = 32

    /// A filter filed under a key, and whether finding it there proves its conditions (they
    /// are the one equality it is filed by).
    struct Entry: Sendable {
        let filter: CompiledFilter
        let conditionHolds: Bool
    }

    let filters: [CompiledFilter]
    private let buckets: [Key: [Entry]]
    private let unindexed: [CompiledFilter]
    private let usesTypeAndTier: Bool
    /// The fields filed under by value, event type and tier included when used.
    private let valueFields: [FieldPath]

    init(_ filters: [CompiledFilter]) {
        var buckets: [Key: [Entry]] = [:]
        var unindexed: [CompiledFilter] = []
        var fields = Set<FieldPath>()
        var usesTypeAndTier = false
        for filter in filters {
            if let condition = filter.condition, let (field, values) = condition.requiredEquality {
                fields.insert(field)
                let entry = Entry(filter: filter, conditionHolds: condition.kind == .eq || condition.kind == .in)
                for value in values { buckets[.value(field, value), default: []].append(entry) }
            } else if !filter.eventTypes.isEmpty, !filter.userTiers.isEmpty,
                filter.eventTypes.count * filter.userTiers.count <= Self.maxPairs
            {
                usesTypeAndTier = true
                let entry = Entry(filter: filter, conditionHolds: false)
                for type in filter.eventTypes.all {
                    for tier in filter.userTiers.all { buckets[.typeAndTier(type, tier), default: []].append(entry) }
                }
            } else if !filter.eventTypes.isEmpty {
                fields.insert(.eventType)
                let entry = Entry(filter: filter, conditionHolds: false)
                for type in filter.eventTypes.all { buckets[.value(.eventType, .string(type)), default: []].append(entry) }
            } else if !filter.userTiers.isEmpty {
                fields.insert(.userTier)
                let entry = Entry(filter: filter, conditionHolds: false)
                for tier in filter.userTiers.all { buckets[.value(.userTier, .string(tier)), default: []].append(entry) }
            } else {
                unindexed.append(filter)
            }
        }
        self.filters = filters
        self.buckets = buckets
        self.unindexed = unindexed
        self.usesTypeAndTier = usesTypeAndTier
        self.valueFields = Array(fields)
    }

    var count: Int { filters.count }

    /// Calls `body` with every filter that matches `event`, each once.
    func forEachMatch(_ event: StreamEvent, _ body: (CompiledFilter) -> Void) {
        func visit(_ key: Key) {
            guard let bucket = buckets[key] else { return }
            for entry in bucket where entry.filter.matches(event, conditionHolds: entry.conditionHolds) { body(entry.filter) }
        }
        if usesTypeAndTier { visit(.typeAndTier(event.eventType, event.userTier)) }
        for field in valueFields {
            if let value = event.scalar(field) { visit(.value(field, value)) }
        }
        for filter in unindexed where filter.matches(event) { body(filter) }
    }

    /// The same answer by checking every filter: the baseline the matching bench compares with.
    func forEachMatchScanning(_ event: StreamEvent, _ body: (CompiledFilter) -> Void) {
        for filter in filters where filter.matches(event) { body(filter) }
    }
}
