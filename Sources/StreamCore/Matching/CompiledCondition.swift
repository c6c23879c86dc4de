/// A condition tree with its operands prepared once, when the filter set is built.
///
/// A class of plain fields rather than an enum with payloads: walking the tree then copies
/// one reference per node, and a test is a switch, a field lookup and a comparison, with
/// nothing allocated.
final class CompiledCondition: Sendable {
    enum Kind: Sendable { case all, any, not, eq, neq, `in`, notIn, gt, gte, lt, lte, exists, startsWith }

    let kind: Kind
    let children: [CompiledCondition]
    let field: FieldPath
    /// The one operand of `eq`/`neq`.
    let operand: ConditionScalar?
    /// The operands of `in`/`not_in`: a short list compared in place, a long one hashed.
    let operands: [ConditionScalar]
    let hashedOperands: Set<ConditionScalar>?
    /// The bound of `gt`/`gte`/`lt`/`lte`.
    let bound: Double
    let prefix: String

    init(_ condition: FilterCondition) {
        var children: [CompiledCondition] = []
        var field = FieldPath.eventType
        var values: [ConditionScalar] = []
        switch condition {
        case .all(let items):
            kind = .all
            children = items.map(CompiledCondition.init)
        case .any(let items):
            kind = .any
            children = items.map(CompiledCondition.init)
        case .not(let item):
            kind = .not
            children = [CompiledCondition(item)]
        case .test(let path, let op, let operands):
            field = path
            values = operands
            kind =
                switch op {
                case .eq: .eq
                case .neq: .neq
                case .in: .in
                case .notIn: .notIn
                case .gt: .gt
                case .gte: .gte
                case .lt: .lt
                case .lte: .lte
                case .exists: .exists
                case .startsWith: .startsWith
                }
        }
        self.children = children
        self.field = field
        operand = values.first
        operands = Array(Set(values))
        hashedOperands = values.count > 8 ? Set(values) : nil
        if case .number(let number)? = values.first { bound = number } else { bound = .nan }
        if case .string(let text)? = values.first { prefix = text } else { prefix = "" }
    }

    /// Whether the condition holds for `event`. A test of an absent field (or of an array or
    /// object, which only `exists` looks at) is false, for the negated operators too.
    func holds(_ event: StreamEvent) -> Bool {
        switch kind {
        case .all:
            for child in children where !child.holds(event) { return false }
            return true
        case .any:
            for child in children where child.holds(event) { return true }
            return false
        case .not:
            return !children[0].holds(event)
        case .exists:
            return event.value(field) != nil
        default:
            guard let value = event.scalar(field) else { return false }
            switch kind {
            case .eq: return value == operand
            case .neq: return value != operand
            case .in: return isOperand(value)
            case .notIn: return !isOperand(value)
            case .gt, .gte, .lt, .lte:
                guard case .number(let number) = value else { return false }
                switch kind {
                case .gt: return number > bound
                case .gte: return number >= bound
                case .lt: return number < bound
                default: return number <= bound
                }
            case .startsWith:
                guard case .string(let text) = value else { return false }
                return text.hasPrefix(prefix)
            default: return false
            }
        }
    }

    private func isOperand(_ value: ConditionScalar) -> Bool {
        if let hashedOperands { return hashedOperands.contains(value) }
        for operand in operands where operand == value { return true }
        return false
    }

    /// An equality on one field that must hold for the whole tree to hold, with the values
    /// that satisfy it: the root test, or one member of a root `and`. What the index files
    /// a filter under.
    var requiredEquality: (field: FieldPath, values: [ConditionScalar])? {
        switch kind {
        case .eq: return operand.map { (field, [$0]) }
        case .in: return (field, operands)
        case .all:
            // The member with the fewest values narrows the most.
            return children.compactMap { $0.kind == .eq || $0.kind == .in ? $0.requiredEquality : nil }
                .min { $0.values.count < $1.values.count }
        default: return nil
        }
    }
}
