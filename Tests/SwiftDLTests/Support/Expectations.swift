import Testing
@testable import SwiftDL

/// Expects `body` to throw a `DLError` whose message contains every one of `fragments`.
func expectError(containing fragments: String..., sourceLocation: SourceLocation = #_sourceLocation,
                 _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an error containing \(fragments)", sourceLocation: sourceLocation)
    } catch let error as DLError {
        for fragment in fragments {
            #expect(error.message.contains(fragment), "message: \(error.message)", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}

/// Expects `gradcheck` of `function` at `x` to pass at each of `orders`.
func expectGradients<X: DLArrayContainer>(
    _ function: (X) throws -> DLArray, at x: X, orders: ClosedRange<Int> = 1...2,
    _ comment: String = "", sourceLocation: SourceLocation = #_sourceLocation
) throws {
    for order in orders {
        let result = try gradcheck(function, at: x, order: order)
        #expect(result.passed, "\(comment) \(result)", sourceLocation: sourceLocation)
    }
}

/// The message of the `DLError` that `body` throws, after checking that it is of the case `kind`.
func errorMessage(_ kind: (String) -> DLError, _ body: () throws -> Void,
                  sourceLocation: SourceLocation = #_sourceLocation) -> String {
    do {
        try body()
        Issue.record("expected an error", sourceLocation: sourceLocation)
        return ""
    } catch let error as DLError {
        #expect(error == kind(error.message), "wrong case: \(error)", sourceLocation: sourceLocation)
        return error.message
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        return ""
    }
}
