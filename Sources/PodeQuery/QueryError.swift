/// A query that cannot be run, with a message that says what to change.
public enum QueryError: Error, CustomStringConvertible {
    case syntax(String)
    /// A grep pattern that is not a valid regular expression.
    case pattern(String)
    case unknownField(String)
    case unsupported(String)
    case internalError(String)

    public var description: String {
        switch self {
        case .syntax(let m): "the query is not valid: \(m) (see 'pode search --help' for the syntax)"
        case .pattern(let m): m
        case .unknownField(let f):
            "unknown field '\(f):' in the query; the fields are file:, func:, var:, kind:, thread:, type:, value:, seq:, line: (quote text that contains a colon: \"\(f):...\")"
        case .unsupported(let m): "the query cannot be run: \(m)"
        case .internalError(let m): "internal error while running the query: \(m)"
        }
    }
}
