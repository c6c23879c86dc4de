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
        _ = await eventually(timeout: .seconds(30)) {
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
            throw Shell.Failure(command: [binary], status: -1, output: "no DevTools port:\n\(log)")
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
        _ = await eventually(timeout: .seconds(15)) {
            guard case .array(let targets)? = try await HTTP.get("http://127.0.0.1:\(self.devToolsPort)/json/list").json else { return false }
            for target in targets where target["type"] == "page" {
                if case .string(let url)? = target["webSocketDebuggerUrl"] { socketURL = url }
            }
            return socketURL != nil
        }
        guard let socketURL else { throw Shell.Failure(command: ["chromium"], status: -1, output: "no page target") }
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

/// One page of a ``HeadlessBrowser``: DevTools commands, one at a time.
public final class BrowserPage: @unchecked Sendable {
    var inbound: WebSocketInboundMessageStream.AsyncIterator
    let outbound: WebSocketOutboundWriter
    var nextID = 0

    init(inbound: WebSocketInboundMessageStream.AsyncIterator, outbound: WebSocketOutboundWriter) {
        self.inbound = inbound
        self.outbound = outbound
    }

    public struct ProtocolError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Sends a DevTools command and returns its `result`, skipping the events in between.
    @discardableResult
    public func call(_ method: String, _ params: [String: JSONValue] = [:]) async throws -> JSONValue {
        nextID += 1
        let id = nextID
        let command = JSONValue.object(["id": .number(Double(id)), "method": .string(method), "params": .object(params)])
        try await outbound.write(.text(String(decoding: try JSONEncoder().encode(command), as: UTF8.self)))
        while let message = try await inbound.next() {
            guard case .text(let text) = message, let reply = try? JSONValue.parse(Data(text.utf8)),
                reply["id"] == .number(Double(id))
            else { continue }
            if let error = reply["error"] { throw ProtocolError(description: "\(method): \(error)") }
            return reply["result"] ?? .null
        }
        throw ProtocolError(description: "\(method): the browser closed the connection")
    }

    public func navigate(_ url: String) async throws {
        try await call("Page.navigate", ["url": .string(url)])
    }

    /// The value of a JavaScript expression that evaluates to a string (nil otherwise).
    public func evaluate(_ expression: String) async throws -> String? {
        let result = try await call("Runtime.evaluate", ["expression": .string(expression), "returnByValue": true])
        if case .string(let value)? = result["result"]?["value"] { return value }
        return nil
    }

    /// Saves what the page shows as a PNG in ``HeadlessBrowser/artifactsDirectory``; its path.
    @discardableResult
    public func screenshot(_ name: String) async throws -> String {
        let result = try await call("Page.captureScreenshot", ["format": "png"])
        guard case .string(let base64)? = result["data"], let png = Data(base64Encoded: base64) else {
            throw ProtocolError(description: "Page.captureScreenshot: no data")
        }
        try FileManager.default.createDirectory(atPath: HeadlessBrowser.artifactsDirectory, withIntermediateDirectories: true)
        let path = HeadlessBrowser.artifactsDirectory + "/" + name + ".png"
        try png.write(to: URL(fileURLWithPath: path))
        return path
    }
}
