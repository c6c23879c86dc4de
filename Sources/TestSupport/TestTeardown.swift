import NIOConcurrencyHelpers
import Testing

/// What a test started and must see stopped before the next test starts: actions registered
/// with ``afterTest(_:)`` run, awaited and in reverse order, when the test ends (passed, failed
/// or threw). A `defer { Task { … } }` would leave servers still stopping while the next test
/// starts, which is worst in the serial pass.
public final class TestTeardown: Sendable {
    @TaskLocal static var current: TestTeardown?

    private let actions = NIOLockedValueBox<[@Sendable () async -> Void]>([])

    func add(_ action: @escaping @Sendable () async -> Void) {
        actions.withLockedValue { $0.append(action) }
    }

    func run() async {
        for action in actions.withLockedValue({ $0 }).reversed() { await action() }
    }
}

/// Registers `action` to run, awaited, when the current test ends; the test fails if its suite
/// lacks the ``TeardownTrait`` (the action then runs detached, as a last resort).
public func afterTest(sourceLocation: SourceLocation = #_sourceLocation, _ action: @escaping @Sendable () async -> Void) {
    guard let teardown = TestTeardown.current else {
        Issue.record("afterTest needs the suite's .teardown trait", sourceLocation: sourceLocation)
        Task { await action() }
        return
    }
    teardown.add(action)
}
