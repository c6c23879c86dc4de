/// The Redis Cluster hash slot of a key: CRC16 (XMODEM: polynomial 0x1021, initial value 0)
/// of the key modulo 16384, where a key with a hash tag, a non-empty `{…}` (the first `{`
/// and the first `}` after it), is hashed by the tag alone, so `user:{42}:flags` and
/// `user:{42}:restrictions` share a slot.
public enum RedisKeySlot {
    public static let count = 16384

    public static func slot(of key: String) -> Int { slot(of: Array(key.utf8)) }

    public static func slot(of key: [UInt8]) -> Int { slot(of: key[...]) }

    public static func slot(of key: ArraySlice<UInt8>) -> Int {
        Int(crc16(hashed(key)) % UInt16(count))
    }

    /// The bytes the slot is computed from: the hash tag's content when there is one.
    static func hashed(_ key: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")),
            let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")),
            close > open + 1
        else { return key }
        return key[(open + 1)..<close]
    }

    /// CRC16/XMODEM, the checksum the cluster's slots are taken from.
    public static func crc16(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }
}
