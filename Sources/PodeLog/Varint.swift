/// LEB128 varints, as the recorder writes them.
public enum Varint {
    /// Appends `v` as a varint (inlinable: the summary and document encoders call it per number).
    @inlinable
    public static func append(_ v: UInt64, to out: inout [UInt8]) {
        var v = v
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// Reads a varint at `offset`, advancing it; nil when the bytes end first.
    @inlinable
    public static func read<Bytes: RandomAccessCollection>(_ bytes: Bytes, _ offset: inout Int) -> UInt64?
    where Bytes.Element == UInt8, Bytes.Index == Int {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.endIndex, shift < 64 {
            let b = bytes[offset]
            offset += 1
            result |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return result }
            shift += 7
        }
        return nil
    }
}
