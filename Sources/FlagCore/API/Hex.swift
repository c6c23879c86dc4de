import Foundation

/// Lower-case hex of some bytes (key fingerprints, ETags).
func hex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}
