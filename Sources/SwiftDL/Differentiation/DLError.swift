import RealModule
/// An error SwiftDL throws for a mistake in how it was called.
///
/// Each case carries a message that says which rule was broken and how to fix it.
public enum DLError: Error, Equatable, CustomStringConvertible {
    /// Shapes that do not fit together (broadcasting, matrix products, concatenation, reshaping).
    case shapeMismatch(String)
    /// An argument outside what the operation accepts (a dimension, a label string, a count).
    case invalidArgument(String)
    /// An element type the operation does not accept.
    case unsupportedType(String)
    /// `dlgradient` was called with values or in a place that cannot be differentiated.
    case differentiation(String)
    /// A file could not be read or written, or its contents are not what was expected.
    case file(String)
    /// A collective over workers could not complete: a worker failed or left the group, or
    /// the message-passing library reported an error (see ``DLCommunicator``).
    case communication(String)
    /// An accelerated function's cached trace gave results that differ from running the function
    /// (see ``AcceleratedFunction/checkMode``).
    case acceleration(String)

    /// The message, which names the broken rule and the fix.
    public var message: String {
        switch self {
        case .shapeMismatch(let m), .invalidArgument(let m), .unsupportedType(let m),
             .differentiation(let m), .file(let m), .communication(let m), .acceleration(let m):
            m
        }
    }

    /// The message, as printed.
    public var description: String { message }
}
