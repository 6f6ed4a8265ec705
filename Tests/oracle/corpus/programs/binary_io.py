"""Reads stdin as text and writes bytes to stdout."""
import sys

lines = sys.stdin.read().splitlines()
out = b""
for number, line in enumerate(lines, 1):
    out += b"%d:%s\n" % (number, line.encode("utf-8"))
sys.stdout.buffer.write(out + b"\xff\xfe end\n")
