import CSHA256
import Crypto
import Testing

@testable import FlagCore

/// The SHA-extension path bucketing uses where the CPU has it, against swift-crypto.
@Suite("SHA-256 on the CPU's SHA extensions")
struct HardwareSHA256Tests {
    static let available: Bool = {
        var digest = [UInt8](repeating: 0, count: 32)
        return csha256_hardware(nil, 0, &digest) != 0
    }()

    /// Every length from empty to past four blocks, so each padding case (tail of 0–55
    /// bytes in one block, 56–63 spilling into a second) and multi-block inputs are covered.
    @Test(.enabled(if: available, "the CPU has no SHA extensions; bucketing uses swift-crypto"))
    func equalsSwiftCryptoForEveryLength() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...300 {
            let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var digest = [UInt8](repeating: 0, count: 32)
            let done = message.withUnsafeBufferPointer { csha256_hardware($0.baseAddress, length, &digest) }
            #expect(done == 1)
            #expect(digest == Array(SHA256.hash(data: message)), "length \(length)")
        }
    }

    /// The whole bucket against the legacy definition computed here with swift-crypto,
    /// for ids long enough to need two and three blocks.
    @Test func bucketsOfLongIdsMatchTheDefinition() {
        for length in [1, 40, 54, 55, 56, 63, 64, 100, 150] {
            let user = String(repeating: "u", count: length)
            let reference = SHA256.hash(data: Array("\(user):checkout".utf8)).reduce(0) { ($0 << 8 | Int($1)) % 100 }
            #expect(Bucketing.bucket(key: user, flag: "checkout") == reference, "id of \(length) bytes")
        }
    }
}
