import Foundation
import Shared

/// A rules file that does not hold together; the message says where.
struct RuleSetError: Error, CustomStringConvertible, Equatable {
    let description: String
    init(_ description: String) { self.description = description }
}
