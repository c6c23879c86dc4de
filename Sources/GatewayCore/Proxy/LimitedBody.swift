import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import Shared

/// A request body that stops at `limit` bytes (for bodies without a `Content-Length`),
/// says whether it arrived whole, and marks the client's own failures as such.
struct LimitedBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    struct TooLarge: Error {
        let limit: Int
    }

    /// Reading the client's body failed: it left or broke off mid-body.
    struct ClientFailed: Error {
        let underlying: any Error
    }

    final class Progress: Sendable {
        private let done = NIOLockedValueBox(false)
        var finished: Bool { done.withLockedValue { $0 } }
        func finish() { done.withLockedValue { $0 = true } }
    }

    let base: RequestBody
    let limit: Int
    let progress = Progress()

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let limit: Int
        let progress: Progress
        var seen = 0

        mutating func next() async throws -> ByteBuffer? {
            let buffer: ByteBuffer?
            do { buffer = try await base.next() } catch { throw ClientFailed(underlying: error) }
            guard let buffer else {
                progress.finish()
                return nil
            }
            seen += buffer.readableBytes
            if seen > limit { throw TooLarge(limit: limit) }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), limit: limit, progress: progress)
    }
}
