import CSHA256
import Crypto
import TestSupport
import Testing

@testable import FlagCore

/// Both SHA-256 paths bucketing can take, on every machine: the CPU's SHA extensions (where
/// the CPU has none, the C entry point must say so and touch nothing) and swift-crypto.
@Suite("SHA-256 paths")
struct HardwareSHA256Tests {
    static let available: Bool = {
        var digest = [UInt8](repeating: 0, count: 32)
        return csha256_hardware(nil, 0, &digest) != 0
    }()

    /// Every length from empty to past four blocks, so each padding case (tail of 0–55
    /// bytes in one block, 56–63 spilling into a second) and multi-block inputs are covered,
    /// with seeded random bytes, so a failure reproduces.
    @Test func theHardwarePathEqualsSwiftCryptoOrDeclines() {
        var generator = SplitMix(seed: 20_261_202)
        for length in 0...300 {
            let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var digest = [UInt8](repeating: 0xAA, count: 32)
            let done = message.withUnsafeBufferPointer { csha256_hardware($0.baseAddress, length, &digest) }
            if Self.available {
                #expect(done == 1)
                #expect(digest == Array(SHA256.hash(data: message)), "length \(length)")
            } else {
                #expect(done == 0 && digest == [UInt8](repeating: 0xAA, count: 32), "declined but wrote, length \(length)")
            }
        }
    }

    /// The whole bucket on each path against the legacy definition computed here with
    /// swift-crypto, for ids long enough to need two and three blocks.
    @Test(arguments: [Bucketing.Hashing.fastest, .software])
    func bucketsOfLongIdsMatchTheDefinition(_ hashing: Bucketing.Hashing) {
        for length in [0, 1, 40, 54, 55, 56, 63, 64, 100, 150] {
            let user = String(repeating: "u", count: length)
            let reference = SHA256.hash(data: Array("\(user):checkout".utf8)).reduce(0) { ($0 << 8 | Int($1)) % 100 }
            #expect(Bucketing.bucket(key: user, flag: "checkout", hashing: hashing) == reference, "id of \(length) bytes")
        }
    }
}
