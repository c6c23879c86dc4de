import NIOConcurrencyHelpers

/// In-process GCRA cells (one theoretical arrival time per key) in bounded memory.
///
/// Keys are spread over shards, each with its own lock, so concurrent requests rarely wait
/// on each other. Each shard keeps two generations: lookups read the current one, then the
/// previous one (moving a hit forward); when the current one is full it becomes the previous
/// one and the oldest generation is dropped whole. So memory stays within `capacity` cells,
/// the least recently used go first, and no request ever pays for a sweep of the table.
public final class CellTable: Sendable {
    private struct Shard {
        var current: [String: Int64] = [:]
        var previous: [String: Int64] = [:]
    }

    private let shards: [NIOLockedValueBox<Shard>]
    private let perGeneration: Int

    /// - Parameter capacity: cells kept at most (at least 2 per shard).
    public init(capacity: Int = 100_000, shards count: Int = 16) {
        let count = max(1, count)
        shards = (0..<count).map { _ in NIOLockedValueBox(Shard()) }
        perGeneration = max(1, capacity / count / 2)
    }

    /// Runs the GCRA for `key` at `now` and stores the new arrival time.
    public func evaluate(_ key: String, now: Int64, emission: Int64, tolerance: Int64, cost: Int64 = 1) -> GCRA.Result {
        shard(for: key).withLockedValue { shard in
            let stored = shard.current[key] ?? shard.previous.removeValue(forKey: key)
            let result = GCRA.evaluate(tat: stored, now: now, emission: emission, tolerance: tolerance, cost: cost)
            if shard.current[key] == nil, shard.current.count >= perGeneration {
                shard.previous = shard.current
                shard.current = [:]
                shard.current.reserveCapacity(perGeneration)
            }
            shard.current[key] = result.newTAT
            return result
        }
    }

    /// The GCRA's answer for `key` at `now` without taking a cell: would a request pass?
    public func peek(_ key: String, now: Int64, emission: Int64, tolerance: Int64) -> GCRA.Result {
        shard(for: key).withLockedValue { shard in
            GCRA.evaluate(tat: shard.current[key] ?? shard.previous[key], now: now, emission: emission, tolerance: tolerance)
        }
    }

    /// Cells held now, for tests and metrics.
    public var count: Int {
        shards.reduce(0) { total, shard in total + shard.withLockedValue { $0.current.count + $0.previous.count } }
    }

    private func shard(for key: String) -> NIOLockedValueBox<Shard> {
        var hasher = Hasher()
        hasher.combine(key)
        return shards[Int(UInt(bitPattern: hasher.finalize()) % UInt(shards.count))]
    }
}
