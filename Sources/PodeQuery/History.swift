import PodeLog

extension TraceSearcher {
    /// Every recorded change of variable `name` (a container changed in place and a deletion
    /// count too), oldest first, until `body` returns false; narrowed to one function, file or
    /// frame, and to the events a `seq:A..B` clause takes. Each hit marks the variable's values.
    public func changes(of name: String, function: String? = nil, file: String? = nil, frame: UInt64? = nil,
                        range: String? = nil, _ body: (Hit) throws -> Bool) throws {
        guard let id = definitions.nameID(name), let variable = Self.clause("var", name) else { return }
        var clauses = [variable]
        if let f = function.flatMap({ Self.clause("func", $0) }) { clauses.append(f) }
        if let f = file.flatMap({ Self.clause("file", $0) }) { clauses.append(f) }
        if let range { clauses.append(range) }
        if let frame { clauses.append("seq:\(frame)..") }
        try search(try compile(clauses.joined(separator: " "))) { hit in
            let e = hit.event
            if let frame, e.activation != frame { return true }
            let matched = e.values.indices.filter { e.values[$0].name == id }
            guard !matched.isEmpty else { return true }
            return try body(Hit(event: e, matchedValues: matched))
        }
    }
}
