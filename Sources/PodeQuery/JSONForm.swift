import PodeLog

/// The JSON objects every reading interface writes (`--json` output and the info browser's
/// API), built once here so both say the same thing. Layouts are in docs/json.md.
public enum JSONForm {
    /// A value: `name`, `value`, `type`, and `truncated`/`full_length`, `deleted`, `rebound`,
    /// `mutated` when they hold.
    public static func value(_ v: RecordedValue, definitions: Definitions) -> [String: Any] {
        var d: [String: Any] = ["name": definitions.valueName(v.name), "value": v.text]
        if !v.flags.contains(.deleted) { d["type"] = definitions.typeName(v.type) }
        if v.flags.contains(.truncated) {
            d["truncated"] = true
            if v.fullLength > 0 { d["full_length"] = v.fullLength }  // unknown for other objects
        }
        if v.flags.contains(.deleted) { d["deleted"] = true }
        if v.flags.contains(.rebound) { d["rebound"] = true }
        if v.flags.contains(.mutated) { d["mutated"] = true }
        return d
    }

    /// A search hit (a `match`): the event, where it is, and its values marked `matched`.
    public static func hit(_ hit: Hit, definitions: Definitions) -> [String: Any] {
        let e = hit.event
        let code = definitions.codes[e.code]
        let shown = hit.matchedValues.isEmpty ? Array(e.values.indices) : hit.matchedValues
        var values: [[String: Any]] = []
        for (i, v) in e.values.enumerated() {
            var d = value(v, definitions: definitions)
            d["matched"] = hit.matchedValues.contains(i)
            values.append(d)
        }
        var data: [String: Any] = [
            "seq": e.seq, "kind": e.kind.name, "file": code?.file ?? "?", "line": !shown.isEmpty ? e.valueLine : e.line,
            "event_line": e.line, "function": code?.qualname ?? "?", "thread": e.thread, "frame": e.activation,
            "depth": e.depth, "time_ns": e.time, "values": values,
        ]
        if e.kind == .call || e.kind == .resume { data["caller_frame"] = e.caller }
        return data
    }

    /// A moment (`show --json`): the event, `context` source lines either side of its line
    /// (the whole kept file when `context` is nil), and the stack, outermost first, with the
    /// locals of the frames the moment holds.
    public static func moment(_ m: Moment, searcher: TraceSearcher, sources: SourceLines, context: Int?) -> [String: Any] {
        let definitions = searcher.definitions
        let e = m.event
        var stack: [[String: Any]] = []
        for f in m.stack.reversed() {
            let code = definitions.codes[f.code]
            var d: [String: Any] = ["frame": f.activation, "function": code?.qualname ?? "?", "file": code?.file ?? "?", "line": f.line,
                                    "depth": f.depth, "thread": f.thread,
                                    "args": (m.calls[f.activation]?.values ?? []).map { value($0, definitions: definitions) }]
            if let l = m.locals[f.activation] {
                d["locals"] = l.map { lv -> [String: Any] in
                    var v = value(lv.value, definitions: definitions)
                    v["set_at"] = lv.setAt
                    v["set_line"] = lv.line
                    return v
                }
            }
            stack.append(d)
        }
        let file = definitions.codes[e.code]?.file ?? "?"
        let lines: [(UInt32, String)]
        if let context {
            lines = sources.window(around: e.line, context: context, of: file)
        } else {
            lines = sources.lines(of: file).enumerated().map { (UInt32($0.offset + 1), $0.element) }
        }
        let source = lines.map { n, text -> [String: Any] in ["line": n, "text": text, "current": n == e.line] }
        return [
            "seq": e.seq, "kind": e.kind.name, "file": file, "line": e.line, "function": definitions.codes[e.code]?.qualname ?? "?",
            "thread": e.thread, "frame": e.activation, "depth": e.depth, "time_ns": e.time,
            "values": e.values.map { value($0, definitions: definitions) }, "source": source, "stack": stack,
        ]
    }

    /// A call (`calls --json`): where it is, its arguments, and what it returned or raised.
    public static func call(_ c: CallRecord, definitions: Definitions) -> [String: Any] {
        let e = c.call
        let code = definitions.codes[e.code]
        var d: [String: Any] = [
            "frame": e.activation, "seq": e.seq, "function": code?.qualname ?? "?", "file": code?.file ?? "?",
            // A module's call is at line 0: say where its code starts instead.
            "line": e.line > 0 ? e.line : (code?.firstLine ?? 0),
            "depth": e.depth, "thread": e.thread, "caller_frame": e.caller, "caller_line": e.callerLine,
            "args": e.values.filter { $0.name >= ValueName.firstName }.map { value($0, definitions: definitions) },
            "finished": c.end != nil,
        ]
        if let end = c.end { d["end"] = end.seq }
        if let r = c.returned {
            d["returned"] = value(r, definitions: definitions)
        } else if let r = c.raised {
            d["raised"] = value(r, definitions: definitions)
        }
        return d
    }
}
