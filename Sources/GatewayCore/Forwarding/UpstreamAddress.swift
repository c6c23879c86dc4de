/// Where an instance's base URL (`http://host:port[/base]`) points, as the forwarding path
/// connects and writes: plain HTTP only (TLS ends in front of the gateway; routes to
/// `https://` upstreams go through the router's client instead).
struct UpstreamAddress: Sendable, Hashable {
    /// The URL it was read from, which alone identifies it (one hash per pool lookup).
    let url: String
    let host: String
    let port: Int
    /// The `Host` field the upstream is sent.
    let hostField: String
    /// A path the URL carries before the forwarded one, without a trailing slash.
    let basePath: String

    init?(_ url: String) {
        guard url.hasPrefix("http://") else { return nil }
        let rest = url.dropFirst(7)
        let authority = rest.prefix { $0 != "/" }
        var base = String(rest.dropFirst(authority.count))
        while base.hasSuffix("/") { base.removeLast() }
        let host: Substring
        let port: Int
        if authority.hasPrefix("[") {
            // An IPv6 literal: `[::1]:8081`.
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.isEmpty {
                port = 80
            } else {
                guard after.first == ":", let parsed = Int(after.dropFirst()) else { return nil }
                port = parsed
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let parsed = Int(authority[authority.index(after: colon)...]) else { return nil }
            port = parsed
        } else {
            host = authority
            port = 80
        }
        guard !host.isEmpty, (1...65535).contains(port) else { return nil }
        self.host = String(host)
        self.port = port
        self.hostField = String(authority)
        self.basePath = base
        self.url = url
    }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.url == rhs.url }

    func hash(into hasher: inout Hasher) { hasher.combine(url) }
}
