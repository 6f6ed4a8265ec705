#if canImport(Glibc)
import Glibc
#endif
import PodeIndex

/// A compiled POSIX extended regular expression (glibc's, with its \w \b \< \> extensions),
/// owned and freed here.
public final class GrepPattern {
    public let source: String
    public let fixed: Bool
    public let ignoreCase: Bool
    public let wholeWords: Bool
    private var regex = regex_t()

    /// Compiles `pattern` (a fixed string with `fixed`); throws QueryError.pattern with the
    /// library's reason when it is not a valid expression.
    public init(_ pattern: String, fixed: Bool = false, ignoreCase: Bool = false, wholeWords: Bool = false) throws {
        source = pattern
        self.fixed = fixed
        self.ignoreCase = ignoreCase
        self.wholeWords = wholeWords
        let expression = fixed ? Self.escaped(pattern) : pattern
        var flags = REG_EXTENDED
        if ignoreCase { flags |= REG_ICASE }
        let status = regcomp(&regex, expression, flags)
        if status != 0 {
            var message = [CChar](repeating: 0, count: 256)
            regerror(status, &regex, &message, message.count)
            let reason = String(decoding: message.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            regfree(&regex)
            throw QueryError.pattern("'\(pattern)' is not a valid regular expression: \(reason) (use -F to search for it as plain text)")
        }
    }

    deinit { regfree(&regex) }

    /// Characters that mean something in an extended regular expression.
    static let metacharacters: Set<Character> = [".", "[", "]", "(", ")", "|", "*", "+", "?", "{", "}", "^", "$", "\\"]

    static func escaped(_ s: String) -> String {
        var out = ""
        for c in s {
            if metacharacters.contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// The byte ranges of `text` the pattern matches (whole words only with `wholeWords`).
    public func matches(in text: String) -> [Range<Int>] {
        var out: [Range<Int>] = []
        text.withCString { base in
            let length = strlen(base)
            var offset = 0
            var match = [regmatch_t](repeating: regmatch_t(), count: 1)
            while offset <= length {
                let flags = offset > 0 ? REG_NOTBOL : 0
                guard regexec(&regex, base + offset, 1, &match, flags) == 0 else { break }
                let start = offset + Int(match[0].rm_so), end = offset + Int(match[0].rm_eo)
                if !wholeWords || (Self.boundary(base, start, length, before: true) && Self.boundary(base, end, length, before: false)) {
                    if end > start || out.isEmpty { out.append(start..<end) }
                    offset = end > start ? end : end + 1
                } else {
                    offset = start + 1
                }
            }
        }
        return out
    }

    /// Whether the pattern matches anywhere in `text`.
    public func matches(_ text: String) -> Bool {
        if !wholeWords {
            return text.withCString { regexec(&regex, $0, 0, nil, 0) == 0 }
        }
        return !matches(in: text).isEmpty
    }

    private static func isWordByte(_ b: CChar) -> Bool {
        let u = UInt8(bitPattern: b)
        return u >= 0x80 || (u >= 48 && u <= 57) || (u >= 65 && u <= 90) || (u >= 97 && u <= 122) || u == 95
    }

    private static func boundary(_ base: UnsafePointer<CChar>, _ at: Int, _ length: Int, before: Bool) -> Bool {
        before ? at == 0 || !isWordByte(base[at - 1]) : at >= length || !isWordByte(base[at])
    }

    /// Index words every matching text must contain, lower-cased, and a final word prefix
    /// (`word*`): what narrows the candidates through Xapian. Empty when the pattern has no
    /// literal text it surely requires (then the whole log is scanned).
    public func requiredWords() -> (words: [String], prefixes: [String]) {
        var words: [String] = [], prefixes: [String] = []
        let runs = fixed ? [LiteralRun(text: source, startsAtWord: false)] : Self.literalRuns(source)
        for run in runs {
            let (w, p) = Self.wordsSurelyIndexed(in: run.text, wholeWords: wholeWords || run.startsAtWord)
            words += w
            prefixes += p
        }
        return (words, prefixes)
    }

    /// Texts every match contains, character for character: the pattern's literal runs, or
    /// the fixed string itself. None with -i (a match may differ from them in case).
    public func requiredLiterals() -> [String] {
        guard !ignoreCase else { return [] }
        return (fixed ? [source] : Self.literalRuns(source).map(\.text)).filter { !$0.isEmpty && !$0.contains("\u{FFFD}") }
    }

    /// A run of literal characters, and whether the pattern says a word starts where it starts
    /// (after `^`, `\b` or `\<`).
    struct LiteralRun: Equatable {
        var text: String
        var startsAtWord: Bool
    }

    /// Runs of literal characters the pattern requires, in order. Conservative: an alternation
    /// anywhere gives none, groups and bracket expressions end a run, and a quantified character
    /// is dropped from its run.
    static func literalRuns(_ pattern: String) -> [LiteralRun] {
        let chars = Array(pattern)
        if chars.contains("|") { return [] }
        var runs: [LiteralRun] = []
        var current: [Character] = []
        var atWord = false
        func end(nextAtWord: Bool = false) {
            if !current.isEmpty { runs.append(LiteralRun(text: String(current), startsAtWord: atWord)) }
            current = []
            atWord = nextAtWord
        }
        var i = 0
        while i < chars.count {
            let c = chars[i]
            switch c {
            case "*", "?":
                if !current.isEmpty { current.removeLast() }
                end()
            case "{":
                let optional = i + 1 < chars.count && chars[i + 1] == "0"
                if optional, !current.isEmpty { current.removeLast() }
                end()
                while i < chars.count && chars[i] != "}" { i += 1 }
            case "+":
                end()
            case "^":
                end(nextAtWord: true)
            case ".", "$", ")":
                end()
            case "(":
                // A group's text may be optional or repeated: skip it whole.
                end()
                var depth = 0
                while i < chars.count {
                    if chars[i] == "\\" { i += 2; continue }
                    if chars[i] == "(" { depth += 1 }
                    if chars[i] == ")" { depth -= 1; if depth == 0 { break } }
                    i += 1
                }
            case "[":
                end()
                i += 1
                if i < chars.count && chars[i] == "^" { i += 1 }
                if i < chars.count && chars[i] == "]" { i += 1 }
                while i < chars.count && chars[i] != "]" { i += 1 }
            case "\\":
                guard i + 1 < chars.count else { end(); break }
                let next = chars[i + 1]
                i += 1
                if next.isLetter || next.isNumber || next == "<" || next == ">" {
                    end(nextAtWord: next == "b" || next == "<")  // \w \b \< \1 and the like
                } else {
                    // An escaped character is itself, unless a quantifier follows it.
                    current.append(next)
                }
            default:
                current.append(c)
            }
            i += 1
        }
        end()
        return runs
    }

    /// Characters the index's tokenizer joins digits across (3.14, 1,000).
    private static let numberJoins: Set<Character> = [".", ",", ";"]

    private static func isWordCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" || !c.isASCII }

    /// The words of a literal run that the index surely holds for any text containing the run
    /// (see Tokenizer): whole words, and a last word that may go on past the run's end as a
    /// prefix. A word is left out when the tokenizer could have joined it to what comes before
    /// it: at the start of the run (unless -w says a word starts there and it is no number), or
    /// a number after `.`, `,` or `;`. A word before such a joiner, or before `+` or `#` (C++,
    /// C#), is only a prefix.
    static func wordsSurelyIndexed(in run: String, wholeWords: Bool) -> ([String], [String]) {
        let chars = Array(run)
        var words: [String] = [], prefixes: [String] = []
        var i = 0
        while i < chars.count {
            guard isWordCharacter(chars[i]) else { i += 1; continue }
            var j = i
            while j < chars.count && isWordCharacter(chars[j]) { j += 1 }
            defer { i = j }
            let word = String(chars[i..<j]).lowercased()
            guard word.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else { continue }
            let startsWithDigit = word.first!.isNumber, endsWithDigit = word.last!.isNumber
            let safeStart = i == 0 ? wholeWords && !startsWithDigit : !(startsWithDigit && numberJoins.contains(chars[i - 1]))
            guard safeStart else { continue }
            let wholeEnd = j < chars.count && !(endsWithDigit && numberJoins.contains(chars[j])) && chars[j] != "+" && chars[j] != "#"
            if wholeEnd { words.append(word) } else { prefixes.append(word) }
        }
        return (words, prefixes)
    }
}

