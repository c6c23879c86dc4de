import Foundation
import Shared

/// A route table that cannot be used; the gateway refuses to start with it.
struct RouteTableError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
