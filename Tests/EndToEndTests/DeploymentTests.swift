import Foundation
import Shared
import TestSupport
import Testing

/// The deployment files (deploy/Dockerfile, docker-compose.yml, deploy/k8s) against the
/// validators from the package registries and against the executables themselves: every
/// service, port, variable and probe the files use is one an executable's own
/// `--print-config` names, and every executable of Package.swift is deployed.
@Suite("Deployment files", .teardown)
struct DeploymentTests {
    static let root = TestEnvironment.repositoryRoot
    static let overlays = ["dev", "production"]
    /// The Kubernetes release the manifests are validated against (kubectl's on this machine).
    static let kubernetesVersion = "1.32.0"

    @Test func dockerfileHasNoLinterFindings() async throws {
        let output = try await Shell.run([try Self.tool("hadolint"), Self.root + "/deploy/Dockerfile"])
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(output)")
    }

    /// The products the image builds are Package.swift's executables, so the image cannot
    /// fall behind the package; and its runtime stage starts one of them.
    @Test func dockerfileBuildsEveryExecutableOfThePackage() async throws {
        let dockerfile = try String(contentsOfFile: Self.root + "/deploy/Dockerfile", encoding: .utf8)
        let line = try #require(dockerfile.split(separator: "\n").first { $0.hasPrefix("ARG PRODUCTS=") })
        let products = line.dropFirst("ARG PRODUCTS=".count).trimmingCharacters(in: ["\""]).split(separator: " ").map(String.init)
        #expect(Set(products) == Set(try await Self.packageExecutables()))
        #expect(products.count == Set(products).count)
        #expect(dockerfile.contains("swift build -c release --static-swift-stdlib --product \"$product\""))
        #expect(dockerfile.contains("CMD [\"Gateway\"]"))
    }

    @Test func composeFileFollowsTheComposeSpecification() async throws {
        let output = try await Shell.run([
            try Self.tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", Self.root + "/docker-compose.yml",
        ])
        #expect(output.contains("ok -- validation done"), "\(output)")
    }

    @Test(arguments: overlays) func overlayRendersValidObjects(overlay: String) async throws {
        let rendered = try await Self.render(overlay)
        let output = try await Shell.run([try Self.tool("kubernetes-validate"), "-k", Self.kubernetesVersion, "--strict", rendered])
        #expect(!output.contains("ERROR"), "\(output)")
        let kinds = Set(output.split(separator: "\n").compactMap { $0.split(separator: " ").dropFirst(5).first?.split(separator: "/").first })
        for kind in ["deployment", "service", "configmap", "secret", "poddisruptionbudget", "horizontalpodautoscaler", "networkpolicy"] {
            #expect(kinds.contains(Substring(kind)), "\(overlay) has no \(kind): \(kinds.sorted())")
        }
        if overlay == "dev" { #expect(kinds.contains("statefulset")) }
    }

    /// Every compose service running an executable: the variables it is given are ones the
    /// executable reads, with them its configuration is accepted, its published port and
    /// every URL naming it use the port it listens on, and its health check asks it.
    @Test func composeAsksOnlyWhatTheExecutablesRead() async throws {
        let facts = try await Self.facts("compose", Self.root + "/docker-compose.yml")
        let configurations = try await Self.check(facts, in: "docker-compose.yml")
        for service in facts.services {
            let configuration = try #require(configurations[service.name])
            #expect(service.healthCheck == [service.executable, "--health-check", "ready"], "\(service.name)")
            for port in service.ports { #expect(port == configuration.port, "\(service.name) publishes \(port)") }
        }
        // .env.example documents exactly what the file takes from the environment.
        let example = try String(contentsOfFile: Self.root + "/.env.example", encoding: .utf8)
        let documented = example.split(separator: "\n").compactMap { line -> String? in
            let setting = line.hasPrefix("#") ? line.dropFirst() : line[...]
            guard let equals = setting.firstIndex(of: "="), setting[..<equals].allSatisfy({ $0.isUppercase || $0 == "_" }) else { return nil }
            return String(setting[..<equals])
        }
        #expect(Set(documented) == Set(try #require(facts.interpolated)))
    }

    /// The same for every Deployment of an overlay, plus its probes, container port, scrape
    /// annotations and Service, and no service links (they would set `STREAM_PORT` and the
    /// like to `tcp://…` in every pod).
    @Test(arguments: overlays) func manifestsAskOnlyWhatTheExecutablesRead(overlay: String) async throws {
        let facts = try await Self.facts("k8s", try await Self.render(overlay))
        let configurations = try await Self.check(facts, in: overlay)
        for service in facts.services {
            let configuration = try #require(configurations[service.name])
            let port = configuration.port
            #expect(service.ports == [port], "\(service.name)")
            #expect(service.probes?["livenessProbe"] == .init(path: configuration.probes.live, port: port), "\(service.name)")
            #expect(service.probes?["readinessProbe"] == .init(path: configuration.probes.ready, port: port), "\(service.name)")
            #expect(service.probes?["startupProbe"] == .init(path: configuration.probes.live, port: port), "\(service.name)")
            #expect(service.scrape == .init(path: configuration.probes.metrics, port: port), "\(service.name)")
            #expect(service.serviceLinks == false, "\(service.name)")
        }
    }

    /// `--health-check` as the image's HEALTHCHECK and compose run it: 0 from a running
    /// service, 1 when nothing answers on its port.
    @Test func healthCheckArgumentAsksTheRunningService() async throws {
        let redis = try await PrivateRedis.start()
        let process = try await ServiceProcess.start("RestrictionConsumer", portVariable: "RESTRICTION_PORT", environment: ["REDIS_URL": redis.url])
        afterTest {
            process.signal(SIGKILL)
            _ = await process.waitForExit()
            try? await redis.stop()
        }
        let executable = ServiceProcess.binDirectory.appendingPathComponent("RestrictionConsumer").path
        let port = "RESTRICTION_PORT=\(process.port)"
        for probe in ["live", "ready"] {
            try await Shell.run(["env", port, "REDIS_URL=\(redis.url)", executable, "--health-check", probe])
        }
        process.signal(SIGTERM)
        #expect(await process.waitForExit() == 0)
        await #expect(throws: Shell.Failure.self) { try await Shell.run(["env", port, executable, "--health-check", "live"]) }
        await #expect(throws: Shell.Failure.self) { try await Shell.run(["env", port, executable, "--health-check", "sideways"]) }
    }

    // MARK: - The checks shared by compose and the overlays

    /// Runs each service's executable with `--print-config` in exactly the environment the
    /// file gives it, checks the variables, the set of executables and every reference to a
    /// service's port; returns the configurations by service name.
    static func check(_ facts: Facts, in file: String) async throws -> [String: PrintedConfiguration] {
        #expect(Set(facts.services.map(\.executable)) == Set(try await packageExecutables()), "\(file)")
        var configurations: [String: PrintedConfiguration] = [:]
        for service in facts.services {
            let configuration = try await printConfig(service.executable, environment: service.environment)
            let unread = Set(service.environment.keys).subtracting(configuration.variables)
            #expect(unread.isEmpty, "\(file): \(service.name) (\(service.executable)) is given \(unread.sorted()), which it never reads")
            configurations[service.name] = configuration
        }
        for reference in facts.references {
            if ["redis", "postgres"].contains(reference.host) { continue }
            let configuration = try #require(configurations[reference.host], "\(file): \(reference.where) names \(reference.host)")
            #expect(reference.port == configuration.port, "\(file): \(reference.where) names port \(reference.port)")
        }
        return configurations
    }

    static func printConfig(_ executable: String, environment: [String: String]) async throws -> PrintedConfiguration {
        let path = ServiceProcess.binDirectory.appendingPathComponent(executable).path
        let variables = environment.map { "\($0.key)=\($0.value)" }.sorted()
        let output = try await Shell.run(["env", "-i", "PATH=/usr/bin:/bin"] + variables + [path, "--print-config"])
        // Start-up logs may come first, one line each; the configuration is the last object.
        let json = try #require(
            output.range(of: "\n{\n", options: .backwards).map { output[$0.lowerBound...] } ?? (output.hasPrefix("{") ? output[...] : nil)
        )
        return try JSONDecoder().decode(PrintedConfiguration.self, from: Data(json.utf8))
    }

    /// Package.swift's executable products, asked once per test process.
    static func packageExecutables() async throws -> [String] { try await executables.value }

    private static let executables = Task<[String], any Error> {
        // A scratch path of its own: the package's .build is locked by the running `swift test`.
        // SwiftPM keeps that path's lock file in the temporary directory; it goes too.
        let scratch = TestEnvironment.tmpdir + "/" + TestEnvironment.unique("dump-package")
        defer { unlink(NSTemporaryDirectory() + scratch.replacingOccurrences(of: "/", with: "_") + ".lock") }
        let output = try await Shell.run([
            "env", "-u", "SUITE_BENCHMARKS", "swift", "package", "--package-path", root, "--scratch-path", scratch, "dump-package",
        ])
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(output.utf8))
        return manifest.products.filter { $0.type.keys.contains("executable") }.map(\.name)
    }

    /// `kubectl kustomize` of an overlay, in a file.
    static func render(_ overlay: String) async throws -> String {
        let rendered = try await Shell.run(["kubectl", "kustomize", root + "/deploy/k8s/overlays/" + overlay])
        let path = TestEnvironment.tmpdir + "/" + TestEnvironment.unique("k8s-\(overlay)") + ".yaml"
        try rendered.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// - Parameter given: values for the file's `${VAR}`s, as `.env` would give them.
    static func facts(_ kind: String, _ path: String, given: [String: String] = [:]) async throws -> Facts {
        let values = given.map { "\($0.key)=\($0.value)" }.sorted()
        let output = try await Shell.run([try tool("python"), root + "/tools/deployment_facts.py", kind, path] + values)
        return try JSONDecoder().decode(Facts.self, from: Data(output.utf8))
    }

    /// A program of the test virtualenv (scripts/test.sh sets `TEST_PYTHON`).
    static func tool(_ name: String) throws -> String {
        let python = try #require(ProcessInfo.processInfo.environment["TEST_PYTHON"], "scripts/test.sh sets TEST_PYTHON")
        return URL(fileURLWithPath: python).deletingLastPathComponent().appendingPathComponent(name).path
    }

    // MARK: - What is read

    /// `--print-config`'s output.
    struct PrintedConfiguration: Decodable {
        struct Probes: Decodable {
            let live: String
            let ready: String
            let metrics: String
        }
        let service: String
        let port: Int
        let probes: Probes
        let variables: Set<String>
    }

    /// tools/deployment_facts.py's output.
    struct Facts: Decodable {
        struct Endpoint: Decodable, Equatable {
            let path: String?
            let port: Int?
        }
        struct Service: Decodable {
            let name: String
            let executable: String
            let environment: [String: String]
            let ports: [Int]
            var healthCheck: [String]?
            var probes: [String: Endpoint?]?
            var scrape: Endpoint?
            var serviceLinks: Bool?

            enum CodingKeys: String, CodingKey {
                case name, executable, environment, ports, probes, scrape
                case healthCheck = "health_check"
                case serviceLinks = "service_links"
            }
        }
        struct Reference: Decodable {
            let host: String
            let port: Int
            let `where`: String
        }
        let services: [Service]
        let references: [Reference]
        var interpolated: [String]?
    }

    struct Manifest: Decodable {
        struct Product: Decodable {
            let name: String
            let type: [String: JSONNull?]
        }
        let products: [Product]
    }

    /// `dump-package` writes a product's type as `{"executable": null}`.
    struct JSONNull: Decodable {}
}
