/// A service's own configuration: the platform's settings and whatever the service adds.
/// ``ServiceMain`` reads the address and the port to probe from it.
public protocol ServiceSettings: Sendable {
    var service: ServiceConfiguration { get }
}
