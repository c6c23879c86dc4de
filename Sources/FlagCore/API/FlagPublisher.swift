import Foundation
import Logging
import Shared

/// Makes a committed change visible: applied to this instance's snapshot at once (a client
/// reads its own write here), then announced on `flags.changes` (a ``ChangeNotice``) so the
/// other instances read it from PostgreSQL.
///
/// Publishing is best effort: with Redis down the others catch up at their next full
/// reload (``FlagSyncService/Configuration/resyncInterval``).
struct FlagPublisher: Sendable {
    let store: FlagStore
    let redis: RedisClient
    let logger: Logger

    func publish(_ change: EntityChange) async {
        store.apply([change])
        do {
            _ = try await redis.publish(FlagSyncService.channel, Array(try JSONEncoder().encode(ChangeNotice(change))))
        } catch {
            logger.warning(
                "flag change not published; other instances catch up at their next reload",
                metadata: [
                    "flags.key": "\(change.name)", "flags.version": "\(change.version)", "error": "\(error)",
                ]
            )
        }
    }
}
