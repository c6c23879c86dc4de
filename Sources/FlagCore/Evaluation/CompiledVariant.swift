import Foundation
import Shared

/// A variant ready for evaluation: its name hashed once for ``Bucketing/pick(seed:variants:)``.
struct CompiledVariant: Sendable {
    let name: String
    let weight: Double
    let value: JSONValue
    let nameHash: UInt64
}
