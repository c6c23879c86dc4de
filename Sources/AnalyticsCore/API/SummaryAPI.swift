import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// `GET /api/metrics/summary?type=&period=` (or `from`/`to`, `bucket`, `tz`): the figures of
/// a type over a range from its rollups, with `external_data`, read through the cache.
///
/// `Cache-Status` says how it was found and `Age` how old it is. With PostgreSQL down, the
/// last cached answer is served marked `"stale": true` (stale-if-error), else 503.
struct SummaryAPI: Sendable {
    let store: SummaryStore
    let cache: SummaryCache
    let external: ExternalSource
    let maxRange: Duration

    func register(on router: some RouterMethods<ServiceRequestContext>) {
        router.get("/api/metrics/summary") { request, context in
            var parameters: [String: String] = [:]
            for (name, value) in request.uri.queryParameters {
                let name = String(name)
                guard parameters[name] == nil else { throw JSONFieldError(field: name, "may be given once") }
                parameters[name] = String(value)
            }
            let query = try SummaryQuery(parameters, now: MetricsAPI.now(), maxRange: maxRange)
            let answer = try await cache.answer(query.cacheKey) { try await compute(query) }
            var body = answer.body
            if answer.outcome == .stale, case .object(var object) = body {
                object["stale"] = true
                object["age_seconds"] = .integer(answer.age)
                body = .object(object)
            }
            return try Response.json(body, headers: [.cacheStatus: answer.cacheStatus, .age: String(max(0, answer.age))])
        }
    }

    func compute(_ query: SummaryQuery) async throws -> JSONValue {
        let slots: [Figures]
        do {
            slots = try await store.figures(type: query.type, plan: query.plan)
        } catch let error as PostgresError {
            throw error.asUnavailable
        }
        var total = Figures()
        for slot in slots { total.merge(slot) }
        var object = total.json
        object["type"] = .string(query.type)
        object["period"] = .string(query.period)
        object["from"] = .string(Timestamp.iso8601(microseconds: query.from))
        object["to"] = .string(Timestamp.iso8601(microseconds: query.to))
        if let bucket = query.bucket {
            object["bucket"] = .string(bucket.rawValue)
            object["tz"] = .string(query.timeZone.identifier)
            object["series"] = .array(
                zip(query.plan.slots, slots).map { range, figures in
                    var slot = figures.json
                    slot["from"] = .string(Timestamp.iso8601(microseconds: range.from))
                    slot["to"] = .string(Timestamp.iso8601(microseconds: range.to))
                    return .object(slot)
                }
            )
        }
        object["external_data"] = await external.fetch(type: query.type)
        return .object(object)
    }
}

extension HTTPField.Name {
    static let cacheStatus = Self("Cache-Status")!
}
