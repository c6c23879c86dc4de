import Foundation
import Shared
import TestSupport
import Testing

/// `/docs` as a newcomer reads it: headless Chromium opens the gateway's page, follows its
/// links to each service's page through the gateway, and finds each service's own endpoints,
/// with nothing loaded from anywhere but the page itself.
@Suite("Exclusive docs in a browser", .teardown)
struct ExclusiveDocsBrowserTests {
    /// What a page shows: its title, the endpoints listed, its links to services, and every
    /// resource the browser fetched for it besides the page.
    struct Shown: Decodable {
        var path: String
        var ready: String
        var title: String
        var endpoints: [String]
        var services: [String]
        var fetched: [String]
    }

    static let read = """
        JSON.stringify({
          path: location.pathname,
          ready: document.readyState,
          title: document.querySelector('h1')?.firstChild?.textContent?.trim() ?? '',
          endpoints: [...document.querySelectorAll('.operation h3')].map(e => e.textContent.replace(/\\s+/g, ' ').trim()),
          services: [...document.querySelectorAll('#services a')].map(a => a.getAttribute('href')),
          fetched: performance.getEntriesByType('resource').map(r => r.name)
        })
        """

    static func shown(_ page: BrowserPage, _ url: String) async throws -> Shown {
        try await page.navigate(url)
        let path = try #require(URL(string: url)).path
        // Read once the page asked for is the one shown and fully parsed: a page read while
        // still loading lists only its first endpoints (a fresh-clone CI run saw four).
        var shown: Shown?
        _ = await eventually {
            guard let text = try await page.evaluate(read) else { return false }
            shown = try JSONDecoder().decode(Shown.self, from: Data(text.utf8))
            return shown?.path == path && shown?.ready == "complete" && shown?.title.isEmpty == false
        }
        return try #require(shown)
    }

    @Test func theGatewayLinksEveryServicesPageAndEachListsItsOwnEndpoints() async throws {
        let cluster = try await GatewayCluster()
        afterTest { await cluster.stop() }
        let direct = try await HTTP.get(cluster.flags.baseURL + "/docs")
        #expect(direct.status == 200)
        #expect(direct.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(direct.headers["content-security-policy"] == "default-src 'none'; style-src 'unsafe-inline'")

        let browser = try await HeadlessBrowser.start()
        defer { browser.stop() }
        try await browser.withPage { page in
            let index = try await Self.shown(page, cluster.baseURL + "/docs")
            try await page.screenshot("docs-1-gateway")
            #expect(index.title == "Gateway")
            #expect(index.endpoints.contains("GET /health/ready"), "\(index.endpoints)")
            #expect(index.fetched.isEmpty, "\(index.fetched)")
            for link in ["/flags/docs", "/restrictions/docs", "/social/profile/docs", "/social/post/docs", "/social/feed/docs"] {
                #expect(index.services.contains(link), "\(index.services)")
            }
            // Each service's own page, through the gateway, lists what only it serves.
            let expected = [
                "/flags/docs": ("FlagService", "GET /users/{user_id}/flags/{flag_name}"),
                "/restrictions/docs": ("RestrictionConsumer", "POST /event"),
                "/social/profile/docs": ("ProfileService", "POST /insert_new_user"),
                "/social/post/docs": ("PostService", "GET /get_post_info"),
                "/social/feed/docs": ("FeedService", "GET /fetch_feed"),
            ]
            for (link, (title, endpoint)) in expected.sorted(by: { $0.key < $1.key }) {
                let shown = try await Self.shown(page, cluster.baseURL + link)
                #expect(shown.title == title, "\(link)")
                #expect(shown.endpoints.contains(endpoint), "\(link): \(shown.endpoints)")
                #expect(shown.endpoints.contains("GET /health/ready"), "\(link)")
                #expect(shown.fetched.isEmpty, "\(link): \(shown.fetched)")
            }
            try await page.screenshot("docs-2-profile")
        }
    }
}
