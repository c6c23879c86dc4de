/// One subscriber's filter, ready to match.
final class CompiledFilter: Sendable {
    let subscriberID: String
    /// Empty: any.
    let eventTypes: Set<String>
    /// Empty: any.
    let userTiers: Set<String>
    let minAmount: Double?
    let condition: CompiledCondition?

    init(_ filter: SubscriberFilter) {
        subscriberID = filter.subscriberID
        eventTypes = Set(filter.eventTypes)
        userTiers = Set(filter.userTiers)
        minAmount = filter.minAmount
        condition = filter.conditions.map(CompiledCondition.init)
    }

    /// Every part must hold; an event without an amount fails a `min_amount`.
    func matches(_ event: MatchEvent) -> Bool {
        if !eventTypes.isEmpty, !eventTypes.contains(event.eventType) { return false }
        if !userTiers.isEmpty, !userTiers.contains(event.userTier) { return false }
        if let minAmount {
            guard let amount = event.amount, amount >= minAmount else { return false }
        }
        if let condition, !condition.holds(event) { return false }
        return true
    }
}
