import CLZ4

/// How a frame's payload is stored in events.log: as it is (`TraceFormat.frameMagic`), or
/// LZ4-compressed (`TraceFormat.compressedFrameMagic`: the raw length as a UInt32 LE, then one
/// LZ4 block). Values repeat a great deal (the same names, types and renderings with a field
/// changed), so frames shrink 2-8x for about a nanosecond per byte on the writer's thread.
enum FrameCodec {
    /// Bytes before the LZ4 block in a compressed payload: the raw length.
    static let lengthSize = 4

    /// Appends `payload` compressed to `out` and returns true, or leaves `out` as it was and
    /// returns false when compressing would not save an eighth of it (the frame is then stored
    /// as it is).
    static func compress(_ payload: UnsafeRawBufferPointer, appendingTo out: inout [UInt8]) -> Bool {
        let n = payload.count
        guard n >= 64, n <= TraceFormat.maxFramePayload, let source = payload.baseAddress else { return false }
        let start = out.count
        let bound = Int(LZ4_compressBound(Int32(n)))
        out.appendLE(UInt32(n))
        out.append(contentsOf: repeatElement(0, count: bound))
        let written = out.withUnsafeMutableBytes { raw -> Int32 in
            let dest = (raw.baseAddress! + start + lengthSize).assumingMemoryBound(to: CChar.self)
            return LZ4_compress_fast(source.assumingMemoryBound(to: CChar.self), dest, Int32(n), Int32(bound), 1)
        }
        let stored = lengthSize + Int(written)
        guard written > 0, stored <= n - n / 8 else {
            out.removeSubrange(start...)
            return false
        }
        out.removeSubrange((start + stored)...)
        return true
    }

    /// The raw payload of a compressed one; nil when it is damaged (its raw length is out of
    /// range or the block does not decode to exactly that many bytes).
    static func decompress(_ stored: UnsafeRawBufferPointer) -> [UInt8]? {
        guard stored.count > lengthSize, let base = stored.baseAddress else { return nil }
        let n = Int(stored.loadUnaligned(as: UInt32.self).littleEndian)
        guard n > 0, n <= TraceFormat.maxFramePayload else { return nil }
        var ok = false
        let raw = [UInt8](unsafeUninitializedCapacity: n) { buffer, count in
            let got = LZ4_decompress_safe((base + lengthSize).assumingMemoryBound(to: CChar.self),
                                          UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self),
                                          Int32(stored.count - lengthSize), Int32(n))
            ok = got == Int32(n)
            count = ok ? n : 0
        }
        return ok ? raw : nil
    }
}
