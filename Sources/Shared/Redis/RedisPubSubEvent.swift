import CHiredis
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import ServiceLifecycle

/// What a ``RedisSubscriber`` delivers.
public enum RedisPubSubEvent: Sendable, Equatable {
    /// Every channel and pattern is subscribed (again, after a reconnect).
    case subscribed
    /// A message; `pattern` is set for messages matched by PSUBSCRIBE.
    case message(channel: String, pattern: String?, payload: [UInt8])
    /// The connection is lost; the subscriber is reconnecting with backoff.
    case disconnected(reason: String)
}
