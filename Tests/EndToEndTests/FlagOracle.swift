import Crypto
import Foundation
import Shared
import TestSupport

/// What a flag should answer, worked out here from the README's definitions and not from
/// FlagService's code: the legacy bucket (SHA-256 of `"<user>:<flag>"` as one big-endian
/// number, mod 100), and the variant by weighted rendezvous hashing over a second hash
/// (`"<user>:<flag>:variant"`), each variant scoring `-ln(u) / weight` with `u` from SplitMix64
/// of the seed xor the FNV-1a hash of its name; the lowest score wins.
enum FlagOracle {
    static func bucket(_ user: String, _ flag: String) -> Int {
        SHA256.hash(data: Data("\(user):\(flag)".utf8)).reduce(0) { ($0 * 256 + Int($1)) % 100 }
    }

    static func variant(_ user: String, _ flag: String, _ variants: [(name: String, weight: Double)]) -> String {
        let digest = Array(SHA256.hash(data: Data("\(user):\(flag):variant".utf8)))
        let seed = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        var best = (name: "", score: Double.infinity)
        for variant in variants where variant.weight > 0 {
            let fnv = variant.name.utf8.reduce(UInt64(0xCBF2_9CE4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
            // SplitMix64's first output for that seed is the mix the README names.
            var mix = SplitMix(seed: seed ^ fnv)
            let z = mix.next()
            let score = -log((Double(z >> 11) + 0.5) / 9_007_199_254_740_992) / variant.weight
            if score < best.score { best = (variant.name, score) }
        }
        return best.name
    }

    /// The SDK's answer for `flag` (one of the OFREP test's flags) for `user` on `plan`:
    /// value, variant, reason.
    static func expected(_ flag: String, user: String, plan: String, default fallback: JSONValue) -> (JSONValue, JSONValue, JSONValue) {
        switch flag {
        case "bool_half":
            let on = bucket(user, flag) < 50
            return (.bool(on), on ? "on" : "off", "SPLIT")
        case "bool_off":
            return (false, "off", "DISABLED")
        case "colour":
            let name = variant(user, flag, [("red", 1), ("blue", 1)])
            return (.string(name + "!"), .string(name), "SPLIT")
        case "limit":
            // One weighted variant (high weighs 0): the rule decides, no split.
            return plan == "pro" ? (1000, "high", "TARGETING_MATCH") : (10, "low", "DEFAULT")
        case "ratio":
            let name = variant(user, flag, [("a", 1), ("b", 1)])
            return (name == "a" ? 0.25 : 0.75, .string(name), "SPLIT")
        case "layout":
            return (["columns": 3, "dense": true, "tags": ["a", "b"]], "grid", "STATIC")
        case "greeting":
            // Off, and no variant to serve when off: the application's default.
            return (fallback, "off", "DISABLED")
        default:
            return (.null, .null, .null)
        }
    }
}
