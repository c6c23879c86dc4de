import Foundation
import TestSupport
import Testing

@testable import AnalyticsCore

/// The quantile sketch: within 1% of the exact quantile, whatever the data's shape, and
/// merging sketches is the sketch of all the points.
@Suite("Quantile sketch")
struct SketchTests {
    /// The exact q-quantile as the sketch defines it: the value of rank ⌊q·(n−1)⌋.
    static func exact(_ sorted: [Double], _ q: Double) -> Double {
        sorted[Int((q * Double(sorted.count - 1)).rounded(.down))]
    }

    static func lognormal(_ random: inout SplitMix, mu: Double, sigma: Double) -> Double {
        let u1 = max(Double(random.next() >> 11) / Double(1 << 53), 1e-300)
        let u2 = Double(random.next() >> 11) / Double(1 << 53)
        return exp(mu + sigma * sqrt(-2 * log(u1)) * cos(2 * .pi * u2))
    }

    @Test(arguments: ["lognormal", "pareto", "mixed signs and zeros", "tiny and huge"])
    func everyQuantileIsWithinOnePercent(_ shape: String) {
        var random = SplitMix(seed: UInt64(shape.utf8.count))
        let values: [Double] = (0..<100_000).map { index in
            switch shape {
            case "lognormal": return Self.lognormal(&random, mu: 3, sigma: 1.5)
            case "pareto": return 1 / pow(max(Double(random.next() >> 11) / Double(1 << 53), 1e-12), 1 / 1.2)
            case "mixed signs and zeros": return index % 7 == 0 ? 0 : (index % 3 == 0 ? -1 : 1) * Self.lognormal(&random, mu: 0, sigma: 2)
            default: return (index % 2 == 0 ? 1e-7 : 1e12) * Self.lognormal(&random, mu: 0, sigma: 1)
            }
        }
        var sketch = QuantileSketch()
        for value in values { sketch.add(value) }
        let sorted = values.sorted()
        for q in [0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1] {
            let exact = Self.exact(sorted, q)
            let estimate = sketch.quantile(q)!
            let error = exact == 0 ? abs(estimate) : abs(estimate - exact) / abs(exact)
            #expect(error <= QuantileSketch.relativeAccuracy + 1e-12, "\(shape) q=\(q): \(estimate) for \(exact)")
        }
        #expect(sketch.count == 100_000)
    }

    @Test func mergingIsTheSketchOfEveryPoint() {
        var random = SplitMix(seed: 7)
        var all = QuantileSketch()
        var parts = [QuantileSketch](repeating: QuantileSketch(), count: 4)
        for index in 0..<10_000 {
            let value = Self.lognormal(&random, mu: 1, sigma: 1) * (index % 5 == 0 ? -1 : 1)
            all.add(value)
            parts[index % 4].add(value)
        }
        var merged = QuantileSketch()
        for part in parts { merged.merge(part) }
        #expect(merged == all)
        #expect(QuantileSketch().quantile(0.5) == nil)
    }
}
