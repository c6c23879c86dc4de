import Foundation
import Hummingbird

/// What every service's `main.swift` does: read its configuration from the environment,
/// build the application, run it until graceful shutdown, and end the process with a status
/// an operator can act on.
///
/// Top-level code that throws would crash with a backtrace, which hides the one line an
/// operator needs; so a configuration the builder refuses is one line on standard error
/// (`flags: invalid configuration: FLAG_PORT: 0 to 65535, not 70000`) and status 2, and a
/// run that ends early (the port is taken, a dependency refused to start) is logged and
/// status 1.
///
/// Two arguments serve deployments, each building the application exactly as a run would
/// and then ending instead of serving:
/// - `--health-check live|ready`: asks the running instance's own `/health/live` or
///   `/health/ready` (on its configured port, loopback for a wildcard `HOST`); status 0 for a
///   200, else 1. A container's `HEALTHCHECK` needs no curl.
/// - `--print-config`: one JSON object on standard output: the service, its address, its
///   probe paths and the name of every environment variable it read (set or not), so that
///   compose files and manifests can be checked against what the executable really reads.
public enum ServiceMain {
    public static func run<Settings: ServiceSettings, App: ApplicationProtocol>(
        _ service: String,
        configuration: (EnvironmentReader) throws -> Settings,
        build: (Settings) throws -> App
    ) async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let log = arguments == ["--print-config"] ? EnvironmentReadLog() : nil
        let settings: Settings
        let app: App
        do {
            settings = try configuration(EnvironmentReader(log: log))
            app = try build(settings)
        } catch {
            fail("\(service): invalid configuration: \(error)", status: 2)
        }
        switch arguments {
        case []:
            do {
                try await app.runService()
            } catch {
                app.logger.critical("service stopped", metadata: ["error": "\(error)"])
                exit(1)
            }
        case ["--print-config"]:
            printConfiguration(service, settings.service, variables: log?.read ?? [])
            // Ends here, before `app` goes: its clients were built but never run or shut down.
            exit(0)
        case ["--health-check", "live"], ["--health-check", "ready"]:
            let path = arguments[1] == "live" ? HealthPaths.live : HealthPaths.ready
            switch HealthProbe(host: settings.service.host, port: settings.service.port).status(of: path) {
            case .success(200): exit(0)
            case .success(let status): fail("\(service): \(path) answered \(status)", status: 1)
            case .failure(let failure): fail("\(service): \(path): \(failure)", status: 1)
            }
        default:
            fail("usage: \(CommandLine.arguments[0]) [--print-config | --health-check live|ready]", status: 2)
        }
    }

    private static func printConfiguration(_ service: String, _ configuration: ServiceConfiguration, variables: [String]) {
        let printed = PrintedConfiguration(
            service: service,
            host: configuration.host,
            port: configuration.port,
            portVariable: configuration.portVariable,
            advertiseURL: configuration.advertisedURL,
            probes: .init(live: HealthPaths.live, ready: HealthPaths.ready, metrics: HealthPaths.metrics),
            variables: variables
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        // Encoding a struct of strings and integers cannot fail.
        let data = (try? encoder.encode(printed)) ?? Data()
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    private static func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
        exit(status)
    }

    private struct PrintedConfiguration: Encodable {
        struct Probes: Encodable {
            var live: String
            var ready: String
            var metrics: String
        }
        var service: String
        var host: String
        var port: Int
        var portVariable: String
        var advertiseURL: String
        var probes: Probes
        var variables: [String]
    }
}
