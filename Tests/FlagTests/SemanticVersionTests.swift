import Testing

@testable import FlagCore

@Suite("Semantic versions")
struct SemanticVersionTests {
    @Test(arguments: [
        ("1.0.0", "2.0.0"), ("1.9.0", "1.10.0"), ("1.0.0-alpha", "1.0.0"), ("1.0.0-alpha", "1.0.0-alpha.1"),
        ("1.0.0-alpha.1", "1.0.0-alpha.beta"), ("1.0.0-beta.2", "1.0.0-beta.11"), ("1.0.0-rc.1", "1.0.0"),
        ("v1.4", "1.4.1"), ("2", "2.0.1"),
    ])
    func orders(_ lower: String, _ higher: String) throws {
        let low = try #require(SemanticVersion(lower))
        let high = try #require(SemanticVersion(higher))
        #expect(low < high)
        #expect(!(high < low))
    }

    @Test func buildMetadataIsIgnored() throws {
        #expect(try #require(SemanticVersion("1.2.3+build.7")) == #require(SemanticVersion("1.2.3")))
    }

    @Test(arguments: ["", "x", "1.", "1..2", "1.2.3.4", "1.2.3-", "1.2.-3", "01a.2.3", "1.2.3-a..b"])
    func refuses(_ text: String) {
        #expect(SemanticVersion(text) == nil)
    }
}
