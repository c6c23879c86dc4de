import HTTPTypes
import NIOHTTP1
import Shared

extension HTTPRequestHead {
    /// Rewrites the client's head in place for the upstream, by the rules of
    /// ``GatewayProxy/forwardedHeaders(_:peer:trusted:requestID:dropping:)``: `target` as the
    /// URI, the upstream's `Host`, hop-by-hop fields and those named in `Connection` dropped,
    /// `X-Forwarded-For`/`-Proto` and `X-Request-Id` set, `Expect` dropped. The body's framing
    /// (`Content-Length`, or chunked) is kept, since the body is streamed as it comes; an
    /// upgrade keeps `Upgrade` and says so in `Connection`.
    mutating func rewriteForUpstream(target: String, host: String, peer: String?, trusted: TrustedProxies, requestID: String, upgrade: Bool) {
        let named = headers.contains(name: "connection") ? GatewayProxy.connectionNamed(headers["connection"]) : []
        let believed = peer.map(trusted.contains) ?? false
        var rewritten = HTTPHeaders()
        rewritten.reserveCapacity(headers.count + 4)
        rewritten.add(name: "Host", value: host)
        var forwardedFor: [String] = []
        var chunked = false
        for (name, value) in headers {
            let lower = name.lowercased()
            switch lower {
            case "content-length":
                rewritten.add(name: name, value: value)
            case "transfer-encoding":
                chunked = chunked || value.lowercased().contains("chunked")
            case "x-forwarded-for":
                if believed { forwardedFor.append(value) }
            case "expect":
                // The gateway answers `100 Continue` itself (the upstream's codec drops 1xx).
                continue
            case "upgrade" where upgrade:
                rewritten.add(name: name, value: value)
            default:
                if !GatewayProxy.hopByHop.contains(lower), !GatewayProxy.requestOnly.contains(lower), !named.contains(lower) {
                    rewritten.add(name: name, value: value)
                }
            }
        }
        if chunked { rewritten.add(name: "Transfer-Encoding", value: "chunked") }
        if upgrade { rewritten.add(name: "Connection", value: "Upgrade") }
        if let peer { forwardedFor.append(peer) }
        if !forwardedFor.isEmpty { rewritten.add(name: "X-Forwarded-For", value: forwardedFor.joined(separator: ", ")) }
        rewritten.add(name: "X-Forwarded-Proto", value: "http")
        rewritten.add(name: "X-Request-Id", value: requestID)
        headers = rewritten
        uri = target
        version = .http1_1
    }
}

extension HTTPResponseHead {
    /// Rewrites the upstream's head in place for the client: hop-by-hop fields and those named
    /// in `Connection` dropped (the server's encoder frames the body again), `extra` (the
    /// gateway's rate-limit headers and request id) winning over the upstream's fields of the
    /// same names; `Connection: close` when the client's connection ends with this response,
    /// and `Upgrade` kept on a `101`.
    mutating func rewriteForClient(adding extra: HTTPFields, close: Bool) {
        let upgrade = status == .switchingProtocols
        let named = headers.contains(name: "connection") ? GatewayProxy.connectionNamed(headers["connection"]) : []
        var rewritten = HTTPHeaders()
        rewritten.reserveCapacity(headers.count + extra.count + 1)
        for (name, value) in headers {
            let lower = name.lowercased()
            if upgrade, lower == "upgrade" {
                rewritten.add(name: name, value: value)
                continue
            }
            guard !GatewayProxy.hopByHop.contains(lower), !named.contains(lower),
                !extra.contains(where: { $0.name.canonicalName == lower })
            else { continue }
            rewritten.add(name: name, value: value)
        }
        for field in extra { rewritten.add(name: field.name.rawName, value: field.value) }
        if upgrade {
            rewritten.add(name: "Connection", value: "Upgrade")
        } else if close {
            rewritten.add(name: "Connection", value: "close")
        }
        headers = rewritten
    }
}
