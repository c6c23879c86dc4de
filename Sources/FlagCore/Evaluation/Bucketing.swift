import Crypto

/// The deterministic hashes that place a user.
///
/// The on/off bucket is the legacy service's, kept so migrated users keep their assignment:
/// SHA-256 of `"<user_id>:<flag_name>"` as one big-endian number, mod 100. The variant is
/// chosen by a second, independent hash of `"<user_id>:<flag_name>:variant"`.
public enum Bucketing {
    /// 0..<100.
    public static func bucket(key: String, flag: String) -> Int {
        let digest = hash(key, flag, suffix: false)
        return digest.withUnsafeBytes { bytes in
            var remainder = 0
            for byte in bytes { remainder = (remainder << 8 | Int(byte)) % 100 }
            return remainder
        }
    }

    /// 64 bits for the variant choice, independent of ``bucket(key:flag:)``.
    public static func variantSeed(key: String, flag: String) -> UInt64 {
        let digest = hash(key, flag, suffix: true)
        return digest.withUnsafeBytes { bytes in
            bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
    }

    private static let colon: [UInt8] = [0x3A]
    private static let variantSuffix = Array(":variant".utf8)

    private static func hash(_ key: String, _ flag: String, suffix: Bool) -> SHA256.Digest {
        var hasher = SHA256()
        update(&hasher, key)
        hasher.update(data: colon)
        update(&hasher, flag)
        if suffix { hasher.update(data: variantSuffix) }
        return hasher.finalize()
    }

    private static func update(_ hasher: inout SHA256, _ string: String) {
        var string = string
        string.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
    }

    /// Weighted rendezvous hashing: each variant scores `-ln(u) / weight` with `u` uniform
    /// from the seed and the variant's name; the lowest score wins. A variant is picked with
    /// probability weight / total, and changing one variant's weight only moves users to or
    /// from that variant: users never move between two variants whose weights stayed.
    static func pick(seed: UInt64, variants: [CompiledVariant]) -> CompiledVariant? {
        var best: CompiledVariant?
        var bestScore = Double.infinity
        for variant in variants where variant.weight > 0 {
            let mixed = splitMix64(seed ^ variant.nameHash)
            let uniform = (Double(mixed >> 11) + 0.5) * 0x1p-53
            let score = -log(uniform) / variant.weight
            if score < bestScore {
                bestScore = score
                best = variant
            }
        }
        return best
    }

    static func splitMix64(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// FNV-1a: stable across processes, unlike Swift's seeded `Hasher`.
    static func fnv1a(_ string: String) -> UInt64 {
        string.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }
}

import Foundation
