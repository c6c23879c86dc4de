import Foundation
import Shared
import TestSupport
import Testing

@Suite("Environment reader")
struct EnvironmentReaderTests {
    /// `--print-config` lists what a service reads from this log, so it must hold every name
    /// asked for, set or not, through every accessor.
    @Test func aLogNotesEveryNameAskedFor() {
        let log = EnvironmentReadLog()
        let env = EnvironmentReader(["SET": "7", "BLANK": " "], log: log)
        #expect(env.int("SET", default: 0) == 7)
        #expect(env.string("BLANK") == nil)
        #expect(env.bool("UNSET_FLAG", default: true))
        #expect(env.list("UNSET_LIST").isEmpty)
        #expect(env.milliseconds("UNSET_MS", default: .seconds(1)) == .seconds(1))
        #expect(log.read == ["BLANK", "SET", "UNSET_FLAG", "UNSET_LIST", "UNSET_MS"])
    }

    @Test func theServiceConfigurationIsReadThroughTheLog() {
        let log = EnvironmentReadLog()
        let configuration = ServiceConfiguration(
            service: "kit",
            portVariable: "KIT_PORT",
            defaultPort: 1,
            environment: EnvironmentReader([:], log: log)
        )
        #expect(configuration.port == 1)
        for name in ["KIT_PORT", "HOST", "ADVERTISE_URL", "REDIS_URL", "DATABASE_URL", "ADMIN_API_KEYS", "HTTP_IDLE_TIMEOUT_MS"] {
            #expect(log.read.contains(name), "\(name)")
        }
    }

    /// Inside a container (or a network namespace) the service listens on every interface;
    /// what it advertises must be an address others can reach, never the wildcard, and never
    /// loopback while the machine has another address.
    @Test func aWildcardHostAdvertisesTheMachinesOwnAddress() async throws {
        let configuration = ServiceConfiguration(
            service: "kit",
            portVariable: "KIT_PORT",
            defaultPort: 8089,
            environment: EnvironmentReader(["HOST": "0.0.0.0"])
        )
        let url = try #require(URL(string: configuration.advertisedURL))
        let host = try #require(url.host)
        #expect(url.port == 8089)
        #expect(host != "0.0.0.0")
        // This machine's IPv4 addresses from `ip`, not from the code under test.
        let addresses = try await Shell.run(["sh", "-c", "ip -4 -o addr show | awk '{print $4}' | cut -d/ -f1"]).split(separator: "\n").map(
            String.init
        )
        if addresses.contains(where: { !$0.hasPrefix("127.") }) {
            #expect(addresses.contains(host) && !host.hasPrefix("127."), "\(host) of \(addresses)")
        } else {
            #expect(host == "127.0.0.1")
        }
        let explicit = ServiceConfiguration(
            service: "kit",
            portVariable: "KIT_PORT",
            defaultPort: 8089,
            environment: EnvironmentReader(["HOST": "0.0.0.0", "ADVERTISE_URL": "http://flags-2:8081"])
        )
        #expect(explicit.advertisedURL == "http://flags-2:8081")
        let loopback = ServiceConfiguration(service: "kit", portVariable: "KIT_PORT", defaultPort: 8089, environment: EnvironmentReader([:]))
        #expect(loopback.advertisedURL == "http://127.0.0.1:8089")
    }
}
