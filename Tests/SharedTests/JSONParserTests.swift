import Foundation
import Shared
import TestSupport
import Testing

/// The hand-written parser against Foundation's JSONDecoder: the same values for what both
/// read, the same refusals, and the few documented differences (bare NaN/Infinity, numbers
/// out of range, depth).
@Suite("JSON parser")
struct JSONParserTests {
    static let alphabet: [Character] = Array("aZ09 _-\"\\/\u{01}\u{1F}\t\n\u{7F}éß€\u{FFFF}\u{10000}😀𝄞中")

    static func randomString(_ rng: inout SplitMix) -> String {
        String((0..<Int.random(in: 0...12, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
    }

    static func randomNumber(_ rng: inout SplitMix) -> Double {
        switch Int.random(in: 0..<5, using: &rng) {
        case 0: Double(Int.random(in: -1000...1000, using: &rng))
        case 1: Double(Int64.random(in: -(1 << 53)...(1 << 53), using: &rng))
        case 2: Double.random(in: -1e6...1e6, using: &rng)
        case 3: Double(sign: .plus, exponent: Int.random(in: -300...300, using: &rng), significand: Double.random(in: 1..<2, using: &rng))
        default: Double.random(in: -1...1, using: &rng)
        }
    }

    static func randomValue(_ rng: inout SplitMix, depth: Int = 0) -> JSONValue {
        let kinds = depth > 4 ? 4 : 6
        switch Int.random(in: 0..<kinds, using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .number(randomNumber(&rng))
        case 3: return .string(randomString(&rng))
        case 4: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &rng) { members[randomString(&rng)] = randomValue(&rng, depth: depth + 1) }
            return .object(members)
        }
    }

    static func foundation(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    static func ours(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONValue.parse(Data(bytes))
    }

    // The two randomised tests yield now and then: the parallel pass runs on as many
    // cooperative threads as there are cores, and seconds of CPU without a suspension point
    // would starve other tests' timers and leases.
    @Test func readsWhatFoundationWritesAsFoundationReadsIt() async throws {
        var rng = SplitMix(seed: 42)
        let encoder = JSONEncoder()
        for round in 0..<2000 {
            if round % 100 == 0 { await Task.yield() }
            let value = Self.randomValue(&rng)
            encoder.outputFormatting = round % 2 == 0 ? [] : [.prettyPrinted, .withoutEscapingSlashes]
            let bytes = Array(try encoder.encode(value))
            let parsed = Self.ours(bytes)
            #expect(parsed == value, "\(String(decoding: bytes, as: UTF8.self))")
            #expect(parsed == Self.foundation(bytes))
        }
    }

    /// Random edits of valid documents: whatever Foundation reads, the parser reads the same,
    /// except for trailing commas, which Foundation lets through and RFC 8259 does not;
    /// whatever the parser reads, Foundation reads the same, unless it holds a number that
    /// Foundation refuses (a bare NaN/Infinity, or one beyond the range of a Double, which the
    /// parser rounds to infinity or zero as IEEE 754 does).
    @Test func agreesWithFoundationOnMangledDocuments() async throws {
        var rng = SplitMix(seed: 7)
        let noise: [UInt8] = Array("{}[]\",:\\-+.eE0123456789 ntfuNI\u{0}".utf8) + [0x80, 0xC3, 0xFF, 0xED, 0xA0]
        var accepted = 0
        var refused = 0
        for round in 0..<10000 {
            if round % 100 == 0 { await Task.yield() }
            var bytes = Array(try JSONEncoder().encode(Self.randomValue(&rng)))
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let position = Int.random(in: 0...bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0 where position < bytes.count: bytes.remove(at: position)
                case 1 where position < bytes.count: bytes[position] = noise.randomElement(using: &rng)!
                default: bytes.insert(noise.randomElement(using: &rng)!, at: position)
                }
            }
            let ours = Self.ours(bytes)
            let theirs = Self.foundation(bytes)
            if let theirs, !Self.hasTrailingComma(bytes) {
                #expect(ours == theirs, "\(bytes)")
            } else if ours != nil, theirs == nil {
                #expect(Self.hasNumberOutOfRange(bytes), "accepted what Foundation refuses: \(bytes)")
            }
            if ours == nil { refused += 1 } else { accepted += 1 }
        }
        // Both sides of the comparison were exercised.
        #expect(accepted > 500 && refused > 500, "accepted \(accepted), refused \(refused)")
    }

    static func hasTrailingComma(_ bytes: [UInt8]) -> Bool {
        let significant = bytes.filter { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        return zip(significant, significant.dropFirst()).contains { $0 == UInt8(ascii: ",") && ($1 == UInt8(ascii: "}") || $1 == UInt8(ascii: "]")) }
    }

    /// A bare NaN/Infinity, or a number literal that is infinite or zero only by rounding.
    static func hasNumberOutOfRange(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes, as: UTF8.self)
        if text.contains("NaN") || text.contains("Infinity") { return true }
        return text.split(whereSeparator: { !"-+.eE0123456789".contains($0) }).contains { token in
            guard let value = Double(token) else { return false }
            let mantissa = token.prefix { $0 != "e" && $0 != "E" }
            return !value.isFinite || (value == 0 && mantissa.contains { "123456789".contains($0) })
        }
    }

    @Test(arguments: [
        "", " ", "{", "}", "[1,]", "[,1]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{\"a\":}", "['a']", "[1 2]",
        "01", "-01", "1.", ".5", "1e", "1e+", "+1", "--1", "-", "0x10", "1_000", "tru", "nul", "True", "nan",
        "Infinityx", "NaNa", "-NaN", "+Infinity", "true false", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\uzzzz\"",
        "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\ud800x\"", "\"a\u{01}b\"", "\"tab\there\"",
        "// comment\n1", "/* c */ 1", "\u{FEFF}1",
    ])
    func refuses(_ text: String) {
        #expect(Self.ours(Array(text.utf8)) == nil)
    }

    @Test(
        arguments: [
            [0x22, 0xFF, 0x22], [0x22, 0xC0, 0x80, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22],
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],
        ] as [[UInt8]]
    )
    func refusesInvalidUTF8(_ bytes: [UInt8]) {
        #expect(Self.ours(bytes) == nil)
    }

    @Test func readsTheEdgesOfTheGrammar() throws {
        let cases: [(String, JSONValue)] = [
            (" \t\r\n1 \n", 1), ("-0", .number(-0.0)), ("1E+2", 100), ("1e-2", 0.01), ("0.5", 0.5), ("-12.5e1", -125),
            ("\"\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\\"\\\\\"", "é😀/\u{8}\u{C}\n\r\t\"\\"),
            ("\"é😀\"", "é😀"), ("[\"NaN\"]", ["NaN"]), ("{\"a\":1,\"a\":2}", ["a": 2]), ("[]", []), ("{}", [:]),
            ("123456789012345", 123_456_789_012_345), ("12345678901234567890", .number(12_345_678_901_234_567_890)),
            ("9007199254740993", .integer(9_007_199_254_740_993)), ("9223372036854775807", .integer(.max)),
            ("-9223372036854775808", .number(-9_223_372_036_854_775_808)),
            ("9007199254740992", .number(9_007_199_254_740_992)), ("9007199254740993.0", .integer(9_007_199_254_740_993)), ("1e16", .number(1e16)),
            ("1e400", .number(.infinity)), ("-Infinity", .number(-.infinity)),
            ("{\"x\":Infinity}", ["x": .number(.infinity)]), ("2.2250738585072014e-308", .number(2.2250738585072014e-308)),
        ]
        for (text, expected) in cases {
            let parsed = try JSONValue.parse(Data(text.utf8))
            #expect(parsed == expected, "\(text) → \(parsed)")
        }
        guard case .number(let nan) = try JSONValue.parse(Data("NaN".utf8)) else {
            Issue.record("NaN is not a number")
            return
        }
        #expect(nan.isNaN)
    }

    /// Integers beyond 2^53 (64-bit ids) come out as they went in, through the parser and the
    /// writer and through Codable; below it every integer is one `number`.
    @Test func integersBeyondTwoToThe53AreExact() throws {
        let text = #"{"id":9007199254740993,"max":9223372036854775807,"ratio":0.25,"small":42}"#
        let parsed = try JSONValue.parse(Data(text.utf8))
        #expect(parsed["id"] == .integer(9_007_199_254_740_993))
        #expect(parsed["small"] == 42 && parsed["small"] == .number(42))
        #expect(parsed["id"]?.double == 9_007_199_254_740_992)
        // The same integer in another spelling is the same value.
        #expect(try JSONValue.parse(Data("90071992547409.93e2".utf8)) == .integer(9_007_199_254_740_993))
        #expect(try JSONValue.parse(Data("9007199254740993e0".utf8)) == .integer(9_007_199_254_740_993))
        #expect(try JSONValue.parse(Data("1.5e18".utf8)) == .number(1.5e18), "a Double holds it exactly")
        var writer = JSONWriter()
        writer.value(parsed)
        #expect(String(buffer: writer.buffer) == text)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let coded = try JSONDecoder().decode(JSONValue.self, from: try encoder.encode(parsed))
        #expect(coded == parsed)
        #expect(String(decoding: try encoder.encode(parsed), as: UTF8.self) == text)
        #expect(JSONValue.exactly(1 << 53) == .number(9_007_199_254_740_992))
        #expect(JSONValue.exactly(-(1 << 53) - 1) == .integer(-9_007_199_254_740_993))
    }

    @Test func numbersReadAsTextTheSameEverywhere() {
        #expect(5.0.integralOrShortestText == "5")
        #expect((-0.0).integralOrShortestText == "0")
        #expect(5.5.integralOrShortestText == "5.5")
        #expect(1e16.integralOrShortestText == "10000000000000000")
        #expect(1e19.integralValue == nil && 1e19.integralOrShortestText == "1e+19")
        #expect(999_999_999_999_999.0.integralOrShortestText == "999999999999999")
    }

    @Test func limitsNestingAndSaysWhereItFailed() throws {
        let limit = 512
        let deepest = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        #expect(Self.ours(Array(deepest.utf8)) != nil)
        let tooDeep = String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)
        #expect(Self.ours(Array(tooDeep.utf8)) == nil)
        // Far deeper than any stack would take by recursion: refused, not a crash.
        let hostile = String(repeating: "{\"a\":[", count: 200_000)
        #expect(Self.ours(Array(hostile.utf8)) == nil)

        do {
            _ = try JSONValue.parse(Data("{\"a\": tru}".utf8))
            Issue.record("parsed an invalid document")
        } catch {
            let problem = ProblemDetails(error)
            #expect(problem.status == .badRequest)
            #expect(problem.detail.contains("invalid literal at byte 6"), "\(problem.detail)")
        }
    }
}
