/// A connection driven by blocking C calls and owned by a ``BlockingConnectionPool``.
///
/// A connection is used by one caller at a time (the pool's lease guarantees it), always on a
/// thread of the pool's own `NIOThreadPool`, never on an event loop or the cooperative pool.
public protocol BlockingConnection: AnyObject, Sendable {
    /// True once a call failed in a way that leaves the connection unusable; the pool then
    /// closes it instead of handing it out again.
    var isBroken: Bool { get }
    /// A cheap, non-blocking look at an idle connection before it is handed out: false when
    /// the server has closed it meanwhile (a restart), so the pool opens a fresh one instead
    /// of failing the caller's first command.
    func isAlive() -> Bool
    /// Releases the underlying C handle. Called exactly once, on a pool thread.
    func close()
}
