import Shared
import TestSupport
import Testing

@testable import GatewayCore

@Suite("Dashboard board")
struct DashboardBoardTests {
    @Test func aServiceShownDownIsAlsoInTheHistoryBeforeTheRegistryTicks() {
        let clock = TestClock()
        let registry = HealthRegistry(interval: .milliseconds(100), clock: clock)
        let board = DashboardBoard(registry: registry)
        registry.channelRestored()
        registry.ingest(HealthMessage(service: "profile", instance: "a", status: .up, at: 0))
        clock.advance(by: .milliseconds(301))  // stale, and no tick has run since
        let state = board.state()
        guard case .array(let services)? = state["services"], case .array(let history)? = state["history"] else {
            Issue.record("state without services or history")
            return
        }
        #expect(services.contains { $0["service"] == "profile" && $0["availability"] == "down" })
        #expect(history.first?["service"] == "profile" && history.first?["to"] == "down")
        #expect(history.contains { $0["service"] == "profile" && $0["to"] == "up" })
    }
}
