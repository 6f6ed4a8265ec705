import CXapian

/// An error raised by Xapian, with Xapian's exception type and message.
public struct XapianError: Error, CustomStringConvertible, Sendable {
    /// Xapian's exception class, for example `DatabaseLockError` or `QueryParserError`.
    public let type: String
    public let message: String
    /// What pode was doing when Xapian failed.
    public let operation: String

    public var description: String { "Xapian \(type): \(message) - while \(operation)" }

    /// True when another process holds the database's writer lock.
    public var isLockError: Bool { type == "DatabaseLockError" }
    /// True when the query text could not be parsed.
    public var isQuerySyntaxError: Bool { type == "QueryParserError" }
}

/// Passes a string's UTF-8 bytes (which may hold NUL) as a C pointer and length.
@inline(__always)
func withCChars<T>(_ string: String, _ body: (UnsafePointer<CChar>, Int) throws -> T) rethrows -> T {
    var s = string
    return try s.withUTF8 { buf in
        try buf.withMemoryRebound(to: CChar.self) { chars in
            guard let base = chars.baseAddress else { return try "".withCString { try body($0, 0) } }
            return try body(base, chars.count)
        }
    }
}

/// Calls `body` with a fresh error record and throws if the C shim reported a failure.
@inline(__always)
func checked<T>(_ operation: @autoclosure () -> String, _ body: (UnsafeMutablePointer<CXapianError>) -> T) throws -> T {
    var err = CXapianError()
    let result = body(&err)
    if err.failed != 0 {
        throw XapianError(type: fixedString(&err.type), message: fixedString(&err.message), operation: operation())
    }
    return result
}

func fixedString<T>(_ tuple: inout T) -> String {
    withUnsafeBytes(of: &tuple) { raw in
        let bytes = raw.prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Terms gathered for one XapianDocument.addTerms call, given as strings or as UTF-8 bytes (an
/// indexer that keeps its terms as bytes makes no String per term). Packed as the shim reads
/// them: a UInt32 LE length, then the bytes, per term.
public struct XapianTermList {
    var packed: [UInt8] = []

    public init() {}

    public mutating func append(_ term: String) {
        var term = term
        term.withUTF8 { append(bytes: UnsafeRawBufferPointer($0)) }
    }

    public mutating func append(bytes: UnsafeRawBufferPointer) {
        let n = UInt32(truncatingIfNeeded: bytes.count)
        packed.append(UInt8(n & 0xFF))
        packed.append(UInt8(n >> 8 & 0xFF))
        packed.append(UInt8(n >> 16 & 0xFF))
        packed.append(UInt8(n >> 24))
        packed.append(contentsOf: bytes)
    }
}

/// A document to add: boolean terms, value slots and opaque data.
public final class XapianDocument {
    let handle: OpaquePointer

    public init() { handle = cxapian_doc_new() }
    init(handle: OpaquePointer) { self.handle = handle }
    deinit { cxapian_doc_free(handle) }

    public func addTerm(_ term: String) {
        addTerms(CollectionOfOne(term))
    }

    /// Adds many terms in one call.
    public func addTerms(_ terms: some Sequence<String>) {
        var list = XapianTermList()
        for t in terms { list.append(t) }
        addTerms(list)
    }

    /// Adds the terms of `list` in one call.
    public func addTerms(_ list: XapianTermList) {
        list.packed.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { cxapian_doc_add_terms(handle, $0.baseAddress, $0.count) }
        }
    }

    public func setValue(_ slot: UInt32, _ value: [UInt8]) {
        value.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { cxapian_doc_set_value(handle, slot, $0.baseAddress, $0.count) }
        }
    }

    public func setData(_ data: [UInt8]) {
        data.withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { cxapian_doc_set_data(handle, $0.baseAddress, $0.count) }
        }
    }

    /// The document's data, for a document fetched from a database.
    public var data: [UInt8] {
        var len = 0
        guard let p = cxapian_doc_data(handle, &len) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: len))
    }

    /// A value slot, for a document fetched from a database.
    public func value(_ slot: UInt32) -> [UInt8] {
        var len = 0
        guard let p = cxapian_doc_value(handle, slot, &len) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: len))
    }

    public var termCount: Int { Int(cxapian_doc_term_count(handle)) }
}

/// A Xapian database open for writing; holds Xapian's writer lock until `close()`.
public final class WritableXapianDatabase {
    private var handle: OpaquePointer?
    public let path: String

    /// Opens the database at `path`, creating it when missing. With `synced: false`, commits
    /// do not wait for the disk (for an index that can be rebuilt from its source).
    public init(path: String, synced: Bool = true) throws {
        self.path = path
        handle = try checked("opening \(path) for writing") {
            synced ? cxapian_wdb_open(path, $0) : cxapian_wdb_open_unsynced(path, $0)
        }
    }

    deinit {
        if let handle {
            var err = CXapianError()
            cxapian_wdb_close(handle, &err)
            cxapian_wdb_free(handle)
        }
    }

    private func live() throws -> OpaquePointer {
        guard let handle else { throw XapianError(type: "InvalidOperationError", message: "database is closed", operation: "using \(path)") }
        return handle
    }

    @discardableResult
    public func add(_ document: XapianDocument) throws -> UInt32 {
        let h = try live()
        return try checked("adding a document to \(path)") { cxapian_wdb_add_document(h, document.handle, $0) }
    }

    public func replace(_ docid: UInt32, with document: XapianDocument) throws {
        let h = try live()
        try checked("replacing document \(docid) in \(path)") { cxapian_wdb_replace_document(h, docid, document.handle, $0) }
    }

    public func setMetadata(_ key: String, _ value: String) throws {
        let h = try live()
        try withCChars(value) { p, n in
            try checked("setting metadata \(key) in \(path)") { cxapian_wdb_set_metadata(h, key, p, n, $0) }
        }
    }

    public func commit() throws {
        let h = try live()
        try checked("committing \(path)") { cxapian_wdb_commit(h, $0) }
    }

    /// Closes the database and releases the writer lock.
    public func close() throws {
        guard let h = handle else { return }
        handle = nil
        defer { cxapian_wdb_free(h) }
        try checked("closing \(path)") { cxapian_wdb_close(h, $0) }
    }
}

/// One or more Xapian databases open read-only and searched together.
public final class XapianDatabase {
    let handle: OpaquePointer
    public let path: String

    public init(path: String) throws {
        self.path = path
        handle = try checked("opening \(path) for reading") { cxapian_db_open(path, $0) }!
    }

    deinit { cxapian_db_close(handle) }

    /// Adds another database to search together with this one.
    public func add(path other: String) throws {
        try checked("adding \(other) to \(path)") { cxapian_db_add(handle, other, $0) }
    }

    /// Writes a compacted copy (blocks filled, document ids kept) to the new directory `output`.
    public func compact(to output: String) throws {
        try checked("compacting \(path) into \(output)") { cxapian_db_compact(handle, output, $0) }
    }

    /// Moves to the latest revision a writer has committed.
    public func reopen() throws {
        try checked("reopening \(path)") { cxapian_db_reopen(handle, $0) }
    }

    public func documentCount() throws -> Int {
        Int(try checked("counting documents in \(path)") { cxapian_db_doc_count(handle, $0) })
    }

    public func lastDocid() throws -> UInt32 {
        try checked("reading the last document id of \(path)") { cxapian_db_last_docid(handle, $0) }
    }

    public func metadata(_ key: String) throws -> String? {
        var len = 0
        let p = try checked("reading metadata \(key) of \(path)") { cxapian_db_metadata(handle, key, &len, $0) }
        guard let p else { return nil }
        defer { cxapian_free(p) }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: len), as: UTF8.self)
    }

    public func document(_ docid: UInt32) throws -> XapianDocument {
        let h = try checked("reading document \(docid) of \(path)") { cxapian_db_document(handle, docid, $0) }
        return XapianDocument(handle: h!)
    }

    /// Runs the block-level form of `query`, returning matching document ids in docid order, or
    /// ordered by value slot `sortSlot` when given.
    public func search(_ query: XapianQuery, first: Int = 0, limit: Int, descending: Bool = false, sortSlot: UInt32? = nil,
                       facetSlots: [UInt32] = []) throws -> XapianMatches {
        let h = try facetSlots.withUnsafeBufferPointer { slots in
            try checked("searching \(path)") {
                cxapian_search(handle, query.handle, UInt32(clamping: first), UInt32(clamping: limit), descending ? 1 : 0,
                               sortSlot.map { Int64($0) } ?? -1, slots.baseAddress, slots.count, $0)
            }
        }
        return XapianMatches(handle: h!, facetSlots: facetSlots)
    }

    /// Documents that hold exactly `term`, in docid order.
    public func documents(withTerm term: String) throws -> [UInt32] {
        let h = try withCChars(term) { p, n in
            try checked("looking up a term in \(path)") { cxapian_search_term(handle, p, n, $0) }
        }
        return XapianMatches(handle: h!, facetSlots: []).docids
    }
}

/// The result of a search: document ids and, per requested slot, value counts.
public final class XapianMatches {
    let handle: OpaquePointer
    let facetSlots: [UInt32]

    init(handle: OpaquePointer, facetSlots: [UInt32]) {
        self.handle = handle
        self.facetSlots = facetSlots
    }

    deinit { cxapian_matches_free(handle) }

    public var count: Int { Int(cxapian_matches_size(handle)) }
    public var estimatedTotal: Int { Int(cxapian_matches_estimate(handle)) }
    public var docids: [UInt32] { (0..<UInt32(count)).map { cxapian_matches_docid(handle, $0) } }

    /// Document counts per distinct value of facet slot `slot` (ValueCountMatchSpy).
    public func facet(slot: UInt32) -> [(value: [UInt8], count: Int)] {
        guard let index = facetSlots.firstIndex(of: slot) else { return [] }
        let n = cxapian_matches_facet_count(handle, index)
        return (0..<n).compactMap { i in
            var len = 0
            var freq: UInt32 = 0
            guard let p = cxapian_matches_facet(handle, index, i, &len, &freq) else { return nil }
            return (Array(UnsafeRawBufferPointer(start: p, count: len)), Int(freq))
        }
    }
}

/// How a query field is turned into terms.
public enum XapianField: Sendable {
    /// Free text: words, lower-cased, with this term prefix.
    case text(prefix: String)
    /// An exact (case-sensitive) term with this prefix, or a prefix wildcard when the text ends in `*`.
    case exact(prefix: String)
    /// A whole-number range `A..B`, with a tag for the verifier and the block slots holding each
    /// block's smallest and largest number.
    case range(tag: UInt8, loSlot: UInt32, hiSlot: UInt32)
}

/// Xapian's QueryParser configured with pode's fields.
public final class XapianQueryParser {
    let handle: OpaquePointer

    public init(fields: [(name: String, field: XapianField)]) {
        handle = cxapian_qp_new()
        for (name, field) in fields {
            switch field {
            case .text(let prefix): cxapian_qp_add_prefix(handle, name, prefix)
            case .exact(let prefix): cxapian_qp_add_boolean_prefix(handle, name, prefix)
            case .range(let tag, let lo, let hi): cxapian_qp_add_range(handle, name, tag, lo, hi)
            }
        }
    }

    deinit { cxapian_qp_free(handle) }

    public func parse(_ text: String) throws -> XapianQuery {
        let h = try checked("parsing the query \(text)") { cxapian_qp_parse(handle, text, $0) }
        return XapianQuery(handle: h!)
    }
}

/// A parsed query: its block-level Xapian form plus the verifier program.
public final class XapianQuery {
    let handle: OpaquePointer

    init(handle: OpaquePointer) { self.handle = handle }
    deinit { cxapian_query_free(handle) }

    /// Xapian's own description of the parsed query.
    public var description: String {
        guard let p = cxapian_query_description(handle) else { return "" }
        defer { cxapian_free(p) }
        return String(cString: p)
    }

    /// The verifier program (see PodeQuery.QueryProgram).
    public var program: [UInt8] {
        var len = 0
        let p = cxapian_query_program(handle, &len)
        return Array(UnsafeBufferPointer(start: p, count: len))
    }
}

/// Xapian's sortable encoding of numbers for value slots (Xapian::sortable_serialise).
public enum XapianSortable {
    public static func serialise(_ value: Double) -> [UInt8] {
        var out = [CChar](repeating: 0, count: 9)
        let n = cxapian_sortable_serialise(value, &out)
        return out.prefix(n).map { UInt8(bitPattern: $0) }
    }
}
