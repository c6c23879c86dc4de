import Foundation
import Shared
import TestSupport
import Testing

/// The dashboard as a person sees it: headless Chromium loads `/dashboard` from a real
/// gateway in front of the real services. Exclusive (run alone): it holds the page to the
/// issue's 3 seconds.
@Suite("Dashboard in a browser", .teardown)
struct ExclusiveDashboardBrowserTests {
    /// What the page shows, read from the `data-` attributes of its cards and breaker rows.
    struct Shown: Decodable {
        var services: [String: String]
        var breakers: [String: String]
    }

    static let read = """
        JSON.stringify({
          services: Object.fromEntries([...document.querySelectorAll('#services [data-service]')].map(e => [e.dataset.service, e.dataset.status])),
          breakers: Object.fromEntries([...document.querySelectorAll('#breakers [data-breaker]')].map(e => [e.dataset.breaker, e.dataset.state]))
        })
        """

    static func shown(_ page: BrowserPage) async throws -> Shown? {
        guard let text = try await page.evaluate(read) else { return nil }
        return try JSONDecoder().decode(Shown.self, from: Data(text.utf8))
    }

    @Test func aKilledProfileTurnsDownWithItsCallersBreakersOpenThenComesBack() async throws {
        let cluster = try await GatewayCluster()
        afterTest { await cluster.stop() }
        let browser = try await HeadlessBrowser.start()
        defer { browser.stop() }
        let everyone = ["flags", "restriction", "profile", "post", "feed", "gateway"]

        try await browser.withPage { page in
            try await page.navigate(cluster.baseURL + "/dashboard")
            var last: Shown?
            let allUp = await eventually(timeout: .seconds(15), every: .milliseconds(100)) {
                last = try await Self.shown(page)
                return everyone.allSatisfy { last?.services[$0] == "up" }
            }
            #expect(allUp, "the page showed \(String(describing: last))")
            try await page.screenshot("dashboard-1-all-up")

            cluster.social.profile.signal(SIGKILL)
            let killed = ContinuousClock.now
            let downShown = await eventually(timeout: .seconds(10), every: .milliseconds(100)) {
                last = try await Self.shown(page)
                return last?.services["profile"] == "down" && last?.breakers["post->profile"] == "open" && last?.breakers["feed->profile"] == "open"
            }
            let took = ContinuousClock.now - killed
            try await page.screenshot("dashboard-2-profile-down")
            #expect(downShown, "the page showed \(String(describing: last))")
            #expect(took <= .seconds(3), "Profile down with its callers' breakers open showed after \(took)")
            #expect(everyone.filter { $0 != "profile" }.allSatisfy { last?.services[$0] == "up" }, "\(String(describing: last))")

            try await cluster.social.restartProfile()
            let backUp = await eventually(timeout: .seconds(10), every: .milliseconds(100)) {
                last = try await Self.shown(page)
                return last?.services["profile"] == "up"
            }
            try await page.screenshot("dashboard-3-profile-back")
            #expect(backUp, "the page showed \(String(describing: last))")
        }
    }
}
