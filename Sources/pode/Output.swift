import Foundation
import PodeLog
import PodeQuery

/// Writes search results: `path:line:` lines when piped, grouped and coloured on a terminal,
/// JSON Lines with --json. A closed pipe ends the program quietly.
final class Output {
    let color: Bool
    let json: Bool
    private var buffer: [UInt8] = []
    private var lastFile: String?

    /// Grouped by file, as on a terminal (or whenever colour is on).
    private let grouped: Bool

    init(color: Bool, json: Bool) {
        self.color = color && !json
        self.json = json
        grouped = !json && (color || isatty(STDOUT_FILENO) == 1)
    }

    static func useColor(_ choice: ColorChoice) -> Bool {
        switch choice {
        case .always: return true
        case .never: return false
        case .auto:
            if let nc = ProcessInfo.processInfo.environment["NO_COLOR"], !nc.isEmpty { return false }
            return isatty(STDOUT_FILENO) == 1
        }
    }

    func line(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        buffer.append(10)
        if buffer.count > 1 << 16 { flush() }
    }

    func flush() {
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress! + done, buffer.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { exit(0) }  // the reader went away: stop quietly
                FileHandle.standardError.write(Data("pode: cannot write the output: \(String(cString: strerror(errno)))\n".utf8))
                exit(2)
            }
            done += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func finish() { flush() }

    func paint(_ s: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }

    /// A path as the user would type it: relative to the current directory when inside it.
    static func displayPath(_ file: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath + "/"
        return file.hasPrefix(cwd) ? String(file.dropFirst(cwd.count)) : file
    }

    /// `name = value` (or `name deleted`), noting a cut value's true length.
    func valueText(_ v: RecordedValue, definitions: Definitions) -> String {
        let name = definitions.valueName(v.name)
        if v.flags.contains(.deleted) { return "\(paint(name, "33")) deleted" }
        var text = "\(paint(name, "33")) = \(v.text)"
        // An object's true length is not known (its attributes are not counted): only "…".
        if v.flags.contains(.truncated) { text += v.fullLength > 0 ? " …(\(v.fullLength) \(Self.unit(of: definitions.typeName(v.type))))" : " …" }
        return text
    }

    /// A value's text, with `…` when the recording cut it (or when it is cut here to `limit` characters).
    static func shortText(_ v: RecordedValue, limit: Int = .max) -> String {
        if v.text.count > limit { return String(v.text.prefix(limit)) + "…" }
        return v.flags.contains(.truncated) ? v.text + "…" : v.text
    }

    /// One hit: a grep-like line (grouped by file on a terminal) or a JSON `match` object.
    /// `frame` adds the frame number to the line; `separator` is `:` for a hit and `-` for
    /// context around one (grep's convention).
    /// `process`: the pid to name, for a trace with several processes.
    func hit(_ hit: Hit, definitions: Definitions, metadata: TraceMetadata, frame: Bool = false, separator: Character = ":",
             type: String = "match", process: Int32? = nil) {
        let e = hit.event
        let code = definitions.codes[e.code]
        let file = code?.file ?? "?"
        let shown = hit.matchedValues.isEmpty ? Array(e.values.indices) : hit.matchedValues
        let lineNo = !shown.isEmpty ? e.valueLine : e.line
        if json {
            var data = JSONForm.hit(hit, definitions: definitions)
            if let process { data["pid"] = Int(process) }
            jsonLine(type: type, data)
            return
        }
        var head = (process.map { "[pid \($0)] " } ?? "") + "#\(e.seq) \(code?.qualname ?? "?")"
        if e.kind != .line { head += " [\(e.kind.name)]" }
        if frame { head += " (frame #\(e.activation))" }
        let valueText = shown.map { self.valueText(e.values[$0], definitions: definitions) }.joined(separator: ", ")
        let body = valueText.isEmpty ? paint(head, "36") : "\(paint(head, "36")): \(valueText)"
        let path = Self.displayPath(file)
        if grouped {
            if lastFile != file {
                if lastFile != nil { line("") }
                line(paint(path, "1;35"))
                lastFile = file
            }
            line("\(paint(String(lineNo), "32"))\(separator) \(body)")
        } else {
            line("\(path)\(separator)\(lineNo)\(separator) \(body)")
        }
    }

    /// What a value's true length counts.
    static func unit(of typeName: String) -> String {
        switch typeName {
        case "str": "characters"
        case "bytes", "bytearray": "bytes"
        default: "items"
        }
    }

    func facets(_ counts: [String: [String: Int]], order: [String]) {
        if json {
            var data: [String: Any] = [:]
            for f in order { data[f] = counts[f] ?? [:] }
            jsonLine(type: "facets", data)
            return
        }
        if !buffer.isEmpty || lastFile != nil { line("") }
        for f in order {
            line(paint("\(f):", "1"))
            let entries = (counts[f] ?? [:]).sorted { ($1.value, $0.key) < ($0.value, $1.key) }
            if entries.isEmpty { line("  (none)") }
            for (k, n) in entries {
                let shown = f == "file" ? Self.displayPath(k) : k
                line("  \(String(n).leftPadded(to: 8))  \(shown)")
            }
        }
    }

    func jsonLine(type: String, _ data: [String: Any]) {
        let object: [String: Any] = ["type": type, "data": data]
        if let bytes = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) {
            buffer.append(contentsOf: bytes)
            buffer.append(10)
            if buffer.count > 1 << 16 { flush() }
        }
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
