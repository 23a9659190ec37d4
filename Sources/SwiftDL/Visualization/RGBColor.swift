/// A color of 8-bit red, green and blue values, as PNG images store them.
///
/// ```swift
/// let orange = RGBColor(red: 255, green: 127, blue: 14)
/// let third = RGBColor.palette[2]     // the third series' color
/// ```
public struct RGBColor: Sendable, Hashable {
    /// The red value, 0 (none) to 255 (full).
    public var red: UInt8
    /// The green value, 0 (none) to 255 (full).
    public var green: UInt8
    /// The blue value, 0 (none) to 255 (full).
    public var blue: UInt8

    /// The color with the given red, green and blue values.
    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// The gray whose red, green and blue values are all `level`.
    public init(gray level: UInt8) {
        self.init(red: level, green: level, blue: level)
    }

    /// White (255, 255, 255).
    public static let white = RGBColor(gray: 255)
    /// Black (0, 0, 0).
    public static let black = RGBColor(gray: 0)
    /// Middle gray (128, 128, 128).
    public static let gray = RGBColor(gray: 128)
    /// Light gray (224, 224, 224), for grid lines.
    public static let lightGray = RGBColor(gray: 224)
    /// Dark gray (64, 64, 64), for text and axes.
    public static let darkGray = RGBColor(gray: 64)
    /// Red (214, 39, 40), the palette's fourth color.
    public static let red = RGBColor(red: 214, green: 39, blue: 40)
    /// Green (44, 160, 44), the palette's third color.
    public static let green = RGBColor(red: 44, green: 160, blue: 44)
    /// Blue (31, 119, 180), the palette's first color.
    public static let blue = RGBColor(red: 31, green: 119, blue: 180)
    /// Orange (255, 127, 14), the palette's second color.
    public static let orange = RGBColor(red: 255, green: 127, blue: 14)
    /// Purple (148, 103, 189), the palette's fifth color.
    public static let purple = RGBColor(red: 148, green: 103, blue: 189)

    /// Ten colors that are easy to tell apart on white, for the series of a plot: blue, orange,
    /// green, red, purple, brown, pink, gray, olive and cyan (the "Tableau 10" colors). Plots
    /// give their n-th series `palette[n % 10]` unless told otherwise.
    public static let palette: [RGBColor] = [
        .blue, .orange, .green, .red, .purple,
        RGBColor(red: 140, green: 86, blue: 75), RGBColor(red: 227, green: 119, blue: 194),
        RGBColor(red: 127, green: 127, blue: 127), RGBColor(red: 188, green: 189, blue: 34),
        RGBColor(red: 23, green: 190, blue: 207),
    ]

    /// This color mixed with `other`: `fraction` 0 is this color, 1 is `other`.
    func mixed(with other: RGBColor, fraction: Double) -> RGBColor {
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 {
            UInt8((Double(a) + (Double(b) - Double(a)) * fraction).rounded())
        }
        return RGBColor(red: mix(red, other.red), green: mix(green, other.green), blue: mix(blue, other.blue))
    }
}
