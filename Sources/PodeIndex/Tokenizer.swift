/// Splits text into lower-cased words the way Xapian's QueryParser splits a query, so that a
/// word typed in a query is the term the index holds: letters, marks, digits and connector
/// punctuation (`_`) make words; `'` and `&` join letters, `.` `,` `;` join digits; a word may end
/// in `++`, `+++` or `#` (C++, C#).
///
/// With `parts`, a word joined by `'` or `&` also yields each of its parts, so that `needle` finds
/// the bytes value `b'needle'` (the index holds both). A number stays one word: `3.14` is found by
/// `3.14`, not by `14` (most values are numbers, and their parts would double the index's terms).
public enum Tokenizer {
    @inline(__always)
    static func isWordChar(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        if v < 0x80 {
            return (v >= 0x61 && v <= 0x7A) || (v >= 0x41 && v <= 0x5A) || (v >= 0x30 && v <= 0x39) || v == 0x5F
        }
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark,
             .decimalNumber, .letterNumber, .otherNumber, .connectorPunctuation:
            return true
        default:
            return false
        }
    }

    @inline(__always)
    static func isDigit(_ s: Unicode.Scalar) -> Bool { s.value >= 0x30 && s.value <= 0x39 }

    public static func forEachWord(in text: String, parts: Bool = false, _ body: (String) -> Void) {
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            forEachASCIIWord(in: text, parts: parts, body)
            return
        }
        let scalars = Array(text.unicodeScalars)
        var i = 0
        let n = scalars.count
        while i < n {
            guard isWordChar(scalars[i]) else { i += 1; continue }
            var word = String.UnicodeScalarView()
            var joins: [Int] = []
            while i < n {
                let c = scalars[i]
                if isWordChar(c) {
                    word.append(c)
                    i += 1
                    continue
                }
                // Infix characters keep a word together.
                if i + 1 < n, let last = word.last {
                    let next = scalars[i + 1]
                    let apostrophe = c == "'" || c == "\u{2019}" || c == "\u{201B}"
                    if (apostrophe || c == "&") && isWordChar(last) && isWordChar(next) && !isDigit(next) {
                        joins.append(word.count)
                        word.append(apostrophe ? "'" : c)
                        i += 1
                        continue
                    }
                    if (c == "." || c == "," || c == ";") && isDigit(last) && isDigit(next) {
                        word.append(c)
                        i += 1
                        continue
                    }
                }
                break
            }
            // Suffixes: C++ and C#, when the word ends there.
            if i < n, scalars[i] == "+" || scalars[i] == "#" {
                var j = i
                let ch = scalars[i]
                while j < n && scalars[j] == ch && j - i < 3 { j += 1 }
                let count = j - i
                if (j == n || !isWordChar(scalars[j])) && (ch == "+" ? count <= 3 : count == 1) {
                    for _ in 0..<count { word.append(ch) }
                    i = j
                }
            }
            body(lowercased(String(word)))
            if parts && !joins.isEmpty {
                let scalars = Array(word)
                var start = 0
                for j in joins + [scalars.count] {
                    let end = min(j, scalars.count)
                    if end > start { body(lowercased(String(String.UnicodeScalarView(scalars[start..<end])))) }
                    start = j + 1
                }
            }
        }
    }

    /// Whether `b` is an ASCII letter, digit or `_`: a bit of one of two masks (bytes 0-63,
    /// then 64-127), a few instructions where four range tests took a dozen, in the loops
    /// that split every value text of a block.
    @inline(__always)
    static func isASCIIWordByte(_ b: UInt8) -> Bool {
        let digits: UInt64 = 0x03FF_0000_0000_0000  // 0x30-0x39
        let lettersAndUnderscore: UInt64 = 0x07FF_FFFE_87FF_FFFE  // 0x41-0x5A, 0x5F, 0x61-0x7A
        let mask = b < 64 ? digits : (b < 128 ? lettersAndUnderscore : 0)
        return (mask >> (UInt64(b) & 63)) & 1 != 0
    }

    @inline(__always)
    static func isASCIIDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// The same rules over ASCII bytes, without building scalar arrays.
    static func forEachASCIIWord(in text: String, parts: Bool, _ body: (String) -> Void) {
        var text = text
        text.withUTF8 { bytes in
            forEachASCIIWord(in: UnsafeRawBufferPointer(bytes), parts: parts) { body(String(decoding: $0, as: UTF8.self)) }
        }
    }

    /// The words of ASCII text, each passed as its lower-cased bytes (valid only during the call).
    static func forEachASCIIWord(in bytes: UnsafeRawBufferPointer, parts: Bool, _ body: (UnsafeRawBufferPointer) -> Void) {
        let n = bytes.count
        guard n > 0 else { return }
        // A word is never longer than its text, nor has more joins: one buffer of each, on the
        // stack when it is small (this runs for every distinct text of every block).
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: n + 3) { word in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: n + 1) { joins in
                var i = 0
                while i < n {
                    guard isASCIIWordByte(bytes[i]) else { i += 1; continue }
                    var length = 0, joinCount = 0
                    while i < n {
                        let c = bytes[i]
                        if isASCIIWordByte(c) {
                            word[length] = c >= 0x41 && c <= 0x5A ? c + 32 : c
                            length += 1
                            i += 1
                            continue
                        }
                        if i + 1 < n, length > 0 {
                            let last = word[length - 1], next = bytes[i + 1]
                            if (c == 0x27 || c == 0x26) && isASCIIWordByte(next) && !isASCIIDigit(next) {
                                joins[joinCount] = length
                                joinCount += 1
                                word[length] = c
                                length += 1
                                i += 1
                                continue
                            }
                            if (c == 0x2E || c == 0x2C || c == 0x3B) && isASCIIDigit(last) && isASCIIDigit(next) {
                                word[length] = c
                                length += 1
                                i += 1
                                continue
                            }
                        }
                        break
                    }
                    if i < n, bytes[i] == 0x2B || bytes[i] == 0x23 {
                        let ch = bytes[i]
                        var j = i
                        while j < n && bytes[j] == ch && j - i < 3 { j += 1 }
                        let count = j - i
                        if (j == n || !isASCIIWordByte(bytes[j])) && (ch == 0x2B ? count <= 3 : count == 1) {
                            for _ in 0..<count {
                                word[length] = ch
                                length += 1
                            }
                            i = j
                        }
                    }
                    let w = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(word)[0..<length])
                    body(w)
                    if parts && joinCount > 0 {
                        var start = 0
                        for k in 0...joinCount {
                            let end = k < joinCount ? joins[k] : length
                            if end > start { body(UnsafeRawBufferPointer(rebasing: w[start..<end])) }
                            start = end + 1
                        }
                    }
                }
            }
        }
    }

    /// Lower-cases only when there is something to lower-case (ASCII capitals or non-ASCII).
    static func lowercased(_ s: String) -> String {
        s.utf8.contains { $0 >= 0x80 || ($0 >= 0x41 && $0 <= 0x5A) } ? s.lowercased() : s
    }
}
