import Foundation
import Testing

@testable import FlagCore

@Suite("Bucketing")
struct BucketingTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        let user: String
        let flag: String
        let bucket: Int
        var testDescription: String { "\(user):\(flag) → \(bucket)" }
    }

    /// `Tests/Vectors/bucketing.tsv`, a copy of the design's `shared/vectors/bucketing.tsv`.
    static let vectors: [Vector] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Vectors/bucketing.tsv")
        let text = try! String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: true).compactMap { line in
            guard !line.hasPrefix("#") else { return nil }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            return Vector(user: String(fields[0]), flag: String(fields[1]), bucket: Int(fields[2])!)
        }
    }()

    @Test func theFileHasEveryVector() {
        #expect(Self.vectors.count == 40)
    }

    /// On both SHA-256 paths (the CPU's extensions where it has them, and swift-crypto).
    @Test(arguments: vectors)
    func matchesTheLegacyService(_ vector: Vector) {
        #expect(Bucketing.bucket(key: vector.user, flag: vector.flag) == vector.bucket)
        #expect(Bucketing.bucket(key: vector.user, flag: vector.flag, hashing: .software) == vector.bucket)
    }

    @Test func theVariantHashIsIndependentOfTheBucket() {
        // Users in one bucket must still spread over the variant space.
        var seeds: [Int: Set<UInt64>] = [:]
        for index in 0..<5000 {
            let user = "user\(index)"
            seeds[Bucketing.bucket(key: user, flag: "f"), default: []].insert(Bucketing.variantSeed(key: user, flag: "f") >> 62)
        }
        #expect(seeds.values.allSatisfy { $0.count == 4 })
    }
}
