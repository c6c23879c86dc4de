import CLibpq
import Foundation

/// One libpq connection. Only ever used by one thread at a time, under a pool lease.
///
/// A statement is prepared on its first use on this connection (`PQsendPrepare`, and a
/// describe for its parameter count) and then executed by name (`PQsendQueryPrepared`), so
/// the server parses and plans it once per connection, not once per call. The cache holds up
/// to `statementCacheSize` statements and starts over (`DEALLOCATE ALL`) when full; it dies
/// with the connection, so a reconnect starts empty. Every wait is on the socket with `poll`,
/// so each call has a client-side deadline even when the server stops answering (a frozen
/// process); the server's own `statement_timeout` is set to the same value.
public final class PostgresConnection: BlockingConnection, @unchecked Sendable {
    /// A statement prepared on this connection.
    private struct Prepared {
        let name: String
        let parameterCount: Int
    }

    private let handle: OpaquePointer
    private var failed = false
    private let statementCacheSize: Int
    private var statements: [String: Prepared] = [:]
    private var statementsPrepared = 0

    init(conninfo: String, applicationName: String, connectTimeout: Duration, queryTimeout: Duration, statementCacheSize: Int) throws {
        self.statementCacheSize = max(0, statementCacheSize)
        // JIT off: the suite's statements are short, and PostgreSQL compiles a plan whenever
        // its cost estimate passes 100,000, which for them only happens on a misestimate
        // (a day's summary: 2 ms of work, 36 ms of compiling).
        let options =
            "-c statement_timeout=\(queryTimeout.millisecondsRoundedUp) -c TimeZone=UTC -c DateStyle=ISO -c client_min_messages=warning -c jit=off"
        let settings: [(String, String)] = [
            ("dbname", conninfo),
            ("connect_timeout", String(max(2, Int(connectTimeout.seconds.rounded(.up))))),
            ("application_name", applicationName),
            ("options", options),
            ("client_encoding", "UTF8"),
        ]
        let keywords = settings.map { strdup($0.0) }
        let values = settings.map { strdup($0.1) }
        defer {
            for pointer in keywords + values { free(pointer) }
        }
        var keywordPointers = keywords.map { UnsafePointer($0) } + [nil]
        var valuePointers = values.map { UnsafePointer($0) } + [nil]
        guard let handle = PQconnectdbParams(&keywordPointers, &valuePointers, 1) else {
            throw DependencyUnavailableError(dependency: "postgres", reason: "out of memory")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let reason = Self.message(PQerrorMessage(handle))
            PQfinish(handle)
            throw DependencyUnavailableError(dependency: "postgres", reason: reason)
        }
        self.handle = handle
    }

    /// Broken after a connection failure or a timeout, and also when a caller left a
    /// transaction open: such a connection must not reach the next caller.
    public var isBroken: Bool {
        failed || PQstatus(handle) != CONNECTION_OK || PQtransactionStatus(handle) != PQTRANS_IDLE
    }

    public func close() {
        PQfinish(handle)
    }

    /// An idle connection has nothing to read unless the server said goodbye (restart,
    /// termination) or sent a notice; consuming that input tells the two apart. A server
    /// going away first sends an error (which libpq takes as a notice on an idle connection)
    /// and then closes, and the close shows only on the next read: so read until nothing is
    /// left, a few rounds at most.
    public func isAlive() -> Bool {
        for _ in 0..<4 {
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, 0) == 0 { return PQstatus(handle) == CONNECTION_OK }
            guard PQconsumeInput(handle) == 1, PQstatus(handle) == CONNECTION_OK else { return false }
        }
        // Still talking while nobody asked: not a connection to hand out.
        return false
    }

    /// Runs one statement with parameters `$1…$n`.
    public func query(_ sql: String, _ parameters: [any PostgresEncodable], timeout: Duration) throws -> PostgresResult {
        let binds = try parameters.map { try $0.postgresBind() }
        let deadline = ContinuousClock.now + timeout
        guard statementCacheSize > 0 else {
            try send(binds) { PQsendQueryParams(handle, sql, Int32(binds.count), nil, $0, $1, $2, 0) }
            return try rows(deadline: deadline)
        }
        // Outside a transaction a failed statement changed nothing, so it may run again.
        let autocommit = PQtransactionStatus(handle) == PQTRANS_IDLE
        var statement = try prepared(sql, deadline: deadline)
        guard statement.parameterCount == binds.count else {
            throw PostgresError.invalidParameter("the statement takes \(statement.parameterCount) parameters, \(binds.count) given")
        }
        do {
            return try execute(statement, binds, deadline: deadline)
        } catch let error as PostgresError where autocommit && error.meansStalePlan {
            // A migration changed what the statement returns (`SELECT *` over an altered
            // table): the server refuses the old plan until it is prepared again.
            statements[sql] = nil
            statement = try prepared(sql, deadline: deadline)
            return try execute(statement, binds, deadline: deadline)
        }
    }

    private func execute(_ statement: Prepared, _ binds: [PostgresBind?], deadline: ContinuousClock.Instant) throws -> PostgresResult {
        try send(binds) { PQsendQueryPrepared(handle, statement.name, Int32(binds.count), $0, $1, $2, 0) }
        return try rows(deadline: deadline)
    }

    /// `sql` prepared on this connection: from the cache, or prepared and described now.
    private func prepared(_ sql: String, deadline: ContinuousClock.Instant) throws -> Prepared {
        if let statement = statements[sql] { return statement }
        if statements.count >= statementCacheSize {
            // Starting over is one round trip and keeps the cache bounded, whatever SQL a
            // caller builds; the statements in use come back on their next call.
            guard PQsendQuery(handle, "DEALLOCATE ALL") == 1 else { throw connectionFailure() }
            try results(deadline: deadline) { _ in }
            statements.removeAll(keepingCapacity: true)
        }
        let name = "suite_\(statementsPrepared)"
        statementsPrepared += 1
        guard PQsendPrepare(handle, name, sql, 0, nil) == 1 else { throw connectionFailure() }
        try results(deadline: deadline) { _ in }
        guard PQsendDescribePrepared(handle, name) == 1 else { throw connectionFailure() }
        var parameterCount = 0
        try results(deadline: deadline) { parameterCount = Int(PQnparams($0)) }
        let statement = Prepared(name: name, parameterCount: parameterCount)
        statements[sql] = statement
        return statement
    }

    /// The first result's rows (a statement has one; the rest would be empty).
    private func rows(deadline: ContinuousClock.Instant) throws -> PostgresResult {
        var result: PostgresResult?
        try results(deadline: deadline) { raw in
            if result == nil { result = Self.extract(raw) }
        }
        return result ?? PostgresResult(columns: [], rows: [], affectedRows: 0)
    }

    /// Reads every result of the command sent, handing each successful one to `take`; the
    /// first server error is thrown once all are read, so the connection is ready again.
    private func results(deadline: ContinuousClock.Instant, _ take: (OpaquePointer) -> Void) throws {
        var serverError: PostgresError?
        while true {
            try waitUntilReady(deadline: deadline)
            guard let raw = PQgetResult(handle) else { break }
            defer { PQclear(raw) }
            switch PQresultStatus(raw) {
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                take(raw)
            default:
                let state = PQresultErrorField(raw, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
                let message = Self.message(PQresultErrorMessage(raw))
                if let state, Self.meansUnavailable(sqlState: state) {
                    failed = true
                    throw DependencyUnavailableError(dependency: "postgres", reason: "server is shutting down or starting")
                }
                serverError = serverError ?? .server(sqlState: state, message: message)
            }
        }
        if PQstatus(handle) != CONNECTION_OK { throw connectionFailure() }
        if let serverError { throw serverError }
    }

    /// Calls `sendCall` with `binds` as libpq takes them (values, lengths, formats):
    /// NUL-terminated copies that live until it returns.
    private func send(_ binds: [PostgresBind?], _ sendCall: ([UnsafePointer<CChar>?], [Int32], [Int32]) -> Int32) throws {
        let buffers: [UnsafeMutablePointer<CChar>?] = binds.map { bind in
            guard let bind else { return nil }
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, bind.bytes.count + 1))
            bind.bytes.withUnsafeBytes { raw in
                if let base = raw.baseAddress { memcpy(buffer, base, bind.bytes.count) }
            }
            buffer[bind.bytes.count] = 0
            return buffer
        }
        defer { for buffer in buffers { buffer?.deallocate() } }
        let values: [UnsafePointer<CChar>?] = buffers.map { $0.map { UnsafePointer($0) } }
        let lengths: [Int32] = binds.map { Int32($0?.bytes.count ?? 0) }
        let formats: [Int32] = binds.map { ($0?.isBinary ?? false) ? 1 : 0 }
        if sendCall(values, lengths, formats) != 1 { throw connectionFailure() }
    }

    /// Reads from the socket until libpq has a whole result, or the deadline passes.
    private func waitUntilReady(deadline: ContinuousClock.Instant) throws {
        while PQisBusy(handle) == 1 {
            let remaining = ContinuousClock.now.duration(to: deadline)
            if remaining <= .zero {
                // The server may be frozen: no cancel request (it could block too); drop the
                // connection, and statement_timeout ends the statement on the server side.
                failed = true
                throw DependencyUnavailableError(dependency: "postgres", reason: "query timed out", retryAfter: .seconds(1))
            }
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(min(remaining.millisecondsRoundedUp, 1000)))
            if ready < 0, errno != EINTR { throw connectionFailure() }
            if ready > 0, PQconsumeInput(handle) != 1 { throw connectionFailure() }
        }
    }

    private func connectionFailure() -> DependencyUnavailableError {
        failed = true
        return DependencyUnavailableError(dependency: "postgres", reason: Self.message(PQerrorMessage(handle)))
    }

    /// Class 08 (connection exception) and 57P01–57P03 (shutdown, cannot connect now).
    private static func meansUnavailable(sqlState: String) -> Bool {
        sqlState.hasPrefix("08") || sqlState == "57P01" || sqlState == "57P02" || sqlState == "57P03"
    }

    private static func message(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "unknown error" }
        let text = String(cString: pointer).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "connection lost" : text
    }

    private static func extract(_ raw: OpaquePointer) -> PostgresResult {
        let rowCount = Int(PQntuples(raw))
        let columnCount = Int(PQnfields(raw))
        var columns: [String] = []
        var types: [UInt32] = []
        var index: [String: Int] = [:]
        for column in 0..<columnCount {
            let name = String(cString: PQfname(raw, Int32(column)))
            columns.append(name)
            types.append(UInt32(PQftype(raw, Int32(column))))
            if index[name] == nil { index[name] = column }
        }
        var bytes: [UInt8] = []
        var cells: [(start: Int, length: Int)] = []
        cells.reserveCapacity(rowCount * columnCount)
        for row in 0..<rowCount {
            for column in 0..<columnCount {
                if PQgetisnull(raw, Int32(row), Int32(column)) == 1 {
                    cells.append((bytes.count, -1))
                } else {
                    let length = Int(PQgetlength(raw, Int32(row), Int32(column)))
                    cells.append((bytes.count, length))
                    bytes.append(contentsOf: UnsafeRawBufferPointer(start: PQgetvalue(raw, Int32(row), Int32(column)), count: length))
                }
            }
        }
        let values = PostgresValues(columnIndex: index, types: types, bytes: bytes, cells: cells)
        let rows = (0..<rowCount).map { PostgresRow(values: values, row: $0) }
        let affected = Int(String(cString: PQcmdTuples(raw))) ?? 0
        return PostgresResult(columns: columns, rows: rows, affectedRows: affected)
    }
}
