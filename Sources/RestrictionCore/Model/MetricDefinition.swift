import Foundation
import Shared

/// A per-user aggregate of one event: how many, the sum of an amount, or how many distinct
/// values of a field.
struct MetricDefinition: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        case count
        case sum(field: String)
        case distinct(field: String)
    }

    var name: String
    var event: String
    var kind: Kind

    init(_ name: String, event: String, kind: Kind) {
        self.name = name
        self.event = event
        self.kind = kind
    }
}
