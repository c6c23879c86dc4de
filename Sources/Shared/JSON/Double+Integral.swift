extension Double {
    /// The value as an integer when it is whole and within 64 bits (exactly: every `Double`
    /// beyond 2^53 is whole), else nil. Whole numbers are written as their digits, so what
    /// the suite writes reads back as the same value (``JSONValue``).
    public var integralValue: Int64? {
        rounded() == self && magnitude < 9_223_372_036_854_775_808 ? Int64(self) : nil
    }

    /// The value as text the way the suite writes numbers everywhere (JSON, stream fields,
    /// string comparisons): whole values as integers (`5`, not `5.0`), the rest in the
    /// shortest form that reads back the same.
    public var integralOrShortestText: String {
        integralValue.map(String.init) ?? String(self)
    }
}
