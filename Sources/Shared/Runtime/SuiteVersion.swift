/// The suite's version, reported in heartbeats and `/health`.
public enum SuiteVersion {
    public static let current = "0.1.0"
}
