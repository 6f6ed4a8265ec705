import PodeLog
import XapianKit

/// The index schema, in one place (docs/schema.md says the same). One Xapian document holds a
/// block of consecutive events: the union of their terms, their seq and line ranges in value
/// slots, and where the block's frames are in events.log in its data.
public enum Schema {
    /// Term prefixes. Unprefixed terms are lower-cased words of values and variable names.
    public enum Prefix {
        public static let kind = "K"           // K<call|line|return|exception|yield|resume>
        public static let file = "F"           // F<absolute path>
        public static let basename = "B"       // B<file name>
        public static let function = "S"       // S<qualified name> and S<plain name>
        public static let variable = "V"       // V<variable name> (case-sensitive)
        public static let thread = "H"         // H<thread number>
        public static let type = "T"           // T<module.Class> and T<Class>
        public static let exactValue = "X"     // X<whole value text> (case-sensitive)
        public static let numberBucket = "N"   // N<first 3 bytes of a longer number word> (block documents only)
    }

    /// A number word (a digit, then digits and `.` `,` `;`) longer than this many bytes is held
    /// in block documents as `N` + its first this many bytes, which stands for every number
    /// that starts so: `N780` for 7801, 780.25 and 78019. Most values are numbers, and nearly
    /// every one of them a term of its own, which made most of Xapian's work and of the index;
    /// a few thousand buckets do the same job, since summaries (which keep every word) and the
    /// per-event check decide exactly. The shim's compile maps a query's words the same way.
    public static let numberBucketBytes = 3

    /// Value slots of a block document (Xapian sortable numbers).
    public enum Slot {
        public static let firstSeq: UInt32 = 0
        public static let lastSeq: UInt32 = 1
        public static let minLine: UInt32 = 2
        public static let maxLine: UInt32 = 3
    }

    /// Tags of range leaves in a compiled query.
    public enum RangeTag {
        public static let seq: UInt8 = 1
        public static let line: UInt8 = 2
    }

    /// Index metadata keys.
    public enum Metadata {
        /// Offset in events.log up to which every frame is in a block document.
        public static let indexedUpTo = "pode.indexed_upto"
        /// The form of the index's terms (Schema.indexFormat).
        public static let formatVersion = "pode.format"
    }

    /// The form of the index's terms, kept in `pode.format`: 3 since number buckets (before,
    /// the key held the trace format, 2). An index of another form is not searched (the log
    /// is read instead) nor added to; `pode index --rebuild` makes it again.
    public static let indexFormat = "3"

    /// Events per block document (a block closes at the first frame end past this).
    public static let blockEvents = 2048

    /// Query fields: name in the query language and how Xapian's QueryParser maps it.
    public static let queryFields: [(name: String, field: XapianField)] = [
        ("kind", .exact(prefix: Prefix.kind)),
        ("file", .exact(prefix: Prefix.file)),
        ("file", .exact(prefix: Prefix.basename)),
        ("func", .exact(prefix: Prefix.function)),
        ("var", .exact(prefix: Prefix.variable)),
        ("thread", .exact(prefix: Prefix.thread)),
        ("type", .exact(prefix: Prefix.type)),
        ("value", .exact(prefix: Prefix.exactValue)),
        ("seq", .range(tag: RangeTag.seq, loSlot: Slot.firstSeq, hiSlot: Slot.lastSeq)),
        ("line", .range(tag: RangeTag.line, loSlot: Slot.minLine, hiSlot: Slot.maxLine)),
    ]

    /// The field names a query may use.
    public static var fieldNames: Set<String> { Set(queryFields.map(\.name)) }

    /// The text a value is searched by: a string's characters without quotes and escapes,
    /// otherwise its rendering.
    public static func searchText(_ value: RecordedValue, typeName: String) -> String {
        searchText(value.text, truncated: value.flags.contains(.truncated), typeName: typeName)
    }

    static func searchText(_ text: String, truncated: Bool, typeName: String) -> String {
        if typeName == "str", !truncated, let s = unquotePythonString(text) { return s }
        return text
    }

    static func baseName(_ path: String) -> Substring {
        if let slash = path.lastIndex(of: "/") { return path[path.index(after: slash)...] }
        return Substring(path)
    }

    /// Types whose every value gets an exact-value term; other values get one only when their
    /// rendering is at most `exactTermMaxBytes` (a long container rendering is never typed).
    static let scalarTypes: Set<String> = ["str", "bytes", "int", "float", "complex", "bool", "NoneType"]
    public static let exactTermMaxBytes = 64

    /// Whether a value whose search text has `byteCount` bytes gets an exact-value term (in
    /// block documents when `forIndex`, else in the per-event check): the one rule for the
    /// String and the byte paths of textTerms.
    static func hasExactTerm(byteCount: Int, oneASCIIWord: @autoclosure () -> Bool, scalar: Bool, forIndex: Bool) -> Bool {
        (scalar || byteCount <= exactTermMaxBytes) && !(forIndex && oneASCIIWord())
    }

    /// Whether `text` is one ASCII word (letters, digits, `_`): its exact-value term is then not
    /// stored in block documents or summaries, because the word itself (lower-cased) is, and a
    /// query's `value:WORD` looks for that word at block level (the shim's compile does the
    /// same) and is checked exactly per event. Most values are such words (numbers above all),
    /// so this halves the index's unique terms.
    public static func isSingleASCIIWord(_ text: String) -> Bool { isSingleASCIIWord(bytes: text.utf8) }

    static func isSingleASCIIWord<Bytes: Collection<UInt8>>(bytes: Bytes) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy(Tokenizer.isASCIIWordByte)
    }

    /// Whether `text` is one number word as the tokenizer makes it: digits, with single `.` `,`
    /// `;` between them (`3.14`, `1,000`); a longer such word goes into block documents by its
    /// bucket (see numberBucketBytes). Such a value's exact-value term is kept in summaries
    /// (so counting `value:3.14` stays exact without reading events) but not in block
    /// documents, where its word's bucket stands for it (the shim's compile does the same).
    static func isNumberText(_ text: UnsafeRawBufferPointer) -> Bool {
        guard let first = text.first, Tokenizer.isASCIIDigit(first) else { return false }
        var joinerPending = false
        for b in text {
            if Tokenizer.isASCIIDigit(b) {
                joinerPending = false
            } else if (b == 0x2E || b == 0x2C || b == 0x3B) && !joinerPending {
                joinerPending = true
            } else {
                return false
            }
        }
        return !joinerPending
    }

    /// The terms of one event, as the per-event check sees them (its block document holds the
    /// same, less the exact-value terms of single words: see isSingleASCIIWord).
    public static func terms(of event: Event, definitions: Definitions, into terms: inout Set<String>) {
        eventTerms(kind: event.kind, thread: event.thread, into: &terms)
        codeTerms(event.code, definitions: definitions, into: &terms)
        for value in event.values {
            valueTerms(value, definitions: definitions, into: &terms)
        }
    }

    /// The union of the terms of `events` (what their block document holds).
    public static func blockTerms(of events: [Event], definitions: Definitions) -> Set<String> {
        var facts = BlockFacts()
        for e in events { facts.add(e) }
        return terms(of: facts, definitions: definitions)
    }

    /// The terms of a block, made once per distinct place, kind, thread, name, type and value
    /// text rather than once per event.
    public static func terms(of facts: BlockFacts, definitions: Definitions) -> Set<String> {
        placeAndShapeTerms(of: facts, definitions: definitions).union(textTerms(of: facts, definitions: definitions).names)
    }

    /// What a block document is given: its place and shape terms, then its text terms (a word
    /// that is both a name's and a text's comes twice, which a boolean index does not mind and
    /// which costs less than a lookup per term).
    /// Number words longer than `numberBucketBytes` go in as their bucket (each bucket once), and
    /// exact values that are one number word not at all.
    static func documentTerms(of facts: BlockFacts, textTerms: TextTerms, definitions: Definitions) -> XapianTermList {
        var list = XapianTermList()
        for t in placeAndShapeTerms(of: facts, definitions: definitions) { list.append(t) }
        var buckets = Set<UInt32>()
        textTerms.terms.withArena { arena in
            for e in textTerms.terms.entries {
                let term = UnsafeRawBufferPointer(rebasing: arena[e.start..<e.start + e.length])
                if term.first == 0x58, isNumberText(UnsafeRawBufferPointer(rebasing: term[1...])) { continue }  // X3.14: see isNumberText
                guard term.count > numberBucketBytes, isNumberText(term) else { list.append(bytes: term); continue }
                let head = term.prefix(numberBucketBytes).reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                if buckets.insert(head).inserted { list.append(Prefix.numberBucket + String(decoding: term.prefix(numberBucketBytes), as: UTF8.self)) }
            }
        }
        return list
    }

    /// The term a block document holds for index word `word` (the identity but for long
    /// number words: see numberBucketBytes).
    static func documentTerm(ofWord word: String) -> String {
        var w = word
        let number = w.withUTF8 { $0.count > numberBucketBytes && isNumberText(UnsafeRawBufferPointer($0)) }
        return number ? Prefix.numberBucket + String(word.utf8.prefix(numberBucketBytes))! : word
    }

    /// A block's terms other than those of its value texts.
    static func placeAndShapeTerms(of facts: BlockFacts, definitions: Definitions) -> Set<String> {
        var terms = Set<String>()
        for k in facts.kindList { eventTerms(kind: k, thread: nil, into: &terms) }
        for t in facts.threads.ids { terms.insert(Prefix.thread + String(t)) }
        for c in facts.codes.ids { codeTerms(c, definitions: definitions, into: &terms) }
        for n in facts.names.ids { nameTerms(n, definitions: definitions, into: &terms) }
        for t in facts.types.ids { typeTerms(definitions.typeName(t), into: &terms) }
        return terms
    }

    /// The index terms of a block's distinct value texts: each term once (term number k is
    /// entry k of `terms`, its bytes), and by text entry the numbers of the terms that text has.
    struct TextTerms {
        var terms: TextSet
        /// Text entry k's term numbers are numbers[starts[k]..<starts[k + 1]] (one array for the
        /// block rather than one per text).
        private var numbers: [Int32] = []
        private var starts: [Int32] = [0]
        /// By term number, the last text that had the term (+ 1): a text's terms are each kept
        /// once without a search of those it has already.
        private var lastText: [Int32] = []

        /// Term numbers of short terms (1 to 7 bytes), direct-mapped by the term's bytes packed
        /// into a word with its length in the top byte: slot j's key at 2j (0: empty), its term
        /// number at 2j + 1. Most terms are short and come again and again (the digits of a list
        /// of numbers); this finds one in a few steps where the term table hashes, probes and
        /// compares.
        private var short: [UInt64]
        /// 2^shortBits slots: a key's slot is the top shortBits bits of its multiplicative hash.
        private static let shortBits = 11

        /// Terms for the texts of a block of about `texts` distinct texts.
        init(texts: Int = 0) {
            terms = TextSet(expected: texts)
            numbers.reserveCapacity(2 * texts)
            starts.reserveCapacity(texts + 1)
            short = Array(repeating: 0, count: 2 << Self.shortBits)
        }

        var count: Int { terms.entries.count }
        /// The terms as strings, in number order.
        var names: [String] { terms.entries.map { terms.text($0) } }

        /// The term numbers of text entry `k`.
        func numbers(ofText k: Int) -> ArraySlice<Int32> { numbers[Int(starts[k])..<Int(starts[k + 1])] }

        /// `bytes` (1 to 7 of them) packed into a word, the length in its top byte: two loads
        /// that may overlap (an overlapping byte is the same byte at the same place).
        @inline(__always)
        static func shortKey(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
            let n = bytes.count
            var key = UInt64(n) << 56
            if n >= 4 {
                key |= UInt64(bytes.loadUnaligned(as: UInt32.self))
                key |= UInt64(bytes.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)) << (8 * UInt64(n - 4))
            } else {
                key |= UInt64(bytes[0]) | UInt64(bytes[n / 2]) << (8 * UInt64(n / 2)) | UInt64(bytes[n - 1]) << (8 * UInt64(n - 1))
            }
            return key
        }

        /// Adds `bytes` as a term of the text being split (the entry after the last one ended).
        mutating func add(_ bytes: UnsafeRawBufferPointer) {
            let n: Int
            let count = bytes.count
            if count >= 1 && count <= 7 {
                let key = Self.shortKey(bytes)
                let j = 2 * Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> (64 - UInt64(Self.shortBits)))
                let cached = short.withUnsafeBufferPointer { $0[j] == key ? Int(truncatingIfNeeded: $0[j + 1]) : -1 }
                if cached >= 0 {
                    n = cached
                } else {
                    n = terms.insert(type: 0, truncated: false, bytes: bytes)
                    short.withUnsafeMutableBufferPointer {
                        $0[j] = key
                        $0[j + 1] = UInt64(n)
                    }
                }
            } else {
                n = terms.insert(type: 0, truncated: false, bytes: bytes)
            }
            let text = Int32(truncatingIfNeeded: starts.count)  // the text being split, + 1
            if n == lastText.count { lastText.append(0) }
            // Read before written: most words of a text come again in it (no uniqueness check).
            if lastText.withUnsafeBufferPointer({ $0[n] }) != text {
                lastText[n] = text
                numbers.append(Int32(truncatingIfNeeded: n))
            }
        }

        /// Ends the terms of the text being split.
        mutating func endText() { starts.append(Int32(numbers.count)) }
    }

    /// What textTerms(of:) needs to know of a type, looked up once per block.
    private struct TextType {
        var name: String
        var isStr: Bool
        var isScalar: Bool
    }

    static func textTerms(of facts: BlockFacts, definitions: Definitions) -> TextTerms {
        var out = TextTerms(texts: facts.texts.entries.count)
        var types: [UInt32: TextType] = [:]
        var exact: [UInt8] = []
        for e in facts.texts.entries {
            let type: TextType
            if let known = types[e.type] { type = known } else {
                let name = definitions.typeName(e.type)
                type = TextType(name: name, isStr: name == "str", isScalar: scalarTypes.contains(name))
                types[e.type] = type
            }
            // ASCII texts (numbers, names, most strings) are split as bytes; the rest, and strings
            // with escapes, as Strings. Both give the terms searchText and textTerms(_:) give.
            let done = facts.texts.withBytes(e) { raw -> Bool in
                guard raw.allSatisfy({ $0 < 0x80 }) else { return false }
                var text = raw
                if type.isStr && !e.truncated, raw.count >= 2, raw[0] == 0x27 || raw[0] == 0x22, raw[raw.count - 1] == raw[0] {
                    text = UnsafeRawBufferPointer(rebasing: raw[1..<raw.count - 1])
                    if text.contains(0x5C) { return false }  // a backslash escape: unquotePythonString decodes it
                }
                if hasExactTerm(byteCount: text.count, oneASCIIWord: isSingleASCIIWord(bytes: text), scalar: type.isScalar, forIndex: true) {
                    exact.removeAll(keepingCapacity: true)
                    exact.append(contentsOf: Prefix.exactValue.utf8)
                    exact.append(contentsOf: text)
                    exact.withUnsafeBytes { out.add($0) }
                }
                Tokenizer.forEachASCIIWord(in: text, parts: true) { out.add($0) }
                return true
            }
            if !done {
                textTerms(searchText(facts.texts.text(e), truncated: e.truncated, typeName: type.name), typeName: type.name, forIndex: true) { t in
                    var t = t
                    t.withUTF8 { out.add(UnsafeRawBufferPointer($0)) }
                }
            }
            out.endText()
        }
        return out
    }

    /// The terms one value contributes.
    public static func valueTerms(_ value: RecordedValue, definitions: Definitions, into terms: inout Set<String>) {
        shapeTerms(name: value.name, type: value.type, deleted: value.flags.contains(.deleted), definitions: definitions, into: &terms)
        valueTextTerms(value, definitions: definitions, into: &terms)
    }

    /// The terms of a value's text (its words and exact value; none for a deletion): they depend
    /// on its text, type and truncation only.
    public static func valueTextTerms(_ value: RecordedValue, definitions: Definitions, into terms: inout Set<String>) {
        if value.flags.contains(.deleted) { return }
        let typeName = definitions.typeName(value.type)
        textTerms(searchText(value, typeName: typeName), typeName: typeName, forIndex: false) { terms.insert($0) }
    }

    /// The terms of a value that do not depend on its text: its name's and its type's.
    public static func shapeTerms(name: UInt32, type: UInt32, deleted: Bool, definitions: Definitions, into terms: inout Set<String>) {
        nameTerms(name, definitions: definitions, into: &terms)
        if !deleted { typeTerms(definitions.typeName(type), into: &terms) }
    }

    /// Whether `term` is one that only a value's text gives (a word or an exact value), as
    /// opposed to one of a place, kind, thread, name or type. Unprefixed words can come from
    /// both a text and a variable's name.
    public static func isTextTerm(_ term: String) -> Bool {
        !isPrefixed(term) || term.hasPrefix(Prefix.exactValue)
    }

    // One helper per fact: terms(of:) and blockTerms(of:) must produce the same terms.

    private static func eventTerms(kind: EventKind, thread: UInt32?, into terms: inout Set<String>) {
        terms.insert(Prefix.kind + kind.name)
        if let thread { terms.insert(Prefix.thread + String(thread)) }
    }

    private static func codeTerms(_ id: UInt32, definitions: Definitions, into terms: inout Set<String>) {
        guard let code = definitions.codes[id] else { return }
        terms.insert(Prefix.file + code.file)
        terms.insert(Prefix.basename + baseName(code.file))
        terms.insert(Prefix.function + code.qualname)
        terms.insert(Prefix.function + code.name)
    }

    /// A variable's name: exact, and as words. Reserved ids (return value, exception, yield) have none.
    private static func nameTerms(_ id: UInt32, definitions: Definitions, into terms: inout Set<String>) {
        guard id >= 3, let name = definitions.names[id] else { return }
        terms.insert(Prefix.variable + name)
        Tokenizer.forEachWord(in: name, parts: true) { terms.insert($0) }
    }

    private static func typeTerms(_ typeName: String, into terms: inout Set<String>) {
        terms.insert(Prefix.type + typeName)
        if let dot = typeName.lastIndex(of: ".") { terms.insert(Prefix.type + typeName[typeName.index(after: dot)...]) }
    }

    /// A value text's terms; `forIndex` leaves out what block documents do not store.
    private static func textTerms(_ text: String, typeName: String, forIndex: Bool, _ body: (String) -> Void) {
        if hasExactTerm(byteCount: text.utf8.count, oneASCIIWord: isSingleASCIIWord(text), scalar: scalarTypes.contains(typeName), forIndex: forIndex) {
            body(Prefix.exactValue + text)
        }
        Tokenizer.forEachWord(in: text, parts: true, body)
    }

    /// Whether `term` carries a field prefix (prefixes are single ASCII capitals; words never are).
    public static func isPrefixed(_ term: String) -> Bool {
        guard let first = term.utf8.first else { return false }
        return first >= 0x41 && first <= 0x5A
    }

    /// Whether a term (or wildcard pattern) is about values: a word, a variable, a type or a value.
    public static func isValueTerm(_ term: String) -> Bool {
        guard isPrefixed(term), let p = term.first else { return true }
        return [Prefix.variable, Prefix.type, Prefix.exactValue].contains(String(p))
    }

    /// Decodes a Python string literal as pode renders it ('...' or "..." with backslash
    /// escapes); nil when `text` is not one.
    public static func unquotePythonString(_ text: String) -> String? {
        let scalars = Array(text.unicodeScalars)
        guard scalars.count >= 2, let q = scalars.first, q == "'" || q == "\"", scalars.last == q else { return nil }
        var out = String.UnicodeScalarView()
        var i = 1
        let end = scalars.count - 1
        func hex(_ n: Int) -> Unicode.Scalar? {
            guard i + n <= end, let v = UInt32(String(String.UnicodeScalarView(scalars[i..<i + n])), radix: 16) else { return nil }
            i += n
            return Unicode.Scalar(v) ?? "\u{FFFD}"
        }
        while i < end {
            let c = scalars[i]
            i += 1
            guard c == "\\", i < end else { out.append(c); continue }
            let e = scalars[i]
            i += 1
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "x": guard let s = hex(2) else { return nil }; out.append(s)
            case "u": guard let s = hex(4) else { return nil }; out.append(s)
            case "U": guard let s = hex(8) else { return nil }; out.append(s)
            default: out.append(e)
            }
        }
        return String(out)
    }
}
