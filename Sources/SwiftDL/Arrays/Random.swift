import CSwiftDLSupport
import ComplexModule
import RealModule

/// A seeded random number generator (xoshiro256**): the same seed gives the same numbers on
/// every machine. Pass it `inout` to the random creation functions; there is no global state.
///
/// It is `Codable`: its encoded state continues the sequence exactly where it was, so a training
/// checkpoint can store it and a resumed run draws the same numbers as an uninterrupted one.
public struct DLRandomGenerator: RandomNumberGenerator, Sendable, Codable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) {
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotate(state.3, 45)
        return result
    }

    /// Encodes the four words of the generator's state.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        for word in [state.0, state.1, state.2, state.3] { try container.encode(String(word, radix: 16)) }
    }

    /// Continues a generator from its encoded state.
    /// - Throws: `DecodingError` unless the state is four hexadecimal 64-bit words, not all zero.
    public init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        var words: [UInt64] = []
        for _ in 0..<4 {
            let text = try container.decode(String.self)
            guard let word = UInt64(text, radix: 16) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(text) is not a 64-bit hexadecimal word")
            }
            words.append(word)
        }
        guard words.contains(where: { $0 != 0 }) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "an all-zero xoshiro256** state"))
        }
        state = (words[0], words[1], words[2], words[3])
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform double in [0, 1).
    public mutating func nextUniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A standard normal double (Box–Muller).
    public mutating func nextNormal() -> Double {
        let u = 1 - nextUniform(), v = nextUniform()
        return Self.normal(u, v)
    }

    /// Box–Muller's normal number from a uniform `u` in (0, 1] and a uniform `v` in [0, 1).
    @inline(__always) static func normal(_ u: Double, _ v: Double) -> Double {
        (-2 * Double.log(u)).squareRoot() * Double.cos(2 * .pi * v)
    }
}

extension DLArray {
    /// An array of uniform random numbers in [0, 1) (both parts, for complex types).
    public static func rand(_ shape: [Int], type: DLDataType = .float64, labels: String = "",
                            using generator: inout DLRandomGenerator) -> DLArray {
        random(shape, type: type, labels: labels) { generator.nextUniform() }
    }

    /// An array of uniform random numbers in [0, 1) from a generator seeded with `seed`.
    public static func rand(_ shape: [Int], type: DLDataType = .float64, labels: String = "",
                            seed: UInt64) -> DLArray {
        var generator = DLRandomGenerator(seed: seed)
        return rand(shape, type: type, labels: labels, using: &generator)
    }

    /// An array of standard normal random numbers; complex elements have independent parts of
    /// variance 1/2 each, so each element has variance 1 (as PyTorch).
    public static func randn(_ shape: [Int], type: DLDataType = .float64, labels: String = "",
                             using generator: inout DLRandomGenerator) -> DLArray {
        let scale = type.isComplex ? (0.5).squareRoot() : 1
        guard type == .float32 || type == .float64 else {
            return random(shape, type: type, labels: labels) { generator.nextNormal() * scale }
        }
        // The uniform pairs are drawn in order on this thread; the logarithms and cosines of
        // Box–Muller, most of the time (about 25 ns a number in float64, 7 in float32 through
        // `swiftdl_box_muller_f32`), are shared among the cores from 1024 numbers per core: the
        // same numbers as `nextNormal()` one at a time.
        let count = shape.reduce(1, *)
        let uniforms = [Double](unsafeUninitializedCapacity: 2 * count) { buffer, initialized in
            for i in 0..<count {
                buffer[2 * i] = 1 - generator.nextUniform()
                buffer[2 * i + 1] = generator.nextUniform()
            }
            initialized = 2 * count
        }
        let storage = Storage.constant(count: count, dataType: type)
        uniforms.withUnsafeBufferPointer { uniforms in
            guard let base = uniforms.baseAddress else { return }   // no elements
            let pairs = UncheckedSendable(base)
            if type == .float32 {
                let p = UncheckedSendable(storage.pointer(as: Float.self))
                Parallel.forEachChunk(count: count, grain: 1024) { range in
                    swiftdl_box_muller_f32(range.count, pairs.value + 2 * range.lowerBound, p.value + range.lowerBound)
                }
            } else {
                let p = UncheckedSendable(storage.pointer(as: Double.self))
                Parallel.forEachChunk(count: count, grain: 1024) { range in
                    for i in range { p.value[i] = DLRandomGenerator.normal(pairs.value[2 * i], pairs.value[2 * i + 1]) }
                }
            }
        }
        return DLArray(storage: storage, shape: shape).withCanonicalLabels(labels)
    }

    /// An array of standard normal random numbers from a generator seeded with `seed`.
    public static func randn(_ shape: [Int], type: DLDataType = .float64, labels: String = "",
                             seed: UInt64) -> DLArray {
        var generator = DLRandomGenerator(seed: seed)
        return randn(shape, type: type, labels: labels, using: &generator)
    }

    private static func random(_ shape: [Int], type: DLDataType, labels: String,
                               _ draw: () -> Double) -> DLArray {
        let count = shape.reduce(1, *)
        let storage = Storage.constant(count: count, dataType: type)
        switch type {
        case .float32:
            let p = storage.pointer(as: Float.self)
            for i in 0..<count { p[i] = Float(draw()) }
        case .float64:
            let p = storage.pointer(as: Double.self)
            for i in 0..<count { p[i] = draw() }
        case .complex64:
            let p = storage.pointer(as: Complex<Float>.self)
            for i in 0..<count { p[i] = Complex(Float(draw()), Float(draw())) }
        case .complex128:
            let p = storage.pointer(as: Complex<Double>.self)
            for i in 0..<count { p[i] = Complex(draw(), draw()) }
        case .bool:
            let p = storage.pointer(as: Bool.self)
            for i in 0..<count { p[i] = draw() < 0.5 }
        }
        return DLArray(storage: storage, shape: shape).withCanonicalLabels(labels)
    }
}
