import Logging

extension Logger {
    /// The logger a service starts from, in the configured format and level. Built with an
    /// explicit factory, so no process-wide logging bootstrap is needed.
    public static func service(_ label: String, level: Logger.Level, format: LogFormat) -> Logger {
        var logger = Logger(label: label) { LineLogHandler(label: $0, format: format) }
        logger.logLevel = level
        return logger
    }
}
