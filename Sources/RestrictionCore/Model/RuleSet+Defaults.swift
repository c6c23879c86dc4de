extension RuleSet {
    /// The design's events and rules:
    /// - `scam_message_flagged` twice or more ⇒ no `can_message`;
    /// - more than 2 (distinct) cards and distinct zip codes / cards > 0.75 ⇒ no `can_purchase`;
    /// - chargebacks / spend > 0.10 with spend > 0 ⇒ no `can_purchase`.
    public static let defaults: RuleSet = try! RuleSet(
        events: [
            EventDefinition("scam_message_flagged"),
            EventDefinition("credit_card_added", fields: [.init("card_id", .text), .init("zip_code", .text)]),
            EventDefinition("purchase_made", fields: [.init("amount", .amount)]),
            EventDefinition("chargeback_occurred", fields: [.init("amount", .amount)]),
        ],
        metrics: [
            MetricDefinition("scam_flags", event: "scam_message_flagged", kind: .count),
            MetricDefinition("cards", event: "credit_card_added", kind: .distinct(field: "card_id")),
            MetricDefinition("zip_codes", event: "credit_card_added", kind: .distinct(field: "zip_code")),
            MetricDefinition("spend", event: "purchase_made", kind: .sum(field: "amount")),
            MetricDefinition("chargebacks", event: "chargeback_occurred", kind: .sum(field: "amount")),
        ],
        rules: [
            RuleDefinition(
                "scam_messages",
                description: "Flagged for scam messages twice or more",
                conditions: [RuleCondition("scam_flags", .gte, 2)],
                clears: "can_message"
            ),
            RuleDefinition(
                "card_zip_spread",
                description: "More than 2 cards with distinct zip codes / cards above 0.75",
                conditions: [RuleCondition("cards", .gt, 2), RuleCondition("zip_codes", per: "cards", .gt, 0.75)],
                clears: "can_purchase"
            ),
            RuleDefinition(
                "chargeback_ratio",
                description: "Chargebacks above 10% of spend",
                conditions: [RuleCondition("spend", .gt, 0), RuleCondition("chargebacks", per: "spend", .gt, 0.10)],
                clears: "can_purchase"
            ),
        ]
    )
}
