// LZ4's block format, for the frames of events.log (PodeLog's FrameCodec is the only user):
// this system-library target exists so that SwiftPM finds Debian's liblz4-dev through
// pkg-config. Only LZ4's bounded, bounds-checked calls are used (LZ4_compress_fast,
// LZ4_decompress_safe), so a damaged frame can never make a reader write past its buffer.
#pragma once
#include <lz4.h>
