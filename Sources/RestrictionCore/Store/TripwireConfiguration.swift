import Shared

/// When a rule stops restricting: the users it restricted (or would have) in the last
/// `window` exceed `ratio` of the known users and number at least `minimumUsers`.
public struct TripwireConfiguration: Sendable, Equatable {
    var window: Duration
    var ratio: Double
    var minimumUsers: Int

    public init(window: Duration = .seconds(300), ratio: Double = 0.05, minimumUsers: Int = 10) {
        self.window = window
        self.ratio = ratio
        self.minimumUsers = minimumUsers
    }

    /// Whether `count` users in the window, out of `known`, trip the wire.
    func trips(count: Int, known: Int) -> Bool {
        Double(count) > ratio * Double(known) && count >= minimumUsers
    }
}
