import Crypto

/// A set of API keys held as SHA-256 digests, never as the keys themselves.
///
/// ``contains(_:)`` hashes the presented key and compares it with every digest without an
/// early exit, so how long a check takes says nothing about how close a guess was, nor which
/// key it was close to.
public struct APIKeySet: Sendable, Equatable {
    private let digests: [[UInt8]]

    public init(_ keys: some Sequence<String>) {
        var seen = Set<[UInt8]>()
        digests = keys.filter { !$0.isEmpty }.map(Self.digest).filter { seen.insert($0).inserted }
    }

    public var isEmpty: Bool { digests.isEmpty }
    public var count: Int { digests.count }

    public func contains(_ key: String) -> Bool {
        let presented = Self.digest(key)
        var found: UInt8 = 0
        for digest in digests {
            var difference: UInt8 = 0
            for index in 0..<32 { difference |= digest[index] ^ presented[index] }
            found |= difference == 0 ? 1 : 0
        }
        return found == 1
    }

    /// Both sets' keys.
    public func union(_ other: APIKeySet) -> APIKeySet {
        APIKeySet(digests: digests + other.digests.filter { !digests.contains($0) })
    }

    private init(digests: [[UInt8]]) { self.digests = digests }

    private static func digest(_ key: String) -> [UInt8] { Array(SHA256.hash(data: Array(key.utf8))) }
}
