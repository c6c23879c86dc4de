import NIOCore

/// Callers waiting for a connection, first come first served, each removable by its id.
///
/// Every operation is O(1) (amortised): a waiter that times out or is cancelled leaves only
/// its id behind in the order, skipped when it comes up and swept out once such ids
/// outnumber the live waiters, so a storm of timeouts never turns into a linear scan under
/// the pool's lock.
struct WaiterQueue<Element> {
    private var order = CircularBuffer<Int>()
    private var elements: [Int: Element] = [:]

    var count: Int { elements.count }
    var isEmpty: Bool { elements.isEmpty }

    mutating func append(_ element: Element, id: Int) {
        precondition(elements.updateValue(element, forKey: id) == nil, "waiter ids are unique")
        order.append(id)
    }

    mutating func popFirst() -> Element? {
        while let id = order.popFirst() {
            if let element = elements.removeValue(forKey: id) { return element }
        }
        return nil
    }

    mutating func remove(id: Int) -> Element? {
        guard let element = elements.removeValue(forKey: id) else { return nil }
        if order.count > 2 * elements.count + 64 {
            let live = elements
            order = CircularBuffer(order.filter { live[$0] != nil })
        }
        return element
    }

    /// Changes the waiter with `id` in place; false when it is no longer waiting.
    mutating func update(id: Int, _ body: (inout Element) -> Void) -> Bool {
        guard var element = elements[id] else { return false }
        body(&element)
        elements[id] = element
        return true
    }

    /// Takes every waiter, in arrival order.
    mutating func removeAll() -> [Element] {
        var all: [Element] = []
        all.reserveCapacity(elements.count)
        while let element = popFirst() { all.append(element) }
        order.removeAll()
        return all
    }
}

extension WaiterQueue: Sendable where Element: Sendable {}
