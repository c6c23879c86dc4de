import Testing

/// The scope that runs a test's ``afterTest(_:)`` actions; every suite that starts servers
/// carries it (`@Suite(.teardown)`).
public struct TeardownTrait: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func scopeProvider(for test: Test, testCase: Test.Case?) -> TeardownTrait? {
        testCase == nil ? nil : self
    }

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let teardown = TestTeardown()
        do {
            try await TestTeardown.$current.withValue(teardown) { try await function() }
        } catch {
            await teardown.run()
            throw error
        }
        await teardown.run()
    }
}

extension Trait where Self == TeardownTrait {
    /// Runs each test's ``afterTest(_:)`` actions, awaited, when it ends.
    public static var teardown: TeardownTrait { TeardownTrait() }
}
