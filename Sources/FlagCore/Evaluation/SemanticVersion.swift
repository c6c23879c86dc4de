/// A semantic version (semver.org 2.0.0) with its precedence: `1.2.3-rc.1 < 1.2.3`; a
/// leading `v` and a missing minor or patch (`v2`, `1.4`) are accepted, build metadata is
/// ignored.
public struct SemanticVersion: Sendable, Comparable {
    var core: (Int, Int, Int)
    var prerelease: [Substring]

    public init?(_ text: String) {
        var rest = Substring(text)
        if rest.first == "v" || rest.first == "V" { rest = rest.dropFirst() }
        if let plus = rest.firstIndex(of: "+") { rest = rest[..<plus] }
        var pre: Substring = ""
        if let dash = rest.firstIndex(of: "-") {
            pre = rest[rest.index(after: dash)...]
            rest = rest[..<dash]
            guard !pre.isEmpty else { return nil }
        }
        let numbers = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...3).contains(numbers.count) else { return nil }
        var parts = [0, 0, 0]
        for (index, number) in numbers.enumerated() {
            guard !number.isEmpty, number.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), number.count <= 9, let value = Int(number) else {
                return nil
            }
            parts[index] = value
        }
        core = (parts[0], parts[1], parts[2])
        prerelease = pre.isEmpty ? [] : pre.split(separator: ".", omittingEmptySubsequences: false)
        guard !prerelease.contains(where: \.isEmpty) else { return nil }
    }

    public static func < (lhs: SemanticVersion, rhs: SemanticVersion) -> Bool {
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

    public static func == (lhs: SemanticVersion, rhs: SemanticVersion) -> Bool {
        !(lhs < rhs) && !(rhs < lhs)
    }
}
