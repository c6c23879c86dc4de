import Shared
import Testing

@testable import AnalyticsCore

@Suite("Analytics configuration")
struct AnalyticsConfigurationTests {
    /// Compose and the manifests run without an external source: `none`, or set but empty,
    /// turns it off; only an unset variable takes the default.
    @Test func theExternalSourceCanBeTurnedOff() throws {
        for value in ["none", "NONE", "", " "] {
            #expect(try AnalyticsConfiguration(environment: EnvironmentReader(["ANALYTICS_EXTERNAL_URL": value])).external.url == nil, "\(value)")
        }
        #expect(try AnalyticsConfiguration(environment: EnvironmentReader([:])).external.url == "http://127.0.0.1:8090/data")
        let given = try AnalyticsConfiguration(environment: EnvironmentReader(["ANALYTICS_EXTERNAL_URL": "http://source:9000/data"]))
        #expect(given.external.url == "http://source:9000/data")
    }
}
