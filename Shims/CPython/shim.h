// Exposes nothing to Swift: this system-library target exists only so that SwiftPM passes
// `pkg-config python3-embed` flags to the C recorder that embeds CPython.
#pragma once
