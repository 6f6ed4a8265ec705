#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An error from the file system, with the path and what pode was doing.
public struct FileError: Error, CustomStringConvertible {
    public let path: String
    public let operation: String
    public let code: Int32
    public init(path: String, operation: String, code: Int32 = errno) {
        self.path = path
        self.operation = operation
        self.code = code
    }
    public var description: String {
        let reason = String(cString: strerror(code))
        let hint = code == ENOSPC ? " (free some disk space and record again)" : ""
        return "cannot \(operation) \(path): \(reason)\(hint)"
    }
}

/// One open file descriptor, closed explicitly or at deinit.
public final class RawFile {
    public let path: String
    private(set) var fd: Int32

    public init(path: String, flags: Int32, mode: mode_t = 0o600) throws {
        self.path = path
        fd = open(path, flags | O_CLOEXEC, mode)
        if fd < 0 { throw FileError(path: path, operation: "open") }
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Appends all of `bytes` (retrying short writes).
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(path: path, operation: "write to")
            }
            done += n
        }
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Reads up to `count` bytes at `offset`; fewer at the end of the file.
    public func read(at offset: Int, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        try out.withUnsafeMutableBytes { buf in
            while done < count {
                let n = pread(fd, buf.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileError(path: path, operation: "read")
                }
                if n == 0 { break }
                done += n
            }
        }
        out.removeLast(count - done)
        return out
    }

    public func size() throws -> Int {
        var st = stat()
        if fstat(fd, &st) != 0 { throw FileError(path: path, operation: "stat") }
        return Int(st.st_size)
    }

    /// Cuts the file to `length` bytes (best effort: used to drop a half-written frame).
    public func truncate(to length: Int) { _ = ftruncate(fd, off_t(length)) }

    /// Takes an exclusive advisory lock without waiting; false when another process holds it.
    public func tryLock() -> Bool { flock(fd, LOCK_EX | LOCK_NB) == 0 }

    /// Whether another process holds an exclusive lock on this file.
    public func isLockedElsewhere() -> Bool {
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return errno == EWOULDBLOCK
    }
}

extension Array where Element == UInt8 {
    /// Appends the little-endian bytes of an integer (inlinable: the summary encoder appends an
    /// offset per term).
    @inlinable
    public mutating func appendLE<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) }
    }
}

func fileHeader() -> [UInt8] {
    var h = TraceFormat.fileMagic
    h.appendLE(TraceFormat.version)
    h.appendLE(UInt32(0))
    return h
}

/// Checks a log file's header; throws a message that says what to do.
func checkFileHeader(_ bytes: [UInt8], path: String) throws {
    guard bytes.count >= TraceFormat.fileHeaderSize, Array(bytes[0..<8]) == TraceFormat.fileMagic else {
        throw LogFormatError("\(path) is not a pode log file (bad header)")
    }
    let version = bytes[8..<12].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }.littleEndian
    if version > TraceFormat.version {
        throw LogFormatError("\(path) was written by a newer pode (trace format \(version), this pode reads up to \(TraceFormat.version)); upgrade pode to read it")
    }
    if version < TraceFormat.oldestReadableVersion {
        throw LogFormatError("\(path) was recorded by an older pode (trace format \(version), this pode reads \(TraceFormat.oldestReadableVersion) to \(TraceFormat.version)); record the program again")
    }
}

/// A file mapped read-only as it was when opened (appended bytes are not seen), unmapped
/// explicitly or at deinit.
public final class MappedFile {
    public let path: String
    private var base: UnsafeMutableRawPointer?
    private var length: Int

    public init(path: String) throws {
        self.path = path
        let file = try RawFile(path: path, flags: O_RDONLY)
        defer { file.close() }
        length = try file.size()
        base = nil
        if length > 0 {
            let p = mmap(nil, length, PROT_READ, MAP_SHARED, file.fd, 0)
            if p == MAP_FAILED { throw FileError(path: path, operation: "map") }
            base = p
        }
    }

    deinit { close() }

    public func close() {
        if let base { munmap(base, length) }
        base = nil
        length = 0
    }

    /// The mapped bytes (empty once closed); valid until `close`.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: base == nil ? 0 : length) }
}
