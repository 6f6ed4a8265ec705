import CPodeRecorder
import Foundation

/// Keeps secrets out of what pode writes besides events (whose values the C recorder redacts):
/// the program's command line in trace.json and the copies of its source files. Uses the same
/// name patterns and secret shapes as the recorder (see Shims/CPodeRecorder/redact.c).
enum Redaction {
    static let placeholder = PODE_REDACTED

    /// Turns redaction on (with extra name patterns) or off; throws when a pattern is invalid.
    static func configure(enabled: Bool, patterns: [String]) throws {
        var cPatterns = patterns.map { UnsafePointer(strdup($0)) }
        var error = [CChar](repeating: 0, count: 512)
        let rc = cPatterns.withUnsafeMutableBufferPointer {
            pode_redact_init(enabled ? 1 : 0, $0.baseAddress, Int32($0.count), &error, error.count)
        }
        if rc != 0 {
            throw RecordError(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
    }

    static func isSensitiveName(_ name: String) -> Bool { pode_redact_name_utf8(name) != 0 }

    static func looksSecret(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { buffer in
            buffer.withMemoryRebound(to: CChar.self) { pode_redact_looks_secret($0.baseAddress, $0.count) != 0 }
        }
    }

    /// The command line as trace.json keeps it: an argument that looks like a secret, the value
    /// of an option named like one (`--password X`, `--token=X`) is replaced.
    static func arguments(_ args: [String]) -> [String] {
        var out: [String] = []
        var previousSensitive = false
        for arg in args {
            defer { previousSensitive = arg.hasPrefix("-") && !arg.contains("=") && isSensitiveName(optionName(arg)) }
            if arg.hasPrefix("-"), let eq = arg.firstIndex(of: "="), isSensitiveName(optionName(String(arg[..<eq]))) {
                out.append(arg[...eq] + placeholder)
            } else if (previousSensitive && !arg.hasPrefix("-")) || looksSecret(arg) {
                out.append(placeholder)
            } else {
                out.append(arg)
            }
        }
        return out
    }

    private static func optionName(_ arg: String) -> String { String(arg.drop { $0 == "-" }) }

    /// A source file's text with the string literals that hold secrets replaced: those that
    /// look like one, and those given to a sensitive name on their line (`password = "..."`,
    /// `token="..."`, `"api_key": "..."`). Line numbers do not change.
    static func source(_ text: String) -> String {
        let chars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var lineStart = 0
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "\n" { lineStart = i + 1 }
            if c == "#" {
                // A comment runs to the end of the line; a secret in it is still a secret.
                var j = i
                while j < chars.count && chars[j] != "\n" { j += 1 }
                let comment = String(String.UnicodeScalarView(chars[i..<j]))
                out.append(contentsOf: (looksSecret(comment) ? "# " + placeholder : comment).unicodeScalars)
                i = j
                continue
            }
            guard c == "'" || c == "\"" else { out.append(c); i += 1; continue }
            let quote = c
            let start = i
            let triple = i + 2 < chars.count && chars[i + 1] == quote && chars[i + 2] == quote
            let open = triple ? 3 : 1
            var prefixStart = i
            while prefixStart > lineStart && "rRbBuUfF".unicodeScalars.contains(chars[prefixStart - 1]) && i - prefixStart < 2 { prefixStart -= 1 }
            var j = i + open
            var closed = false
            while j < chars.count {
                // In raw strings too, a backslash keeps the quote after it in the literal.
                if chars[j] == "\\" { j += 2; continue }
                if !triple && chars[j] == "\n" { break }
                if chars[j] == quote && (!triple || (j + 2 < chars.count && chars[j + 1] == quote && chars[j + 2] == quote)) {
                    closed = true
                    break
                }
                j += 1
            }
            let bodyEnd = min(j, chars.count)
            let body = String(String.UnicodeScalarView(chars[(i + open)..<max(i + open, bodyEnd)]))
            let before = String(String.UnicodeScalarView(chars[lineStart..<prefixStart]))
            let secret = looksSecret(body) || assignsToSensitiveName(before)
            for k in 0..<open { out.append(chars[i + k]) }
            if secret {
                out.append(contentsOf: placeholder.unicodeScalars)
                // Keep the line count of a multi-line literal.
                for _ in body.unicodeScalars.filter({ $0 == "\n" }) { out.append("\n") }
            } else {
                out.append(contentsOf: body.unicodeScalars)
            }
            i = bodyEnd
            if closed {
                for k in 0..<open { out.append(chars[i + k]) }
                i += open
            }
            if let newline = chars[start..<i].lastIndex(of: "\n") { lineStart = newline + 1 }
        }
        return String(out)
    }

    /// Whether the code before a string literal on its line hands it to a sensitive name:
    /// `NAME =`, `NAME: type =`, `NAME=` (a keyword argument), `"NAME":` (a dict key) or
    /// `NAME[...] =`.
    static func assignsToSensitiveName(_ before: String) -> Bool {
        var s = Substring(before)
        while let last = s.last, last == " " || last == "\t" || last == "(" || last == "," { s = s.dropLast() }
        guard let op = s.last, op == "=" || op == ":" else { return false }
        s = s.dropLast()
        if op == "=", let last = s.last, "=!<>".contains(last) { return false }  // a comparison
        while let last = s.last, last == " " || last == "\t" { s = s.dropLast() }
        if op == "=", s.last == ":" || s.contains(":") {
            // `NAME: type =`: look at the name before the annotation.
            if let colon = s.lastIndex(of: ":") { s = s[..<colon] }
            while let last = s.last, last == " " || last == "\t" { s = s.dropLast() }
        }
        if let last = s.last, last == "'" || last == "\"" {
            // A quoted key: "NAME":
            s = s.dropLast()
            let key = s.reversed().prefix { $0 != "'" && $0 != "\"" }
            return isSensitiveName(String(key.reversed()))
        }
        if s.last == "]" , let open = s.lastIndex(of: "[") { s = s[..<open] }
        let name = s.reversed().prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }
        return !name.isEmpty && isSensitiveName(String(name.reversed()))
    }
}
