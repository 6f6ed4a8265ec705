#if canImport(Glibc)
import Glibc
#endif

/// Appends frames of events to events.log and definition records to defs.log.
/// Everything written is in the operating system's hands at once (no user-space buffering),
/// so a recorder killed after a write loses nothing of it.
public final class LogWriter {
    private let events: RawFile
    private let definitions: RawFile
    private var scratch: [UInt8] = []
    /// Bytes of events.log written so far (header included).
    public private(set) var eventsEnd: Int

    /// Creates both files in `directory`, which must exist.
    public init(directory: String) throws {
        events = try RawFile(path: directory + "/" + TraceFormat.eventsFile, flags: O_WRONLY | O_CREAT | O_EXCL | O_APPEND)
        definitions = try RawFile(path: directory + "/" + TraceFormat.definitionsFile, flags: O_WRONLY | O_CREAT | O_EXCL | O_APPEND)
        let header = fileHeader()
        try events.write(header)
        try definitions.write(header)
        eventsEnd = header.count
    }

    /// Appends one record of definitions (written before any event that uses them).
    public func appendDefinitions(_ records: UnsafeRawBufferPointer) throws {
        guard records.count > 0 else { return }
        scratch.removeAll(keepingCapacity: true)
        scratch.appendLE(UInt32(records.count))
        scratch.appendLE(podeChecksum(records))
        scratch.append(contentsOf: records)
        try definitions.write(scratch)
    }

    /// Appends one frame: whole events whose seq and time are relative to the bases, stored
    /// LZ4-compressed when that saves space (see FrameCodec).
    public func appendFrame(_ payload: UnsafeRawBufferPointer, baseSeq: UInt64, baseTime: UInt64) throws {
        scratch.removeAll(keepingCapacity: true)
        scratch.appendLE(TraceFormat.frameMagic)
        scratch.appendLE(UInt32(0))
        scratch.appendLE(baseSeq)
        scratch.appendLE(baseTime)
        scratch.appendLE(UInt32(0))
        let start = scratch.count
        if FrameCodec.compress(payload, appendingTo: &scratch) {
            scratch.withUnsafeMutableBytes { $0.storeBytes(of: TraceFormat.compressedFrameMagic.littleEndian, as: UInt32.self) }
        } else {
            scratch.append(contentsOf: payload)
        }
        scratch.withUnsafeMutableBytes { raw in
            let stored = UnsafeRawBufferPointer(rebasing: raw[start...])
            raw.storeBytes(of: UInt32(stored.count).littleEndian, toByteOffset: 4, as: UInt32.self)
            raw.storeBytes(of: podeChecksum(stored).littleEndian, toByteOffset: 24, as: UInt32.self)
        }
        do {
            try events.write(scratch)
        } catch {
            // A full disk, say: the log keeps ending with a whole frame, and the space a
            // partly written one took is given back.
            events.truncate(to: eventsEnd)
            throw error
        }
        eventsEnd += scratch.count
    }

    public func close() {
        events.close()
        definitions.close()
    }
}
