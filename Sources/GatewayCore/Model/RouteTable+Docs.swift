import Shared

extension RouteTable {
    /// Each routed service's `/docs` through the gateway, under its shortest prefix (`/flags`
    /// rather than `/flags/ofrep`), by prefix.
    var docsLinks: [APIDocsPage.Link] {
        var shortest: [String: String] = [:]
        for route in routes where shortest[route.service].map({ route.prefix.count < $0.count }) ?? true {
            shortest[route.service] = route.prefix
        }
        return shortest.sorted { $0.value < $1.value }.map { APIDocsPage.Link(title: "\($0.key) (\($0.value))", href: $0.value + "/docs") }
    }
}
