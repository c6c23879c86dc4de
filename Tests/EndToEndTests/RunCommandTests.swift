import Foundation
import Shared
import TestSupport
import Testing

/// The real `scripts/run.sh` (on free ports, data in a temporary directory, the tests' debug
/// executables): it supervises the services, and its Redis and PostgreSQL keep their data.
@Suite("Exclusive run command", .teardown)
struct ExclusiveRunCommandTests {
    static let root = TestEnvironment.repositoryRoot

    /// One run of scripts/run.sh; `ports` keeps the same ports for a second run on the same
    /// data.
    struct Run {
        let process: ServiceProcess
        let environment: [String: String]

        var gateway: String { "http://127.0.0.1:\(environment["GATEWAY_PORT"]!)" }
        var data: String { environment["SUITE_DATA_DIR"]! }
        /// The admin key run.sh made, as it says.
        var adminKey: String { (try? String(contentsOfFile: data + "/secrets/admin-key", encoding: .utf8)) ?? "" }
        func url(_ variable: String) -> String { "http://127.0.0.1:\(environment[variable]!)" }

        static func environment(data: String) -> [String: String] {
            var environment = [
                // No ADMIN_API_KEYS: run.sh makes one, as for a newcomer.
                "SUITE_DATA_DIR": data, "SUITE_BIN_DIR": ServiceProcess.binDirectory.path, "ADMIN_API_KEYS": "",
                "SUITE_REDIS_PORT": String(freePort()), "SUITE_PG_PORT": String(freePort()), "EXTERNAL_SOURCE_PORT": String(freePort()),
                "HEALTH_INTERVAL_MS": "200",
            ]
            for variable in Executable.all.map(\.portVariable) { environment[variable] = String(freePort()) }
            return environment
        }

        /// The last line run.sh prints at start, after "all services ready" and the examples.
        static let bannerEnd = "[suite] scripts/service.sh stop|start|restart NAME"

        /// Starts it and waits until it says every service is ready and has printed its
        /// whole banner (the example calls come after the ready line).
        static func start(_ environment: [String: String]) async throws -> Run {
            let process = try ServiceProcess(
                name: "run.sh",
                arguments: ["bash", root + "/scripts/run.sh"],
                port: Int(environment["GATEWAY_PORT"]!)!,
                environment: environment
            )
            let ready = await eventually(timeout: .seconds(120)) { process.log.contains(bannerEnd) || !process.isRunning }
            guard ready, process.isRunning else {
                process.signal(SIGTERM)
                _ = await process.waitForExit(timeout: .seconds(30))
                throw RunCommandDidNotStart(status: process.exitStatus, log: process.log)
            }
            return Run(process: process, environment: environment)
        }

        /// SIGTERM, as Ctrl-C: run.sh stops the services, Redis and PostgreSQL. When it does
        /// not in time, what it started is killed from its pid files, so nothing outlives the
        /// test.
        func stop() async -> Int32? {
            process.signal(SIGTERM)
            if let status = await process.waitForExit(timeout: .seconds(60)) { return status }
            process.signal(SIGKILL)
            let run = data + "/run"
            for file in (try? FileManager.default.contentsOfDirectory(atPath: run)) ?? [] where file.hasSuffix(".pid") {
                if let pid = (try? String(contentsOfFile: run + "/" + file, encoding: .utf8)).flatMap({
                    pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines))
                }) {
                    kill(pid, SIGKILL)
                }
            }
            let redisPid = data + "/redis/redis-\(environment["SUITE_REDIS_PORT"]!).pid"
            if let pid = (try? String(contentsOfFile: redisPid, encoding: .utf8)).flatMap({
                pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }) {
                kill(pid, SIGKILL)
            }
            _ = try? await Shell.run(["bash", TestEnvironment.infraScript, "pg-stop", data + "/postgres", "immediate"])
            return nil
        }

        func service(_ arguments: String...) async throws -> String {
            try await Shell.run(["env", "SUITE_DATA_DIR=\(environment["SUITE_DATA_DIR"]!)", "bash", root + "/scripts/service.sh"] + arguments)
        }

        func pid(_ name: String) -> String? {
            try? String(contentsOfFile: environment["SUITE_DATA_DIR"]! + "/run/\(name).pid", encoding: .utf8)
        }

        func post(_ path: String, _ json: String) async throws -> HTTP.Result {
            try await HTTP.post(gateway + path, json: json, headers: ["X-Api-Key": adminKey])
        }

        /// Runs `calls` (curl commands, `\`-continued lines joined) with bash, each one's
        /// output swapped for its status code; returns the codes in order.
        func statuses(of script: String) async throws -> [String] {
            let lines = script.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            let rewritten = lines.map { $0.hasPrefix("curl ") ? $0 + " -o /dev/null -w '%{http_code}\\n'" : $0 }
            return try await Shell.run(["bash", "-c", rewritten.joined(separator: "\n")]).split(separator: "\n").map(String.init)
        }
    }

    struct RunCommandDidNotStart: Error {
        let status: Int32?
        let log: String
    }

    static func dataDirectory() -> String {
        let path = TestEnvironment.tmpdir + "/" + TestEnvironment.unique("run-data")
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The older chaos drill: Profile killed, Post and Feed answer from their cache, everything
    /// else keeps serving, and run.sh has Profile back and ready within seconds; a service
    /// stopped with scripts/service.sh stays down until started again.
    @Test func aKilledServiceIsStartedAgainWhileTheOthersServe() async throws {
        let run = try await Run.start(Run.environment(data: Self.dataDirectory()))
        afterTest { _ = await run.stop() }
        #expect(!run.adminKey.isEmpty && run.process.log.contains("\(run.adminKey) (X-Api-Key; kept in \(run.data)/secrets/admin-key)"))
        // The three example calls it prints work as printed.
        let printed = try #require(
            run.process.log.components(separatedBy: "[suite] try, through the gateway:\n").last?.components(separatedBy: Run.bannerEnd)
                .first
        )
        let printedStatuses = try await run.statuses(of: printed)
        #expect(printedStatuses == ["201", "200", "200"], "\(printed)")
        // So does the README's quick start, on this run's port and data.
        let readme = try String(contentsOfFile: Self.root + "/README.md", encoding: .utf8)
        let quickStart = try #require(
            readme.components(separatedBy: "## Quick start").dropFirst().first?.components(separatedBy: "```sh\n").dropFirst().first?.components(
                separatedBy: "```"
            ).first
        )
        let statuses = try await run.statuses(
            of: quickStart.replacingOccurrences(of: "http://127.0.0.1:8080", with: run.gateway).replacingOccurrences(
                of: ".data/",
                with: run.data + "/"
            )
        )
        #expect(statuses.count == 9 && statuses.allSatisfy { $0.hasPrefix("2") }, "\(statuses)")

        let user = try await run.post("/social/profile/insert_new_user", #"{"user_name":"drill"}"#)
        #expect(user.status == 201, "\(user.text)")
        let userID = try #require(user.json?["user_id"]?.double.map { Int($0) })
        let post = try await run.post("/social/post/insert_post", #"{"user_id":\#(userID),"title":"t","content":"c"}"#)
        #expect(post.status == 201, "\(post.text)")
        let postID = try #require(post.json?["post_id"]?.double.map { Int($0) })
        #expect(try await HTTP.get(run.gateway + "/social/post/get_post_info?post_id=\(postID)").json?["profile_source"] == "live")

        let killed = try #require(run.pid("ProfileService"))
        _ = try await run.service("kill", "ProfileService")
        // While it is down (or starting), Post answers from the cache and the rest serve.
        let fromCache = try await HTTP.get(run.gateway + "/social/post/get_post_info?post_id=\(postID)")
        #expect(fromCache.status == 200, "\(fromCache.text)")
        #expect(try await HTTP.get(run.gateway + "/social/feed/fetch_feed").status == 200)
        #expect(try await HTTP.get(run.gateway + "/flags/flags").status == 200)
        #expect(try await HTTP.get(run.url("FLAG_PORT") + "/health/ready").status == 200)

        let back = await eventually(timeout: .seconds(15)) {
            guard let pid = run.pid("ProfileService"), pid != killed else { return false }
            return try await HTTP.get(run.url("PROFILE_PORT") + "/health/ready").status == 200
        }
        #expect(back, "\(run.process.log)")
        #expect(run.process.log.contains("ProfileService exited with status 137; starting it again in 1s"))
        #expect(try await HTTP.get(run.gateway + "/social/profile/get_user_info?user_id=\(userID)").status == 200)

        // Stopped for a drill: down, and said so, until started.
        #expect(try await run.service("stop", "FlagService").contains("FlagService stopped"))
        #expect(run.process.log.contains("FlagService stopped (scripts/service.sh start FlagService starts it again)"))
        await #expect(throws: (any Error).self) { try await HTTP.get(run.url("FLAG_PORT") + "/health/live") }
        #expect(try await run.service("status").contains("FlagService stopped"))
        _ = try await run.service("start", "FlagService")
        #expect(await eventually(timeout: .seconds(15)) { try await HTTP.get(run.url("FLAG_PORT") + "/health/ready").status == 200 })
        #expect(try await run.service("status").contains("FlagService running"))
        #expect(run.process.isRunning)
    }

    /// Redis append-only and PostgreSQL durable: after run.sh stopped both and started them
    /// again on the same data, a restricted user is still restricted and a flag still there.
    @Test func restrictionsAndFlagsSurviveARestartOfRedisAndPostgres() async throws {
        let environment = Run.environment(data: Self.dataDirectory())
        var run = try await Run.start(environment)
        let flag = try await run.post("/flags/flags", #"{"flag_name":"kept","status":true,"rollout_percentage":100}"#)
        #expect(flag.status == 201, "\(flag.text)")
        for _ in 0..<2 {
            let event = try await run.post("/restrictions/event", #"{"name":"scam_message_flagged","event_properties":{"user_id":"kept-user"}}"#)
            #expect(event.status == 200, "\(event.text)")
        }
        let canMessage = run.gateway + "/restrictions/canmessage?user_id=kept-user"
        #expect(await eventually { try await HTTP.get(canMessage).json?["can_message"] == false })
        let stopped = await run.stop()
        #expect(stopped == 143, "\(run.process.log)")

        run = try await Run.start(environment)
        afterTest { [run] in _ = await run.stop() }
        #expect(try await HTTP.get(canMessage).json?["can_message"] == false)
        let kept = try await HTTP.get(run.gateway + "/flags/flags/kept")
        #expect(kept.status == 200, "\(kept.text)")
        #expect(kept.json?["rollout_percentage"] == 100)
    }
}
