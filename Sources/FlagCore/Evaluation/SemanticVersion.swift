/// A semantic version (semver.org 2.0.0) with its precedence: `1.2.3-rc.1 < 1.2.3`; a
/// leading `v` and a missing minor or patch (`v2`, `1.4`) are accepted, build metadata is
/// ignored.
struct SemanticVersion: Sendable, Comparable {
    var core: (Int, Int, Int)
    /// Kept whole and split only when two pre-releases are compared: parsing runs per
    /// evaluation for context attributes, so it must not allocate.
    var prereleaseText: Substring

    var prerelease: [Substring] { prereleaseText.isEmpty ? [] : prereleaseText.split(separator: ".", omittingEmptySubsequences: false) }

    init?(_ text: String) {
        var text = text
        // On the UTF-8 bytes in place: String.UTF8View indexing checks every step.
        guard let (core, prereleaseOffset) = text.withUTF8(Self.parseCore) else { return nil }
        self.core = core
        guard let prereleaseOffset else {
            prereleaseText = ""
            return
        }
        let rest = text[text.utf8.index(text.startIndex, offsetBy: prereleaseOffset)...]
        let pre = rest.firstIndex(of: "+").map { rest[..<$0] } ?? rest
        guard !pre.isEmpty, !pre.hasPrefix("."), !pre.hasSuffix("."), !pre.contains("..") else { return nil }
        prereleaseText = pre
    }

    /// `major[.minor[.patch]]` after an optional `v`, and where a pre-release starts.
    private static func parseCore(_ bytes: UnsafeBufferPointer<UInt8>) -> ((Int, Int, Int), Int?)? {
        var parts = (0, 0, 0)
        var part = 0
        var digits = 0
        var value = 0
        var index = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "v") || bytes[index] == UInt8(ascii: "V") { index += 1 }
        func store() -> Bool {
            guard digits > 0, digits <= 9 else { return false }
            switch part {
            case 0: parts.0 = value
            case 1: parts.1 = value
            default: parts.2 = value
            }
            return true
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte >= 0x30 && byte <= 0x39 {
                value = value * 10 + Int(byte - 0x30)
                digits += 1
            } else if byte == UInt8(ascii: ".") {
                guard store(), part < 2 else { return nil }
                part += 1
                digits = 0
                value = 0
            } else if byte == UInt8(ascii: "-") {
                guard store() else { return nil }
                return (parts, index + 1)
            } else if byte == UInt8(ascii: "+") {
                break
            } else {
                return nil
            }
            index += 1
        }
        guard store() else { return nil }
        return (parts, nil)
    }

    static func < (lhs: SemanticVersion, rhs: SemanticVersion) -> Bool {
        if lhs.core != rhs.core { return lhs.core < rhs.core }
        // A pre-release sorts before its release.
        switch (lhs.prerelease.isEmpty, rhs.prerelease.isEmpty) {
        case (true, true), (true, false): return false
        case (false, true): return true
        case (false, false): break
        }
        for (left, right) in zip(lhs.prerelease, rhs.prerelease) where left != right {
            switch (Int(left), Int(right)) {
            case let (l?, r?): return l < r
            case (_?, nil): return true
            case (nil, _?): return false
            case (nil, nil): return left < right
            }
        }
        return lhs.prerelease.count < rhs.prerelease.count
    }

    static func == (lhs: SemanticVersion, rhs: SemanticVersion) -> Bool {
        !(lhs < rhs) && !(rhs < lhs)
    }
}
