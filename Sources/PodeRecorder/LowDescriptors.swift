import CPodeRecorder
import Foundation

/// Keeps pode's own long-lived file descriptors out of the program's way.
///
/// A program numbers its files from the lowest free descriptor (the first file it opens is
/// 3 under python3); pode's log, lock and index files must not take those numbers. While `body`
/// runs, every free descriptor below `floor` is held (on /dev/null), so whatever `body` opens
/// lands at `floor` or above; then the low ones are given back.
enum LowDescriptors {
    /// See pode_high_fd_floor: half the soft limit on open files, at most 512.
    static var floor: Int32 { pode_high_fd_floor() }

    static func keepFree<T>(_ body: () throws -> T) rethrows -> T {
        let floor = self.floor
        var held: [Int32] = []
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        if null >= 0 {
            held.append(null)
            while let last = held.last, last < floor - 1 {
                let fd = fcntl(null, F_DUPFD_CLOEXEC, 0)
                if fd < 0 || fd >= floor { if fd >= 0 { close(fd) }; break }
                held.append(fd)
            }
        }
        defer { for fd in held { close(fd) } }
        return try body()
    }
}
