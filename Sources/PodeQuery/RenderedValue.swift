/// A recorded rendering read back as a tree, so that `p x.attr` and `p x[key]` can answer from
/// what was recorded: lists, tuples, sets, dicts, objects with their `{attr=value}` part, and
/// anything else as one opaque piece of text.
public struct RenderedValue: Sendable {
    public enum Shape: Sendable {
        case atom
        case sequence([RenderedValue])
        case mapping([(key: RenderedValue, value: RenderedValue)])
        case object([(name: String, value: RenderedValue)])
    }

    public let text: String
    public let shape: Shape

    /// Parses a rendering; nil when it is not one pode wrote (or was cut short).
    public init?(parsing text: String) {
        var p = Parser(chars: Array(text))
        guard let v = p.value(), p.atEnd else { return nil }
        self = v
    }

    init(text: String, shape: Shape) {
        self.text = text
        self.shape = shape
    }

    /// One step of a path: `.name` or `[key]`.
    public enum Step: Equatable, Sendable {
        case attribute(String)
        case item(String)
    }

    /// Splits `name.attr[key]...` into the variable's name and the steps after it.
    public static func path(_ expression: String) -> (name: String, steps: [Step])? {
        let chars = Array(expression.trimmingWhitespace())
        var i = 0
        func identifier() -> String? {
            let start = i
            while i < chars.count && (chars[i].isLetter || chars[i].isNumber || chars[i] == "_") { i += 1 }
            return i > start ? String(chars[start..<i]) : nil
        }
        guard let name = identifier() else { return nil }
        var steps: [Step] = []
        while i < chars.count {
            if chars[i] == "." {
                i += 1
                guard let a = identifier() else { return nil }
                steps.append(.attribute(a))
            } else if chars[i] == "[" {
                guard let j = scan(chars, from: i, until: { c, depth in c == "]" && depth == 1 }), j < chars.count else { return nil }
                steps.append(.item(String(chars[(i + 1)..<j]).trimmingWhitespace()))
                i = j + 1
            } else {
                return nil
            }
        }
        return (name, steps)
    }

    /// Follows `steps`; throws a message saying where the recorded text ran out.
    public func follow(_ steps: [Step]) throws -> RenderedValue {
        var v = self
        for step in steps {
            switch (step, v.shape) {
            case (.attribute(let a), .object(let attrs)):
                guard let found = attrs.first(where: { $0.name == a }) else {
                    throw QueryError.unsupported("the recorded value has no attribute '\(a)' (it has: \(attrs.map(\.name).joined(separator: ", ")))")
                }
                v = found.value
            case (.item(let key), .sequence(let items)):
                guard let n = Int(key), -items.count <= n, n < items.count else {
                    throw QueryError.unsupported("index \(key) is out of range for the recorded \(items.count) items")
                }
                v = items[n >= 0 ? n : items.count + n]
            case (.item(let key), .mapping(let entries)):
                let wanted = Self.normalizedKey(key)
                guard let found = entries.first(where: { Self.normalizedKey($0.key.text) == wanted }) else {
                    throw QueryError.unsupported("the recorded value has no key \(key)")
                }
                v = found.value
            case (.attribute(let a), _):
                throw QueryError.unsupported("the recorded text \(v.text) shows no attribute '\(a)'")
            case (.item(let key), _):
                throw QueryError.unsupported("the recorded text \(v.text) cannot be indexed with [\(key)]")
            }
        }
        return v
    }

    /// A key as the rendering writes it: strings in single quotes.
    static func normalizedKey(_ key: String) -> String {
        if key.count >= 2, key.first == "\"", key.last == "\"", !key.dropFirst().dropLast().contains("'") {
            return "'" + key.dropFirst().dropLast() + "'"
        }
        return key
    }

    struct Parser {
        let chars: [Character]
        var i = 0

        var atEnd: Bool {
            var j = i
            while j < chars.count && chars[j] == " " { j += 1 }
            return j == chars.count
        }

        mutating func skipSpaces() { while i < chars.count && chars[i] == " " { i += 1 } }

        mutating func value() -> RenderedValue? {
            skipSpaces()
            guard i < chars.count else { return nil }
            let start = i
            switch chars[i] {
            case "[", "(":
                let close: Character = chars[i] == "[" ? "]" : ")"
                i += 1
                guard let items = list(until: close) else { return nil }
                return RenderedValue(text: String(chars[start..<i]), shape: .sequence(items))
            case "{":
                i += 1
                return braces(start: start)
            case "<":
                var depth = 0
                while i < chars.count {
                    if chars[i] == "<" { depth += 1 }
                    if chars[i] == ">" { depth -= 1; if depth == 0 { break } }
                    i += 1
                }
                guard i < chars.count else { return nil }
                i += 1
                let head = i
                if i + 1 < chars.count, chars[i] == " ", chars[i + 1] == "{" {
                    i += 2
                    var attrs: [(name: String, value: RenderedValue)] = []
                    skipSpaces()
                    if i < chars.count && chars[i] == "}" { i += 1; return RenderedValue(text: String(chars[start..<i]), shape: .object([])) }
                    while i < chars.count {
                        skipSpaces()
                        let nameStart = i
                        while i < chars.count && chars[i] != "=" { i += 1 }
                        guard i < chars.count else { return nil }
                        let name = String(chars[nameStart..<i])
                        i += 1
                        guard let v = value() else { return nil }
                        attrs.append((name, v))
                        skipSpaces()
                        guard i < chars.count else { return nil }
                        if chars[i] == "," { i += 1; continue }
                        if chars[i] == "}" { i += 1; break }
                        return nil
                    }
                    return RenderedValue(text: String(chars[start..<i]), shape: .object(attrs))
                }
                i = head
                return RenderedValue(text: String(chars[start..<i]), shape: .object([]))
            default:
                return atom()
            }
        }

        /// Items separated by commas up to `close` (a trailing comma allowed).
        mutating func list(until close: Character) -> [RenderedValue]? {
            var items: [RenderedValue] = []
            skipSpaces()
            if i < chars.count && chars[i] == close { i += 1; return items }
            while i < chars.count {
                guard let v = value() else { return nil }
                items.append(v)
                skipSpaces()
                guard i < chars.count else { return nil }
                if chars[i] == "," {
                    i += 1
                    skipSpaces()
                    if i < chars.count && chars[i] == close { i += 1; return items }
                    continue
                }
                if chars[i] == close { i += 1; return items }
                return nil
            }
            return nil
        }

        /// A dict `{k: v}` or a set `{a, b}`.
        mutating func braces(start: Int) -> RenderedValue? {
            skipSpaces()
            if i < chars.count && chars[i] == "}" { i += 1; return RenderedValue(text: "{}", shape: .mapping([])) }
            var entries: [(key: RenderedValue, value: RenderedValue)] = []
            var items: [RenderedValue] = []
            while i < chars.count {
                guard let k = value() else { return nil }
                skipSpaces()
                guard i < chars.count else { return nil }
                if chars[i] == ":" {
                    i += 1
                    guard let v = value() else { return nil }
                    entries.append((k, v))
                    skipSpaces()
                } else {
                    items.append(k)
                }
                guard i < chars.count else { return nil }
                if chars[i] == "," { i += 1; continue }
                if chars[i] == "}" { i += 1; break }
                return nil
            }
            let text = String(chars[start..<i])
            return items.isEmpty ? RenderedValue(text: text, shape: .mapping(entries)) : RenderedValue(text: text, shape: .sequence(items))
        }

        /// Anything else, up to a comma, colon or closing bracket outside brackets and quotes.
        mutating func atom() -> RenderedValue? {
            let start = i
            guard let end = scan(chars, from: i, until: { c, depth in depth == 0 && ")]},:=".contains(c) }), end > start else { return nil }
            i = end
            return RenderedValue(text: String(chars[start..<i]).trimmingWhitespace(), shape: .atom)
        }
    }
}

/// Walks `chars` from `start` over quoted text (with backslash escapes) and brackets, to the first
/// character outside quotes that `stop` takes, given how many brackets are open before it; the
/// end of `chars` when none is, nil when a quote is still open there.
func scan(_ chars: [Character], from start: Int, until stop: (Character, Int) -> Bool) -> Int? {
    var depth = 0, j = start
    var quote: Character?
    while j < chars.count {
        let c = chars[j]
        if let q = quote {
            if c == "\\" { j += 1 } else if c == q { quote = nil }
        } else if c == "'" || c == "\"" {
            quote = c
        } else {
            if stop(c, depth) { return j }
            if "([{".contains(c) { depth += 1 } else if ")]}".contains(c) { depth -= 1 }
        }
        j += 1
    }
    return quote == nil ? chars.count : nil
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
