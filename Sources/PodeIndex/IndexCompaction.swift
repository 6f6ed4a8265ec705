#if canImport(Glibc)
import Glibc
#endif
import PodeLog
import XapianKit

/// Compacts the finished index of a short run. Xapian's blocks are left partly empty by the
/// commits made while a program runs; for a small trace that slack is a large part of its bytes
/// per event (stdlib_mix: about a third), and a compacted copy takes milliseconds to write.
public enum IndexCompaction {
    /// Indexes up to this many bytes are compacted once complete (larger ones would take longer
    /// to copy than the slack is worth to the wait until searchable).
    public static let largestCompacted = 8 << 20

    /// Replaces the index of the trace in `directory` by a compacted copy when it holds at most
    /// `largest` bytes and nothing writes it. Returns whether it did; on any failure the index
    /// is left as it was (the copy is removed).
    @discardableResult
    public static func compactIfSmall(traceDirectory directory: String, largest: Int = largestCompacted) -> Bool {
        let index = directory + "/" + TraceFormat.indexDirectory
        let copy = index + ".compacting", old = index + ".old"
        guard let size = directorySize(index), size > 0, size <= largest else { return false }
        removeDirectory(copy)
        removeDirectory(old)
        do {
            let database = try XapianDatabase(path: index)
            try database.compact(to: copy)
        } catch {
            removeDirectory(copy)
            return false
        }
        // The copy is made with the umask; the index keeps its own mode (owner only).
        var st = stat()
        guard stat(index, &st) == 0, chmod(copy, st.st_mode & 0o7777) == 0 else { removeDirectory(copy); return false }
        // Two renames: a reader that opens the index in between finds none and reads the log.
        guard rename(index, old) == 0 else { removeDirectory(copy); return false }
        guard rename(copy, index) == 0 else {
            _ = rename(old, index)
            removeDirectory(copy)
            return false
        }
        removeDirectory(old)
        return true
    }

    /// The bytes of the files directly in `path`, or nil when it cannot be listed.
    static func directorySize(_ path: String) -> Int? {
        var total = 0
        return forEachFile(in: path) { file in
            var st = stat()
            if stat(file, &st) == 0 { total += Int(st.st_size) }
        } ? total : nil
    }

    /// Removes a directory of plain files (an index), if it exists.
    static func removeDirectory(_ path: String) {
        _ = forEachFile(in: path) { unlink($0) }
        rmdir(path)
    }

    private static func forEachFile(in path: String, _ body: (String) -> Void) -> Bool {
        guard let dir = opendir(path) else { return false }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            body(path + "/" + name)
        }
        return true
    }
}
