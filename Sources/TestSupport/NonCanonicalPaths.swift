/// Spellings of a path that name the same route to some router or proxy, for the tests that
/// check access is decided from the matched route and not from the raw path.
public enum NonCanonicalPaths {
    /// Spellings of `path` a router or a proxy might take for the same route.
    public static func variants(of path: String) -> [String] {
        let inner = path.dropFirst()
        var spellings = [
            "/" + path, path + "/", "/." + path, path + "/.", path.replacingOccurrences(of: "/", with: "//"),
            "/x/.." + path, path.uppercased(), "/%2F" + inner, path.replacingOccurrences(of: "/", with: "%2F"),
            "/" + inner.replacingOccurrences(of: "/", with: "%2f"), "/%2e" + path,
        ]
        if let slash = inner.firstIndex(of: "/") {
            spellings.append("/" + inner[..<slash] + "//" + inner[inner.index(after: slash)...])
        }
        return spellings
    }
}
