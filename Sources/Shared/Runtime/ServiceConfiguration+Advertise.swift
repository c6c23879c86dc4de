import NIOCore
import NIOPosix

extension ServiceConfiguration {
    /// The host to advertise when `HOST` is a wildcard and `ADVERTISE_URL` is unset: this
    /// machine's first non-loopback IPv4 address (a container's or a network namespace's own
    /// address, which is what other instances can reach), else the first global IPv6 one, else
    /// loopback (a machine with no network, where every service runs side by side).
    static func reachableHost(forWildcard host: String) -> String {
        let devices = (try? System.enumerateDevices()) ?? []
        let addresses = devices.compactMap(\.address)
        if let ipv4 = addresses.first(where: { $0.protocol == .inet && !($0.ipAddress ?? "127.").hasPrefix("127.") })?.ipAddress {
            return ipv4
        }
        let global = addresses.first { address in
            guard address.protocol == .inet6, let ip = address.ipAddress?.lowercased() else { return false }
            return ip != "::1" && !ip.hasPrefix("fe80:")
        }
        return global?.ipAddress ?? (host == "::" ? "::1" : "127.0.0.1")
    }
}
