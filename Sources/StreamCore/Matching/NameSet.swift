/// A set of names that a filter tests against: a short list is compared in place (faster
/// than hashing the name, for the one to a few types or tiers a filter usually lists), a
/// long one hashed.
struct NameSet: Sendable {
    private let names: [String]
    private let hashed: Set<String>?

    static let hashedAbove = 8

    init(_ names: [String]) {
        self.names = Array(Set(names))
        hashed = names.count > Self.hashedAbove ? Set(names) : nil
    }

    var isEmpty: Bool { names.isEmpty }
    var count: Int { names.count }
    var all: [String] { names }

    func contains(_ name: String) -> Bool {
        if let hashed { return hashed.contains(name) }
        for candidate in names where candidate == name { return true }
        return false
    }
}
