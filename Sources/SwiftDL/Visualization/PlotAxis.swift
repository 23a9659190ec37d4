import Foundation

/// One axis of a plot: the range of values it shows, and its ticks at "nice" values (1, 2 or 5
/// times a power of ten apart) with their labels.
struct PlotAxis {
    /// The values from the axis's start to its end; never empty.
    let range: ClosedRange<Double>
    /// The tick values inside the range, increasing.
    let ticks: [Double]
    /// The label of each tick.
    let labels: [String]

    /// The axis for `values` (non-finite ones are ignored) or, when given, the fixed `range`.
    ///
    /// A range found from the values is widened by `margin` of its length on each side. When all
    /// values are equal (or a fixed range is a single value) the range is widened to a tenth of
    /// the value's magnitude on each side, or to −1...1 around 0; with no finite values it is 0...1.
    init(values: [Double], fixed: ClosedRange<Double>?, margin: Double, maxTickCount: Int) {
        var low: Double, high: Double
        if let fixed, fixed.lowerBound.isFinite, fixed.upperBound.isFinite {
            (low, high) = (fixed.lowerBound, fixed.upperBound)
        } else {
            let finite = values.filter(\.isFinite)
            (low, high) = (finite.min() ?? 0, finite.max() ?? 1)
            let extra = (high - low) * margin
            (low, high) = (low - extra, high + extra)
        }
        if !(high - low).isFinite {
            (low, high) = (-Double.greatestFiniteMagnitude / 2, Double.greatestFiniteMagnitude / 2)
        }
        if low == high {
            let extra = low == 0 ? 1 : abs(low) / 10
            (low, high) = (low - extra, high + extra)
        }
        range = low...high
        ticks = Self.niceTicks(in: range, maxCount: max(maxTickCount, 2))
        labels = Self.labels(for: ticks)
    }

    /// Where `value` falls along the axis: 0 at the range's start, 1 at its end.
    func fraction(of value: Double) -> Double {
        (value - range.lowerBound) / (range.upperBound - range.lowerBound)
    }

    /// The multiples of the smallest step of 1, 2 or 5 times a power of ten that puts at most
    /// `maxCount` of them in `range`.
    static func niceTicks(in range: ClosedRange<Double>, maxCount: Int) -> [Double] {
        let span = range.upperBound - range.lowerBound
        let rough = span / Double(maxCount - 1)
        var power = pow(10, (log10(rough)).rounded(.down))
        var step = power
        search: while true {
            for multiple in [1.0, 2, 5] {
                step = multiple * power
                let count = (range.upperBound / step).rounded(.down) - (range.lowerBound / step).rounded(.up) + 1
                if count <= Double(maxCount) { break search }
            }
            power *= 10
        }
        let first = (range.lowerBound / step).rounded(.up), last = (range.upperBound / step).rounded(.down)
        guard first <= last else { return [] }
        return stride(from: first, through: last, by: 1).map { k in
            // k·step, with the rounding error of values that should be 0 removed.
            abs(k) < 0.5 ? 0 : k * step
        }
    }

    /// Labels as short as possible that tell the ticks apart: fixed-point with as many decimals
    /// as the step needs, or for very large or small values each value's shortest mantissa and
    /// exponent (`2.5e-5`, `1e6`); 0 is always `0`.
    static func labels(for ticks: [Double]) -> [String] {
        guard let largest = ticks.map(abs).max() else { return [] }
        let step = ticks.count >= 2 ? ticks[1] - ticks[0] : max(largest, 1)
        if largest < 1e6 && step >= 1e-4 {
            let decimals = max(0, Int(-(log10(step) + 1e-9).rounded(.down)))
            return ticks.map { $0 == 0 ? "0" : String(format: "%.\(decimals)f", $0) }
        }
        return ticks.map { tick in
            if tick == 0 { return "0" }
            for digits in 0...6 {
                // "2.5e-05" becomes "2.5e-5", "1e+06" becomes "1e6".
                let parts = String(format: "%.\(digits)e", tick).split(separator: "e")
                let label = "\(parts[0])e\(Int(parts[1])!)"
                if abs(Double(label)! - tick) <= step * 1e-3 { return label }
            }
            return String(format: "%.6e", tick)
        }
    }
}
