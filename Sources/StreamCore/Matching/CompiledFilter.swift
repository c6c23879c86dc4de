/// One subscriber's filter, ready to match.
final class CompiledFilter: Sendable {
    let subscriberID: String
    /// Empty: any.
    let eventTypes: NameSet
    /// Empty: any.
    let userTiers: NameSet
    let minAmount: Double?
    let condition: CompiledCondition?

    init(_ filter: SubscriberFilter) {
        subscriberID = filter.subscriberID
        eventTypes = NameSet(filter.eventTypes)
        userTiers = NameSet(filter.userTiers)
        minAmount = filter.minAmount
        condition = filter.conditions.map(CompiledCondition.init)
    }

    /// Every part must hold; an event without an amount fails a `min_amount`.
    /// - Parameter conditionHolds: the caller knows the conditions hold (the index found the
    ///   filter under the one test its conditions are).
    func matches(_ event: StreamEvent, conditionHolds: Bool = false) -> Bool {
        if !eventTypes.isEmpty, !eventTypes.contains(event.eventType) { return false }
        if !userTiers.isEmpty, !userTiers.contains(event.userTier) { return false }
        if let minAmount {
            guard let amount = event.amount, amount >= minAmount else { return false }
        }
        if !conditionHolds, let condition, !condition.holds(event) { return false }
        return true
    }
}
