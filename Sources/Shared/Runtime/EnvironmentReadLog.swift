import Synchronization

/// The names of the variables an ``EnvironmentReader`` was asked for, set or not.
///
/// `--print-config` builds a service with a recording reader, so that deployment files can
/// be checked against what the service really reads rather than against a copied list.
public final class EnvironmentReadLog: Sendable {
    private let names = Mutex<Set<String>>([])

    public init() {}

    func note(_ name: String) {
        _ = names.withLock { $0.insert(name) }
    }

    /// Every name asked for so far, sorted.
    public var read: [String] { names.withLock { $0.sorted() } }
}
