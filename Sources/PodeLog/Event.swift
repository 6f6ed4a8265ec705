/// One recorded value: a variable, an argument, a return or yielded value, or an exception.
public struct RecordedValue: Sendable, Hashable {
    /// A name id (see Definitions.names) or one of ValueName's reserved ids.
    public var name: UInt32
    /// A type id (see Definitions.types); 0 for a deleted variable.
    public var type: UInt32
    public var flags: ValueFlags
    /// The rendering, at most the recording's value limit in bytes of UTF-8.
    public var text: String
    /// The object's true length (characters, bytes or items) when the text was cut.
    public var fullLength: UInt64

    public init(name: UInt32, type: UInt32, flags: ValueFlags, text: String, fullLength: UInt64) {
        self.name = name
        self.type = type
        self.flags = flags
        self.text = text
        self.fullLength = fullLength
    }
}

/// One event of the run.
public struct Event: Sendable {
    /// The event number: one total order over all threads, from 1.
    public var seq: UInt64
    /// Monotonic nanoseconds.
    public var time: UInt64
    public var kind: EventKind
    /// pode's thread number: 0 for the first thread that ran recorded code.
    public var thread: UInt32
    /// The frame activation (one call of a function, kept across generator suspensions): the seq
    /// of its first event, its call.
    public var activation: UInt64
    /// The caller's activation, for call and resume events (0 at the top).
    public var caller: UInt64
    /// The line the caller was running when it made this call (call and resume events; 0 unknown).
    public var callerLine: UInt32
    public var code: UInt32
    public var line: UInt32
    public var depth: UInt32
    /// The line whose execution produced `values` (the previous line for line events).
    public var valueLine: UInt32
    public var values: [RecordedValue]

    public init(seq: UInt64, time: UInt64, kind: EventKind, thread: UInt32, activation: UInt64, caller: UInt64, callerLine: UInt32,
                code: UInt32, line: UInt32, depth: UInt32, valueLine: UInt32, values: [RecordedValue]) {
        self.seq = seq
        self.time = time
        self.kind = kind
        self.thread = thread
        self.activation = activation
        self.caller = caller
        self.callerLine = callerLine
        self.code = code
        self.line = line
        self.depth = depth
        self.valueLine = valueLine
        self.values = values
    }
}

/// An event's fields but its values (what EventDecoder.scan reads before them; no array, so
/// reading one costs no reference counting).
public struct EventHeader {
    public var seq: UInt64
    public var time: UInt64
    public var kind: EventKind
    public var thread: UInt32 = 0
    public var activation: UInt64 = 0
    public var caller: UInt64 = 0
    public var callerLine: UInt32 = 0
    public var code: UInt32 = 0
    public var line: UInt32 = 0
    public var depth: UInt32 = 0
    /// 0 when the event has no values.
    public var valueLine: UInt32 = 0

    public init(seq: UInt64, time: UInt64, kind: EventKind) {
        self.seq = seq
        self.time = time
        self.kind = kind
    }
}

public struct LogFormatError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Reads varints and strings from a byte range; every read is bounds-checked.
struct ByteCursor {
    let base: UnsafeRawBufferPointer
    var offset: Int

    init(_ base: UnsafeRawBufferPointer, offset: Int = 0) {
        self.base = base
        self.offset = offset
    }

    var atEnd: Bool { offset >= base.count }

    mutating func byte() throws -> UInt8 {
        guard offset < base.count else { throw LogFormatError("unexpected end of record") }
        defer { offset += 1 }
        return base[offset]
    }

    @inline(__always)
    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < base.count else { throw LogFormatError("unexpected end of record") }
            let b = base[offset]
            offset += 1
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
            if shift > 63 { throw LogFormatError("malformed number") }
        }
    }

    mutating func string() throws -> String {
        String(decoding: try bytes(), as: UTF8.self)
    }

    /// A length-prefixed run of bytes, in place.
    mutating func bytes() throws -> UnsafeRawBufferPointer {
        let n = Int(try varint())
        guard n >= 0, offset + n <= base.count else { throw LogFormatError("string runs past the end of its record") }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: base[offset..<offset + n])
    }
}

/// One value's fields with its text still in the payload (valid during the scan callback only).
public struct RawValue {
    public var name: UInt32
    public var type: UInt32
    public var flags: ValueFlags
    public var text: UnsafeRawBufferPointer
    public var fullLength: UInt64
}

/// Reads frame payloads (the event layout is described in docs/trace-format.md).
public enum EventDecoder {
    /// Calls `event` for each event of a payload (its header, with its value count), then
    /// `value` for each of its values, without copying any text: the indexer's fast path.
    public static func scan(_ payload: UnsafeRawBufferPointer, baseSeq: UInt64, baseTime: UInt64,
                            event: (EventHeader, Int) throws -> Void, value: (RawValue) throws -> Void) throws {
        var c = ByteCursor(payload)
        while !c.atEnd {
            guard let kind = EventKind(rawValue: try c.byte()) else { throw LogFormatError("unknown event kind") }
            var h = EventHeader(seq: baseSeq + (try c.varint()), time: baseTime + (try c.varint()), kind: kind)
            h.thread = UInt32(truncatingIfNeeded: try c.varint())
            h.activation = try c.varint()
            h.code = UInt32(truncatingIfNeeded: try c.varint())
            h.line = UInt32(truncatingIfNeeded: try c.varint())
            h.depth = UInt32(truncatingIfNeeded: try c.varint())
            if kind == .call || kind == .resume {
                h.caller = try c.varint()
                h.callerLine = UInt32(truncatingIfNeeded: try c.varint())
            }
            let valueCount = Int(try c.varint())
            if valueCount > 0 { h.valueLine = UInt32(truncatingIfNeeded: try c.varint()) }
            try event(h, valueCount)
            for _ in 0..<valueCount {
                let name = UInt32(truncatingIfNeeded: try c.varint())
                let type = UInt32(truncatingIfNeeded: try c.varint())
                let flags = ValueFlags(rawValue: try c.byte())
                let text = try c.bytes()
                let full = flags.contains(.truncated) ? try c.varint() : 0
                try value(RawValue(name: name, type: type, flags: flags, text: text, fullLength: full))
            }
        }
    }

    /// Decodes the events of one frame payload.
    public static func decode(_ payload: UnsafeRawBufferPointer, baseSeq: UInt64, baseTime: UInt64,
                              into out: inout [Event]) throws {
        try scan(payload, baseSeq: baseSeq, baseTime: baseTime, event: { h, valueCount in
            var e = Event(seq: h.seq, time: h.time, kind: h.kind, thread: h.thread, activation: h.activation, caller: h.caller,
                          callerLine: h.callerLine, code: h.code, line: h.line, depth: h.depth, valueLine: h.valueLine, values: [])
            e.values.reserveCapacity(valueCount)
            out.append(e)
        }, value: { v in
            out[out.count - 1].values.append(RecordedValue(name: v.name, type: v.type, flags: v.flags,
                                                           text: String(decoding: v.text, as: UTF8.self), fullLength: v.fullLength))
        })
    }
}
