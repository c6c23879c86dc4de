import Foundation

/// `If-Match` / `If-None-Match` lists against one strong tag.
public enum ETag {
    /// True when `header` is `*` or lists `tag` (weak `W/` prefixes compare equal, as
    /// `If-None-Match` asks).
    public static func matches(_ header: String, _ tag: String) -> Bool {
        header.split(separator: ",").contains { candidate in
            var candidate = candidate.trimmingCharacters(in: .whitespaces)[...]
            if candidate == "*" { return true }
            if candidate.hasPrefix("W/") { candidate = candidate.dropFirst(2) }
            return candidate == tag[...]
        }
    }
}
