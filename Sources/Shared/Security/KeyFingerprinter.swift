import Crypto

/// Names an API key wherever a key would otherwise be stored or logged: rate-limit cells in
/// Redis, log fields, the flag audit log's actor.
///
/// A fingerprint is an HMAC-SHA256 of the key under a secret, so someone who reads Redis or
/// the logs can neither recover a key nor test guesses offline. The secret is
/// `API_KEY_FINGERPRINT_SECRET` when set (set it to keep fingerprints stable across key
/// rotations and equal across services); otherwise it is derived from the configured keys
/// themselves, which every instance with the same keys shares and nobody without them knows.
public struct KeyFingerprinter: Sendable {
    private let secret: SymmetricKey

    public init(secret: some Sequence<UInt8>) {
        self.secret = SymmetricKey(data: Array(secret))
    }

    /// The secret from the environment, else one derived from `keys`.
    public init(environment env: EnvironmentReader, keys: some Sequence<String>) {
        if let configured = env.string("API_KEY_FINGERPRINT_SECRET"), !configured.isEmpty {
            self.init(secret: Array(configured.utf8))
        } else {
            var material = Array("suite-key-fingerprint\u{0}".utf8)
            for key in Set(keys).sorted() { material += Array(key.utf8) + [0] }
            self.init(secret: Array(SHA256.hash(data: material)))
        }
    }

    /// `k_` and 24 hex digits (96 bits) of HMAC-SHA256(secret, key).
    public func fingerprint(_ key: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Array(key.utf8), using: secret)
        return "k_" + hex(Array(code).prefix(12))
    }
}
