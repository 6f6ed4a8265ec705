/// A code object the recorder saw: where a function lives.
public struct CodeDefinition: Sendable {
    public var id: UInt32
    public var file: String
    public var qualname: String
    public var name: String
    public var firstLine: UInt32
    /// Generator, coroutine or async generator.
    public var isGeneratorLike: Bool
    /// A module or class body (variables live in a dict).
    public var isModuleLevel: Bool
    /// Name ids its frame can bind: local slots, and for a module or class body the global names
    /// its bytecode uses.
    public var names: [UInt32]
}

/// A thread the recorder saw.
public struct ThreadDefinition: Sendable {
    public var index: UInt32
    public var ident: UInt64
    public var nativeID: UInt64
}

/// Everything events refer to by number: code objects, threads, type names, variable names.
public struct Definitions: Sendable {
    public private(set) var codes: [UInt32: CodeDefinition] = [:]
    public private(set) var threads: [UInt32: ThreadDefinition] = [:]
    public private(set) var types: [UInt32: String] = [:]
    public private(set) var names: [UInt32: String] = [:]

    public init() {}

    /// The id of a variable name, if the run ever used it.
    public func nameID(_ text: String) -> UInt32? {
        names.first(where: { $0.value == text })?.key
    }

    /// The display name of a value's name id.
    public func valueName(_ id: UInt32) -> String {
        switch id {
        case ValueName.returnValue: "<return>"
        case ValueName.exception: "<exception>"
        case ValueName.yieldValue: "<yield>"
        default: names[id] ?? "?"
        }
    }

    public func typeName(_ id: UInt32) -> String { types[id] ?? "?" }

    /// Adds the definition records of one defs.log record (as the recorder wrote them).
    public mutating func add(records: UnsafeRawBufferPointer) throws {
        var c = ByteCursor(records)
        while !c.atEnd {
            let tag = try c.byte()
            switch tag {
            case 1:
                let id = UInt32(truncatingIfNeeded: try c.varint())
                let file = try c.string(), qual = try c.string(), name = try c.string()
                let first = UInt32(truncatingIfNeeded: try c.varint())
                let flags = try c.varint()
                let count = Int(try c.varint())
                var ids: [UInt32] = []
                ids.reserveCapacity(min(count, 4096))
                for _ in 0..<count { ids.append(UInt32(truncatingIfNeeded: try c.varint())) }
                codes[id] = CodeDefinition(id: id, file: file, qualname: qual, name: name, firstLine: first,
                                           isGeneratorLike: flags & 1 != 0, isModuleLevel: flags & 2 != 0, names: ids)
            case 2:
                let index = UInt32(truncatingIfNeeded: try c.varint())
                threads[index] = ThreadDefinition(index: index, ident: try c.varint(), nativeID: try c.varint())
            case 3:
                let id = UInt32(truncatingIfNeeded: try c.varint())
                types[id] = try c.string()
            case 4:
                let id = UInt32(truncatingIfNeeded: try c.varint())
                names[id] = try c.string()
            default:
                throw LogFormatError("unknown definition record \(tag)")
            }
        }
    }
}
