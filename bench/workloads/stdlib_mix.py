"""Heavy standard-library use: difflib between text revisions, textwrap, dataclasses and collections."""
import collections
import dataclasses
import difflib
import sys
import textwrap

WORDS = ("the quick brown fox jumps over the lazy dog while seven wizards quietly judge "
         "boxing matches and pack my box with five dozen liquor jugs").split()


@dataclasses.dataclass(order=True)
class Revision:
    number: int
    author: str
    lines: list = dataclasses.field(compare=False)
    changed: int = 0


def paragraph(seed, words):
    out = []
    for k in range(words):
        seed = (seed * 48271) % 2147483647
        out.append(WORDS[seed % len(WORDS)])
    return " ".join(out), seed


def revise(lines, seed):
    new = list(lines)
    for k in range(3):
        seed = (seed * 48271) % 2147483647
        i = seed % len(new)
        text, seed = paragraph(seed, 6)
        new[i] = textwrap.shorten(new[i] + " " + text, width=70, placeholder=" ...")
    return new, seed


def main():
    revisions = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    text, seed = paragraph(1, 400)
    lines = textwrap.wrap(text, width=60)
    history = [Revision(0, "author-0", lines)]
    authors = collections.Counter()
    changed_total = 0
    for n in range(1, revisions + 1):
        new, seed = revise(history[-1].lines, seed)
        diff = list(difflib.unified_diff(history[-1].lines, new, lineterm="", n=1))
        changed = sum(1 for d in diff if d.startswith(("+", "-")) and not d.startswith(("+++", "---")))
        ratio = difflib.SequenceMatcher(None, " ".join(history[-1].lines), " ".join(new)).quick_ratio()
        rev = Revision(n, f"author-{n % 5}", new, changed)
        authors[rev.author] += changed
        changed_total += changed + int(ratio * 100)
        history.append(rev)
    latest = max(history)
    print(f"revisions={len(history)} latest={latest.number} changed={changed_total} top={authors.most_common(2)}")


main()
