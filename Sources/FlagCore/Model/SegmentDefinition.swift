/// A reusable audience: rules refer to it with `in_segment` / `not_in_segment`.
///
/// A context is in the segment when its targeting key is `included`, or it is not
/// `excluded` and every condition holds (a segment without conditions matches only its
/// `included` keys).
public struct SegmentDefinition: Sendable, Equatable {
    public var name: String
    public var description: String
    public var included: [String]
    public var excluded: [String]
    public var conditions: [Condition]
}
