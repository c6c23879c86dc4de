/// A reusable audience: rules refer to it with `in_segment` / `not_in_segment`.
///
/// A context is in the segment when its targeting key is `included`, or it is not
/// `excluded` and every condition holds (a segment without conditions matches only its
/// `included` keys).
struct SegmentDefinition: Sendable, Equatable {
    var name: String
    var description: String
    var included: [String]
    var excluded: [String]
    var conditions: [Condition]
}
