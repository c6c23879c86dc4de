import NIOConcurrencyHelpers

/// The instance's copy of every filter, what the API reads and the workers match with.
///
/// Changes apply per subscriber by version (a higher version wins, tombstones keep deletes
/// deleted), so the order and repetition of notices do not matter. The match index is built
/// again on first use after a change, not per change: a burst of writes costs one build.
final class FilterStore: Sendable {
    private struct State {
        var records: [String: FilterRecord] = [:]
        var index: FilterIndex?
        var loaded = false
        var revision: Int64 = 0
    }

    private let state = NIOLockedValueBox(State())
    /// Called with the subscribers whose filters were deleted, after they are.
    private let onDelete: @Sendable ([String]) -> Void

    init(onDelete: @escaping @Sendable ([String]) -> Void = { _ in }) {
        self.onDelete = onDelete
    }

    /// Whether the first full load is done: until then nothing is matched.
    var isLoaded: Bool { state.withLockedValue { $0.loaded } }

    /// Applies what is newer than what is held; returns the records that changed.
    @discardableResult
    func apply(_ records: [FilterRecord], fullLoad: Bool = false) -> [FilterRecord] {
        let changed: [FilterRecord] = state.withLockedValue { state in
            var changed: [FilterRecord] = []
            for record in records {
                if let held = state.records[record.subscriberID], held.version >= record.version { continue }
                state.records[record.subscriberID] = record
                changed.append(record)
            }
            if fullLoad { state.loaded = true }
            if !changed.isEmpty {
                state.index = nil
                state.revision += 1
            }
            return changed
        }
        let deleted = changed.filter(\.deleted).map(\.subscriberID)
        if !deleted.isEmpty { onDelete(deleted) }
        return changed
    }

    /// The live filter of `subscriberID`, nil when there is none (or it was deleted).
    func record(_ subscriberID: String) -> FilterRecord? {
        state.withLockedValue { $0.records[subscriberID] }.flatMap { $0.deleted ? nil : $0 }
    }

    func version(_ subscriberID: String) -> Int64? {
        state.withLockedValue { $0.records[subscriberID]?.version }
    }

    /// Every live filter, by subscriber id, and the revision that changes with any of them.
    func list() -> (records: [FilterRecord], revision: Int64) {
        state.withLockedValue { state in
            (state.records.values.filter { !$0.deleted }.sorted { $0.subscriberID < $1.subscriberID }, state.revision)
        }
    }

    /// The index of the live filters, built once per change.
    var index: FilterIndex {
        state.withLockedValue { state in
            if let index = state.index { return index }
            let index = FilterIndex(state.records.values.compactMap { $0.filter.map(CompiledFilter.init) })
            state.index = index
            return index
        }
    }
}
