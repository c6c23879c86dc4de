/// A strict reader of the Prometheus text exposition format: `# HELP`/`# TYPE` lines and
/// samples `name{label="value",…} number`.
public enum PrometheusText {
    public static func isValid(_ text: String) -> Bool {
        let sample = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9.eE+-]+|NaN|\+Inf|-Inf)( [0-9]+)?$/
        let comment = /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$/
        var samples = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("#") {
                guard line.wholeMatch(of: comment) != nil else { return false }
            } else {
                guard line.wholeMatch(of: sample) != nil else { return false }
                samples += 1
            }
        }
        return samples > 0
    }
}
