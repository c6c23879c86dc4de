import Crypto
import HTTPTypes
import Shared

/// An idempotency key reused for a different event.
struct IdempotencyConflict: Error {}
