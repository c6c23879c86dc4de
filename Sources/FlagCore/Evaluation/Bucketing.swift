import CSHA256
import Crypto
import Foundation

/// The deterministic hashes that place a user.
///
/// The on/off bucket is the legacy service's, kept so migrated users keep their assignment:
/// SHA-256 of `"<user_id>:<flag_name>"` as one big-endian number, mod 100. The variant is
/// chosen by a second, independent hash of `"<user_id>:<flag_name>:variant"`.
public enum Bucketing {
    /// 0..<100.
    public static func bucket(key: String, flag: String) -> Int {
        bucket(key: key, flag: flag, hashing: .fastest)
    }

    /// Which SHA-256 to run: the CPU's SHA extensions where there are some, else swift-crypto;
    /// `.software` always takes swift-crypto, so tests run both on every machine.
    enum Hashing {
        case fastest
        case software
    }

    static func bucket(key: String, flag: String, hashing: Hashing) -> Int {
        // Horner's rule over 32-bit words: 8 divisions instead of 32 byte-wise ones.
        digest(key, flag, suffix: false, hashing: hashing) { bytes in
            var remainder: UInt64 = 0
            for offset in stride(from: 0, to: 32, by: 4) {
                remainder = (remainder << 32 | UInt64(UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))) % 100
            }
            return Int(remainder)
        }
    }

    /// 64 bits for the variant choice, independent of ``bucket(key:flag:)``.
    static func variantSeed(key: String, flag: String) -> UInt64 {
        digest(key, flag, suffix: true) { UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) }
    }

    /// SHA-256 of `"<key>:<flag>"` (with `":variant"` when `suffix`), laid out in one stack
    /// buffer and hashed in one call, on the CPU's SHA extensions where there are some.
    private static func digest<Result>(
        _ key: String,
        _ flag: String,
        suffix: Bool,
        hashing: Hashing = .fastest,
        _ body: (UnsafeRawBufferPointer) -> Result
    ) -> Result {
        var key = key
        var flag = flag
        return key.withUTF8 { key in
            flag.withUTF8 { flag in
                let length = key.count + 1 + flag.count + (suffix ? 8 : 0)
                return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: length + 32) { buffer in
                    let message = UnsafeMutableBufferPointer(rebasing: buffer[..<length])
                    var offset = message.initialize(fromContentsOf: key)
                    message[offset] = UInt8(ascii: ":")
                    offset = message[(offset + 1)...].initialize(fromContentsOf: flag)
                    if suffix { _ = message[offset...].initialize(fromContentsOf: ":variant".utf8) }
                    let output = UnsafeMutableBufferPointer(rebasing: buffer[length...])
                    if hashing == .fastest, csha256_hardware(message.baseAddress, length, output.baseAddress) != 0 {
                        return body(UnsafeRawBufferPointer(output))
                    }
                    return SHA256.hash(data: UnsafeRawBufferPointer(message)).withUnsafeBytes(body)
                }
            }
        }
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
