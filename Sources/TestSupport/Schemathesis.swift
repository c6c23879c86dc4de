import Foundation

/// schemathesis against a live service and its own `/openapi.json`, with the checks every
/// service's test asks for: no 5xx, and no status, content type, header or body outside the
/// document.
public enum Schemathesis {
    /// Runs it (the virtualenv's, from `TEST_PYTHON`, which scripts/test.sh sets) and returns
    /// its output; throws `Shell.Failure` with the output when it finds something.
    /// - Parameter excluding: paths left out (endless streams, tested by their own tests).
    public static func run(_ baseURL: String, adminKey: String, seed: String, excluding: [String]) async throws -> String {
        guard let python = ProcessInfo.processInfo.environment["TEST_PYTHON"] else {
            throw Shell.Failure(command: ["schemathesis"], status: -1, output: "scripts/test.sh sets TEST_PYTHON")
        }
        let schemathesis = URL(fileURLWithPath: python).deletingLastPathComponent().appendingPathComponent("schemathesis").path
        return try await Shell.run(
            [
                schemathesis, "run", baseURL + "/openapi.json",
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance",
                "--header", "X-Api-Key: \(adminKey)",
                "--max-examples", "15", "--seed", seed, "--request-timeout", "10",
            ] + excluding.flatMap { ["--exclude-path", $0] }
        )
    }
}
