import Foundation

/// Reads command lines: with editing and history on a terminal (arrows, Home/End, Backspace,
/// Delete, Ctrl-A/E/K/U/W, Ctrl-D at an empty line), plain lines from a pipe.
final class LineEditor {
    private(set) var history: [String] = []
    private let interactive = isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1

    /// The next line, or nil at the end of the input.
    func readLine(prompt: String) -> String? {
        guard interactive else {
            guard let line = Swift.readLine(strippingNewline: true) else { return nil }
            return line
        }
        FileHandle.standardOutput.write(Data(prompt.utf8))
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ECHO | ICANON)
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        defer { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
        var line: [Character] = []
        var cursor = 0
        var historyIndex = history.count
        func redraw() {
            let text = String(line)
            let back = line.count - cursor
            var s = "\r\u{1B}[K" + prompt + text
            if back > 0 { s += "\u{1B}[\(back)D" }
            FileHandle.standardOutput.write(Data(s.utf8))
        }
        while true {
            guard let byte = readByte() else { return line.isEmpty ? nil : String(line) }
            switch byte {
            case 10, 13:
                FileHandle.standardOutput.write(Data("\n".utf8))
                let text = String(line)
                if !text.trimmingCharacters(in: .whitespaces).isEmpty && history.last != text { history.append(text) }
                return text
            case 4:  // Ctrl-D
                if line.isEmpty { FileHandle.standardOutput.write(Data("\n".utf8)); return nil }
                if cursor < line.count { line.remove(at: cursor) }
            case 127, 8:
                if cursor > 0 { line.remove(at: cursor - 1); cursor -= 1 }
            case 1: cursor = 0
            case 5: cursor = line.count
            case 11: line.removeSubrange(cursor...)
            case 21: line.removeSubrange(..<cursor); cursor = 0
            case 23:
                var start = cursor
                while start > 0 && line[start - 1] == " " { start -= 1 }
                while start > 0 && line[start - 1] != " " { start -= 1 }
                line.removeSubrange(start..<cursor)
                cursor = start
            case 3:  // Ctrl-C: drop the line
                FileHandle.standardOutput.write(Data("^C\n".utf8))
                line = []
                cursor = 0
            case 27:
                guard readByte() == 91, let code = readByte() else { break }
                switch code {
                case 65, 66:  // up, down
                    historyIndex = code == 65 ? max(0, historyIndex - 1) : min(history.count, historyIndex + 1)
                    line = historyIndex < history.count ? Array(history[historyIndex]) : []
                    cursor = line.count
                case 67: cursor = min(line.count, cursor + 1)
                case 68: cursor = max(0, cursor - 1)
                case 72: cursor = 0
                case 70: cursor = line.count
                case 51:
                    if readByte() == 126, cursor < line.count { line.remove(at: cursor) }
                default: break
                }
            default:
                if byte >= 32 {
                    var bytes = [byte]
                    // The rest of a UTF-8 character.
                    let extra = byte >= 0xF0 ? 3 : byte >= 0xE0 ? 2 : byte >= 0xC0 ? 1 : 0
                    for _ in 0..<extra { if let b = readByte() { bytes.append(b) } }
                    for c in String(decoding: bytes, as: UTF8.self) { line.insert(c, at: cursor); cursor += 1 }
                }
            }
            redraw()
        }
    }

    private func readByte() -> UInt8? {
        var b: UInt8 = 0
        while true {
            let n = read(STDIN_FILENO, &b, 1)
            if n == 1 { return b }
            if n < 0 && errno == EINTR { continue }
            return nil
        }
    }
}
