import Foundation
import Shared
import TestSupport
import Testing

@Suite("FlagService OFREP", .teardown)
struct FlagOFREPTests {
    static func evaluate(_ cluster: FlagCluster, _ key: String, _ body: String, headers: [String: String] = [:]) async throws -> HTTP.Result {
        try await HTTP.post(cluster.first.baseURL + "/ofrep/v1/evaluate/flags/" + key, json: body, headers: headers)
    }

    @Test func singleAndBulkShapes() async throws {
        let cluster = try await FlagCluster()
        afterTest { await cluster.stop() }
        #expect(try await cluster.createFlag(#"{"flag_name": "on"}"#).status == 201)
        #expect(try await cluster.createFlag(#"{"flag_name": "half", "rollout_percentage": 50}"#).status == 201)
        #expect(try await cluster.createFlag(#"{"flag_name": "off", "status": false}"#).status == 201)
        #expect(
            try await cluster.createFlag(
                #"{"flag_name": "geo", "rollout_percentage": 0, "rules": [{"conditions": [{"attribute": "country", "operator": "eq", "values": ["DE"]}], "serve": {"enabled": true}}]}"#
            ).status == 201
        )

        let on = try await Self.evaluate(cluster, "on", "{}")
        #expect(on.status == 200)
        #expect(on.json?["key"] == "on" && on.json?["value"] == true && on.json?["reason"] == "STATIC" && on.json?["variant"] == "on")
        #expect(try await Self.evaluate(cluster, "off", "{}").json?["reason"] == "DISABLED")
        #expect(try await Self.evaluate(cluster, "half", #"{"context": {"targetingKey": "alice123"}}"#).json?["reason"] == "SPLIT")
        #expect(try await Self.evaluate(cluster, "geo", #"{"context": {"targetingKey": "u", "country": "DE"}}"#).json?["reason"] == "TARGETING_MATCH")

        let missing = try await Self.evaluate(cluster, "nope", "{}")
        #expect(missing.status == 404 && missing.json?["errorCode"] == "FLAG_NOT_FOUND" && missing.json?["key"] == "nope")
        let noKey = try await Self.evaluate(cluster, "half", #"{"context": {}}"#)
        #expect(noKey.status == 400 && noKey.json?["errorCode"] == "TARGETING_KEY_MISSING")
        #expect(try await Self.evaluate(cluster, "on", #"{"context": "x"}"#).json?["errorCode"] == "INVALID_CONTEXT")
        #expect(try await Self.evaluate(cluster, "on", #"{"context": {"targetingKey": 5}}"#).json?["errorCode"] == "INVALID_CONTEXT")
        let parse = try await Self.evaluate(cluster, "on", "{nope")
        #expect(parse.status == 400 && parse.json?["errorCode"] == "PARSE_ERROR")

        // Bulk: every flag, errors per flag, an ETag that changes with the answer.
        let url = cluster.first.baseURL + "/ofrep/v1/evaluate/flags"
        let context = #"{"context": {"targetingKey": "alice123"}}"#
        let bulk = try await HTTP.post(url, json: context)
        #expect(bulk.status == 200)
        guard case .array(let flags)? = bulk.json?["flags"] else {
            Issue.record("\(bulk.text)")
            return
        }
        #expect(flags.compactMap { $0["key"] } == ["geo", "half", "off", "on"])
        let etag = try #require(bulk.header("etag"))
        #expect(try await HTTP.post(url, json: context, headers: ["If-None-Match": etag]).status == 304)
        #expect(try await HTTP.post(url, json: #"{"context": {"targetingKey": "bob456"}}"#, headers: ["If-None-Match": etag]).status == 200)
        #expect(try await cluster.updateFlag("off", #"{"status": true}"#).status == 200)
        let changed = try await HTTP.post(url, json: context, headers: ["If-None-Match": etag])
        #expect(changed.status == 200 && changed.header("etag") != etag)
        let noKeyBulk = try await HTTP.post(url, json: "{}")
        guard case .array(let partial)? = noKeyBulk.json?["flags"] else {
            Issue.record("\(noKeyBulk.text)")
            return
        }
        #expect(partial.first { $0["key"] == "half" }?["errorCode"] == "TARGETING_KEY_MISSING")
        #expect(partial.first { $0["key"] == "on" }?["value"] == true)
        #expect(try await HTTP.post(url, json: "[1").json?["errorCode"] == "PARSE_ERROR")
    }

    @Test func keysAndRateLimits() async throws {
        let cluster = try await FlagCluster(environment: [
            "FLAGS_EVALUATION_ACCESS": "keyed", "FLAGS_OFREP_RATE_LIMIT": "3", "FLAGS_OFREP_RATE_PERIOD_MS": "60000",
        ])
        afterTest { await cluster.stop() }
        #expect(try await cluster.createFlag(#"{"flag_name": "on"}"#).status == 201)
        #expect(try await Self.evaluate(cluster, "on", "{}").status == 401)
        #expect(try await Self.evaluate(cluster, "on", "{}", headers: ["X-Api-Key": "wrong"]).status == 403)
        #expect(try await HTTP.get(cluster.first.baseURL + "/users/u/flags/on").status == 401)
        #expect(try await HTTP.get(cluster.first.baseURL + "/users/u/flags/on", headers: ["X-Api-Key": FlagCluster.clientKey]).status == 200)
        let client = ["X-Api-Key": FlagCluster.clientKey]
        var statuses: [Int] = []
        for _ in 0..<4 { statuses.append(try await Self.evaluate(cluster, "on", "{}", headers: client).status) }
        #expect(statuses == [200, 200, 200, 429])
        let limited = try await Self.evaluate(cluster, "on", "{}", headers: client)
        #expect(limited.status == 429 && Int(limited.header("retry-after") ?? "") ?? 0 >= 1)
        #expect(limited.header("ratelimit-policy") != nil)
        // Another key has its own allowance.
        #expect(try await Self.evaluate(cluster, "on", "{}", headers: cluster.admin).status == 200)
    }

    /// The OpenFeature Python SDK with the OFREP provider, as an application would use it,
    /// gets the values the service's own endpoint gives.
    @Test func theOpenFeaturePythonSDKGetsTheServiceValues() async throws {
        let python = try #require(ProcessInfo.processInfo.environment["TEST_PYTHON"], "scripts/test.sh sets TEST_PYTHON")
        let cluster = try await FlagCluster(environment: ["FLAGS_EVALUATION_ACCESS": "keyed"])
        afterTest { await cluster.stop() }
        for flag in [
            #"{"flag_name": "bool_half", "rollout_percentage": 50}"#,
            #"{"flag_name": "bool_off", "status": false}"#,
            #"{"flag_name": "colour", "variants": [{"name": "red", "value": "red!", "weight": 1}, {"name": "blue", "value": "blue!", "weight": 1}]}"#,
            #"{"flag_name": "limit", "variants": [{"name": "low", "value": 10}, {"name": "high", "value": 1000, "weight": 0}], "rules": [{"conditions": [{"attribute": "plan", "operator": "eq", "values": ["pro"]}], "serve": {"variant": "high"}}]}"#,
            #"{"flag_name": "ratio", "variants": [{"name": "a", "value": 0.25}, {"name": "b", "value": 0.75}]}"#,
            #"{"flag_name": "layout", "variants": [{"name": "grid", "value": {"columns": 3, "dense": true, "tags": ["a", "b"]}}]}"#,
            #"{"flag_name": "greeting", "status": false, "variants": [{"name": "hi", "value": "hi"}]}"#,
        ] {
            #expect(try await cluster.createFlag(flag).status == 201)
        }
        var cases: [JSONValue] = []
        for user in ["alice123", "bob456", "user1", "user2", "u347712782"] {
            for (flag, type, fallback) in [
                ("bool_half", "boolean", JSONValue.bool(false)), ("bool_off", "boolean", .bool(true)), ("colour", "string", "none"),
                ("limit", "integer", 0), ("ratio", "float", 0.5), ("layout", "object", [:]), ("greeting", "string", "fallback"),
            ] {
                for plan in ["free", "pro"] {
                    cases.append([
                        "flag": .string(flag), "type": .string(type), "default": fallback, "targetingKey": .string(user),
                        "attributes": ["plan": .string(plan)],
                    ])
                }
            }
        }
        cases.append(["flag": "missing", "type": "boolean", "default": true, "targetingKey": "u"])
        let casesPath = TestEnvironment.tmpdir + "/" + TestEnvironment.unique("ofrep-cases") + ".json"
        let resultsPath = casesPath + ".out"
        try JSONEncoder().encode(JSONValue.array(cases)).write(to: URL(fileURLWithPath: casesPath))
        let script = TestEnvironment.repositoryRoot + "/tools/ofrep_client.py"
        try await Shell.run([python, script, cluster.first.baseURL, casesPath, resultsPath, FlagCluster.clientKey])
        let results = try JSONDecoder().decode([JSONValue].self, from: Data(contentsOf: URL(fileURLWithPath: resultsPath)))
        #expect(results.count == cases.count)

        for (sent, got) in zip(cases, results) {
            guard case .string(let flag)? = sent["flag"], case .string(let user)? = sent["targetingKey"] else { continue }
            if flag == "missing" {
                #expect(got["error_code"] == "FLAG_NOT_FOUND" && got["value"] == true)
                continue
            }
            let plan = sent["attributes"]?["plan"] == "pro" ? "pro" : "free"
            let (value, variant, reason) = FlagOracle.expected(flag, user: user, plan: plan, default: sent["default"] ?? .null)
            #expect(got["value"] == value, "\(flag) for \(user) on \(plan): SDK \(got)")
            #expect(got["variant"] == variant && got["reason"] == reason, "\(flag) for \(user) on \(plan): SDK \(got)")
            #expect(got["error_code"] == .null, "\(flag): \(got)")
        }
        // Both outcomes of the split and of the targeting rule were exercised.
        let half = results.filter { $0["flag"] == "bool_half" }.compactMap { $0["value"] }
        #expect(half.contains(true) && half.contains(false))
        let limits = results.filter { $0["flag"] == "limit" }.compactMap { $0["value"] }
        #expect(limits.contains(10) && limits.contains(1000))
    }

    /// schemathesis against the live service and its own `/openapi.json`: no 5xx, and no
    /// status, content type, header or body outside the document.
    @Test func schemathesisFindsNothing() async throws {
        let cluster = try await FlagCluster()
        afterTest { await cluster.stop() }
        do {
            // An SSE stream never ends; tested by its own test.
            let output = try await Schemathesis.run(cluster.first.baseURL, adminKey: FlagCluster.adminKey, seed: "20261123", excluding: ["/events"])
            #expect(output.contains("passed"))
        } catch let failure as Shell.Failure {
            Issue.record("schemathesis found problems:\n\(failure.output.suffix(6000))")
        }
        #expect(cluster.first.isRunning)
    }
}
