"""Counts the words of a text file and prints the most common ones."""
import sys
from collections import Counter


def tokenize(text):
    words = []
    for word in text.split():
        word = word.strip(".,;:!?\"'()").lower()
        if word:
            words.append(word)
    return words


def top_words(path, n=5):
    with open(path, encoding="utf-8") as f:
        counts = Counter(tokenize(f.read()))
    return counts.most_common(n)


def main(argv):
    if len(argv) != 2:
        print("usage: wordfreq.py FILE", file=sys.stderr)
        return 2
    for word, count in top_words(argv[1]):
        print(f"{count:4} {word}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
