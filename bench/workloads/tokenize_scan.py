"""String scanning and tokenizing: a hand-written lexer over generated source text, with counts."""
import sys

KEYWORDS = {"let", "if", "else", "while", "return", "fn"}


def generate(lines, seed):
    state = seed
    out = []
    names = ["alpha", "beta", "gamma", "delta", "total", "count", "index", "value"]
    for i in range(lines):
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        a = names[state % len(names)]
        b = names[(state >> 8) % len(names)]
        n = (state >> 4) % 1000
        if state % 5 == 0:
            out.append(f'if {a} > {n} {{ {b} = {a} - {n}; }} else {{ {b} = "s{n}"; }}')
        elif state % 5 == 1:
            out.append(f"let {a}{i % 7} = {b} * {n} + {n / 8:.2f};")
        else:
            out.append(f"{a} = fn({b}, {n}) # note {i}")
    return "\n".join(out)


def tokenize(text):
    tokens = []
    i = 0
    line = 1
    length = len(text)
    while i < length:
        ch = text[i]
        if ch == "\n":
            line += 1
            i += 1
        elif ch.isspace():
            i += 1
        elif ch == "#":
            while i < length and text[i] != "\n":
                i += 1
        elif ch.isalpha() or ch == "_":
            start = i
            while i < length and (text[i].isalnum() or text[i] == "_"):
                i += 1
            word = text[start:i]
            tokens.append(("kw" if word in KEYWORDS else "name", word, line))
        elif ch.isdigit():
            start = i
            while i < length and (text[i].isdigit() or text[i] == "."):
                i += 1
            tokens.append(("num", text[start:i], line))
        elif ch == '"':
            start = i
            i += 1
            while i < length and text[i] != '"':
                i += 1
            i += 1
            tokens.append(("str", text[start:i], line))
        else:
            tokens.append(("op", ch, line))
            i += 1
    return tokens


def main():
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 34000
    text = generate(lines, 42)
    tokens = tokenize(text)
    counts = {}
    for kind, word, line in tokens:
        counts[kind] = counts.get(kind, 0) + 1
    names = sorted({w for k, w, _ in tokens if k == "name"})
    checksum = 0
    for kind, word, line in tokens:
        checksum = (checksum * 31 + len(word) + line) % 1000000007
    print(f"tokens={len(tokens)} kinds={sorted(counts.items())} names={len(names)} checksum={checksum}")


main()
