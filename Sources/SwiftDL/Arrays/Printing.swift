import RealModule
import Foundation

extension DLArray: CustomStringConvertible {
    /// The array printed as MATLAB prints a dlarray: its size, then its values.
    ///
    /// ```
    ///   1x2 dlarray
    ///
    ///    396   200
    /// ```
    public var description: String {
        var text = "  \(sizeDescription) dlarray\n\n"
        let values = printedParts()
        let cells = Self.format(values, isBool: dataType == .bool, isComplex: dataType.isComplex)
        let width = cells.map(\.count).max() ?? 0
        let pad = { (cell: String) in String(repeating: " ", count: width - cell.count + 3) + cell }
        let columns = rank == 0 ? 1 : shape[rank - 1]
        let rows = rank <= 1 ? 1 : shape[rank - 2]
        let pages = rank <= 2 ? 1 : shape.dropLast(2).reduce(1, *)
        if count == 0 { return text + "     []\n" }
        for page in 0..<pages {
            if rank > 2 {
                var index = [Int](), remainder = page
                for size in shape.dropLast(2).reversed() {
                    index.insert(remainder % size, at: 0)
                    remainder /= size
                }
                text += "  [" + index.map(String.init).joined(separator: ", ") + ", :, :] =\n\n"
            }
            for row in 0..<rows {
                let start = (page * rows + row) * columns
                text += cells[start..<start + columns].map(pad).joined() + "\n"
            }
            text += "\n"
        }
        return text
    }

    /// The size as MATLAB writes it: `1x1` for a scalar, `1xN` for a vector, `2(C) x 3(B)` when labeled.
    var sizeDescription: String {
        if !labels.isEmpty {
            return zip(shape, labels).map { "\($0)(\($1))" }.joined(separator: " x ")
        }
        switch rank {
        case 0: return "1x1"
        case 1: return "1x\(shape[0])"
        default: return shape.map(String.init).joined(separator: "x")
        }
    }

    /// The elements as (real, imaginary) pairs of doubles.
    private func printedParts() -> [(Double, Double)] {
        switch dataType {
        case .complex64, .complex128:
            return scalars(as: ComplexDouble.self).map { $0.storedParts }
        default:
            return scalars(as: Double.self).map { ($0, 0) }
        }
    }

    private typealias ComplexDouble = Complex<Double>

    /// Formats values as MATLAB does: integers plainly, others with four decimals.
    private static func format(_ values: [(Double, Double)], isBool: Bool, isComplex: Bool) -> [String] {
        let allIntegers = !isComplex && values.allSatisfy { ($0.0.rounded() == $0.0 || !$0.0.isFinite) && $0.1.rounded() == $0.1 }
            && values.allSatisfy { abs($0.0) < 1e9 && abs($0.1) < 1e9 }
        let largest = values.map { max(abs($0.0), abs($0.1)) }.filter(\.isFinite).max() ?? 0
        func real(_ v: Double) -> String {
            if v.isNaN { return "NaN" }
            if v.isInfinite { return v > 0 ? "Inf" : "-Inf" }
            if isBool || allIntegers { return String(format: "%.0f", v) }
            if largest >= 1e5 || (largest < 1e-3 && largest > 0) { return String(format: "%.4e", v) }
            return String(format: "%.4f", v)
        }
        return values.map { value in
            guard isComplex else { return real(value.0) }
            let sign = value.1 < 0 || (value.1 == 0 && value.1.sign == .minus) ? "-" : "+"
            return "\(real(value.0)) \(sign) \(real(abs(value.1)))i"
        }
    }
}

import ComplexModule
