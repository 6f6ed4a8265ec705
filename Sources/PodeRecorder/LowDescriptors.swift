import Foundation

/// Keeps pode's own long-lived file descriptors out of the program's way.
///
/// A program numbers its files from the lowest free descriptor (the first file it opens is
/// 3 under python3); pode's log, lock and index files must not take those numbers. While `body`
/// runs, every free descriptor below `floor` is held (on /dev/null), so whatever `body` opens
/// lands at `floor` or above; then the low ones are given back.
enum LowDescriptors {
    /// Half the soft limit on open files, at most 512: high enough that programs rarely reach
    /// it, low enough to leave room above.
    static var floor: Int32 {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 64 }
        return Int32(max(16, min(512, limit.rlim_cur / 2)))
    }

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
