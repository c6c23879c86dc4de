/// The paths every service serves for orchestrators (``Router/addCommonRoutes``): the ones
/// `--health-check` asks and `--print-config` names, so probes in deployment files can be
/// checked against them.
public enum HealthPaths {
    /// Answers 200 while the process serves at all: restart it when this fails.
    public static let live = "/health/live"
    /// Answers 200 once every required dependency is up, 503 before: route to it when 200.
    public static let ready = "/health/ready"
    /// Prometheus' text format.
    public static let metrics = "/metrics"
}
