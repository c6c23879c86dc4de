/// The values of one result's rows as the server sent them (text format), back to back in one
/// buffer, so that a result costs a few allocations however many rows and columns it has.
final class PostgresValues: Sendable {
    let columnIndex: [String: Int]
    let types: [UInt32]
    let bytes: [UInt8]
    /// Per cell, row by row: where its value starts in `bytes` and its length; -1 for NULL.
    let cells: [(start: Int, length: Int)]

    init(columnIndex: [String: Int], types: [UInt32], bytes: [UInt8], cells: [(start: Int, length: Int)]) {
        self.columnIndex = columnIndex
        self.types = types
        self.bytes = bytes
        self.cells = cells
    }

    /// The value of `row`'s `column`, or nil for NULL.
    func value(row: Int, column: Int) -> ArraySlice<UInt8>? {
        let cell = cells[row * types.count + column]
        return cell.length < 0 ? nil : bytes[cell.start..<cell.start + cell.length]
    }
}
