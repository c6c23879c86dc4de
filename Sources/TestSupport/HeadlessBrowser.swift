import Foundation
import HummingbirdWSClient
import Logging
import Shared

/// Headless Chromium (Debian's `chromium` package), driven over the DevTools protocol, for
/// tests that check what a person would see in a page.
public final class HeadlessBrowser: @unchecked Sendable {
    public let pid: pid_t
    public let devToolsPort: Int
    let profile: String
    let logPath: String

    /// Where tests put what a person should be able to look at afterwards (screenshots):
    /// `TEST_ARTIFACTS_DIR`, else `.build/test-artifacts`.
    public static var artifactsDirectory: String {
        ProcessInfo.processInfo.environment["TEST_ARTIFACTS_DIR"] ?? FileManager.default.currentDirectoryPath + "/.build/test-artifacts"
    }

    /// Starts the browser with DevTools on a port it picks itself (so no other process can
    /// take it first) and waits until it has a page.
    public static func start(width: Int = 1280, height: Int = 1100) async throws -> HeadlessBrowser {
        let candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Shell.Failure(
                command: ["chromium"],
                status: -1,
                output: "no Chromium in \(candidates) (scripts/test.sh installs Debian's chromium)"
            )
        }
        let profile = TestEnvironment.tmpdir + "/" + TestEnvironment.unique("chromium")
        try FileManager.default.createDirectory(atPath: profile, withIntermediateDirectories: true)
        let logPath = profile + ".log"
        let pid = try spawn(
            [
                binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0", "--remote-allow-origins=*", "--user-data-dir=\(profile)", "--window-size=\(width),\(height)",
                "about:blank",
            ],
            outputPath: logPath,
            searchPath: false
        )
        var port: Int?
        let started = await poll(timeout: .seconds(30)) {
            // Chromium writes the port it bound, then the browser target's path.
            let text = try String(contentsOfFile: profile + "/DevToolsActivePort", encoding: .utf8)
            port = text.split(separator: "\n").first.flatMap { Int($0) }
            return port != nil
        }
        guard let port else {
            kill(pid, SIGKILL)
            var raw: Int32 = 0
            waitpid(pid, &raw, 0)
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw Shell.Failure(command: [binary], status: -1, output: "no DevTools port (\(started.explanation)):\n\(log)")
        }
        return HeadlessBrowser(pid: pid, devToolsPort: port, profile: profile, logPath: logPath)
    }

    init(pid: pid_t, devToolsPort: Int, profile: String, logPath: String) {
        self.pid = pid
        self.devToolsPort = devToolsPort
        self.profile = profile
        self.logPath = logPath
    }

    /// Runs `body` with the browser's first page.
    public func withPage(_ body: @escaping @Sendable (BrowserPage) async throws -> Void) async throws {
        var socketURL: String?
        let listed = await poll(timeout: .seconds(15)) {
            guard case .array(let targets)? = try await HTTP.get("http://127.0.0.1:\(self.devToolsPort)/json/list").json else { return false }
            for target in targets where target["type"] == "page" {
                if case .string(let url)? = target["webSocketDebuggerUrl"] { socketURL = url }
            }
            return socketURL != nil
        }
        guard let socketURL else { throw Shell.Failure(command: ["chromium"], status: -1, output: "no page target (\(listed.explanation))") }
        try await WebSocketClient.connect(
            url: socketURL,
            configuration: .init(maxFrameSize: 64 << 20),
            logger: Logger(label: "test.browser")
        ) { inbound, outbound, _ in
            try await body(BrowserPage(inbound: inbound.messages(maxSize: 64 << 20).makeAsyncIterator(), outbound: outbound))
        }
    }

    public func stop() {
        kill(pid, SIGKILL)
        var raw: Int32 = 0
        waitpid(pid, &raw, 0)
        try? FileManager.default.removeItem(atPath: profile)
    }
}
