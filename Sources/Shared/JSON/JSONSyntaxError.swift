/// A document that is not JSON: what went wrong and at which byte.
public struct JSONSyntaxError: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public let offset: Int
    public var description: String { "\(reason) at byte \(offset)" }
}
