"""Values of every builtin kind, as locals and module globals, changed in every way."""
import collections
import math

Point = collections.namedtuple("Point", "x y")


class Slotted:
    __slots__ = ("b", "a")

    def __init__(self, a):
        self.a = a


class Plain:
    def __init__(self, name):
        self.name = name
        self.items = []

    def add(self, item):
        self.items.append(item)
        return self


class Counter(dict):
    pass


class SlottedBase:
    __slots__ = ("kept",)


class WithDict(SlottedBase):
    """Has a dict and an inherited slot: both are shown."""

    def __init__(self):
        self.kept = "slot"
        self.extra = "dict"


class Label(str):
    """A str subclass with attributes: shown by its value, which never changes."""


def scalars():
    i = 7
    i = 7 * 1
    big = 2 ** 100
    huge = 3 ** 9000
    neg = -12345678901234567890
    f = 1.5
    f = float("nan")
    f = -0.0
    f = math.inf
    c = complex(1, -2)
    b = True
    n = None
    r = range(3, 30, 4)
    e = ...
    return i, big, huge, neg, f, c, b, n, r, e


def strings():
    s = "plain"
    s = "it's"
    s = 'say "hi"'
    s = 'both \' and "'
    s = "tab\tnew\nline\rret\x00nul\x7f\x80\xa0\xad"
    s = "caf\u00e9 \u2028 \U0001f600 \ud800 lone"
    s = "x" * 1000
    s = "q" * 300 + "'"
    by = b"bytes \x00\xff'\""
    by = bytes(range(40))
    ba = bytearray(b"abc")
    ba.extend(b"def")
    # Longer than a word-sampled fingerprint sees whole: a change anywhere shown must show.
    s = "a" * 100
    s = "a" * 40 + "b" + "a" * 59
    by = b"x" * 100
    by = b"x" * 40 + b"y" + b"x" * 59
    ba = bytearray(100)
    ba[40] = 1
    return s, by, ba


def containers():
    lst = [1, [2, [3, [4]]], (5,), {6: {7}}]
    lst.append(lst)
    d = {"k": [1], ("t", 1): frozenset({1}), None: set()}
    d["self"] = d
    inner = [0]
    outer = [inner, inner]
    inner.append(1)
    outer[0] = [0, 1]
    deep = []
    cur = deep
    for _ in range(15):
        nxt = []
        cur.append(nxt)
        cur = nxt
    t = (lst, d)
    empty = ()
    single = (1,)
    fs = frozenset()
    st = {3, 1, 2}
    st.discard(1)
    long_list = list(range(200))
    long_list[150] = -1
    long_list.append(5)
    return t, empty, single, fs, st, outer, long_list


def objects():
    p = Point(1, y=2)
    s = Slotted(3)
    s.b = [s]
    o = Plain("first")
    o.add(1).add("two")
    o.name = "renamed"
    cnt = Counter(a=1)
    cnt["b"] = 2
    err = ValueError("bad", 42)
    fn = objects
    meth = o.add
    bif = len
    mod = math
    cls = Plain
    gen = (x for x in range(3))
    both = WithDict()
    both.more = [1]
    label = Label("tag")
    label.owner = o
    del fn
    return p, s, o, cnt, err, meth, bif, mod, cls, gen, both, label


scalars()
strings()
containers()
objects()
g_list = [1, 2]
g_list.append(3)
g_int = 5
g_int = 6
g_alias = g_list
g_alias.append(4)
del g_int
g_int = "back"
print("values done")
