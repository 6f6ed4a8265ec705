"""Changes in place that the recorder's shortcuts must still see: `in` tests that draw from an
iterator, references made on lines that change nothing (or left on the stack for the next),
dicts of scalars changed through another name, objects reached through attributes, calls
whose new frame must not take the caller's last look at an object for its state now, stores
into dicts next to objects they reach, and returns after which the caller must not take the
callee's last look, and lines that store into or call methods of the objects locals hold
(which change only those, unless another object shares their insides), also on an item of a
local, `rows[r].add(d)`."""
import weakref


class Holder:
    def __init__(self):
        self.items = []
        self.count = 0


def membership(n):
    seen = set()
    pending = [3, 2, 1]
    drawn = iter(pending.pop, None)  # each `in` test pops from pending, with no Python call
    found = 1 in drawn
    alias = seen if 0 in seen else seen  # a second name, made on a line that changes nothing
    alias.add(n)
    if n in seen and 2 in pending:
        alias.discard(n)
    return found, seen, pending


def dicts(n):
    counts = {"a": 1}
    other = counts if "a" in counts else None
    other["b"] = n
    nested = {"k": []}
    inner = nested["k"]
    inner.append(n)
    same = counts
    same["a"] += 1
    flat = {"x": n}
    second = flat if len(flat) else None  # a second name, made on a line that may change things
    second["y"] = 2
    return counts, nested, flat


def attributes(n):
    holder = Holder()
    tail = holder.items
    tail.append(n)
    box = [holder]
    first = box[0] if holder in box else None
    first.count += 1
    return holder.count, holder.items


stack = [1, 2, 3]
id = stack.pop  # a module global that hides the builtin: calling it changes stack


def shadowed(n):
    mine = stack
    size = id()  # pops, with no Python call
    return size, mine


def augmented(n):
    orig = [n]
    alias = orig
    extra = [n + 1]
    alias += extra  # in place: orig changes too
    count = n
    count += 1  # a new int: nothing changes in place
    return orig, count


def builtins_swapped(n):
    import builtins
    store = [4, 5]
    real = builtins.abs
    builtins.abs = store.pop
    try:
        top = abs()  # the builtin's name now calls a method that changes store
    finally:
        builtins.abs = real
    return top, store


def loops(n):
    pending = [2, 5, 4, 3]
    alias = pending
    for x in iter(pending.pop, 2):  # each step pops from pending, with no Python call
        last = x
    stock = [5, 6, 7]
    view = stock
    for a, b in [(0, 0), iter(stock.pop, 5)]:  # unpacking the second draws from it: three pops
        got = a + b
    for i, pair in enumerate([(1, 2)]):
        first = pair
    for key, value in {"k": n}.items():
        seen = key
    queue = [9, 8, 7]
    drawn = iter(queue.pop, 9)
    for x in drawn:  # the first step (the line entered at its start) pops from queue, and so does the last
        last = x
    plain = [1, 2]
    for x in plain:  # a plain list's steps change nothing but its iterator
        last = x
    return alias, view, got, queue, last


def subscripts(n):
    data = [7, 8, 9]
    rows = [set(), {n}, iter(data.pop, 8)]  # the last item's `in` test pops from data
    if 5 in rows[2] or n in rows[1]:
        hit = n
    grid = [[1], [2]]
    if 3 in grid[0]:
        hit = 0
    return data, rows[:2], grid


def kept_references(n):
    box = [[n], [2]]  # nothing else refers to box or its lists
    holder = []
    holder.append(
        box  # loaded on this line, stored by the next: box is now shared with holder
    )
    if n in box[0]:  # names box, changes nothing, keeps nothing
        pass
    holder[0][0].append(9)  # changes box[0] through holder only
    pair = [[n]]
    other = []
    other.extend(
        pair[0]  # a subscript on its own line
    )
    return box, pair


def size_of(items):
    return len(items)


def calls(n):
    items = [n]
    size = size_of(items.append(5) or items)  # items changes on the call's line, before the call
    box = Holder()  # nothing else refers to box, and only box to box.items

    def fill(tail):
        tail.append(n)  # changes box (a free variable) through tail: this line does not name box
        return len(box.items)

    fill(box.items)
    old = [1, 2]
    # old's list is freed and a new one made, likely at its address (a rebinding to the same
    # address shows as a change in place, so the line also deletes it)
    size += size_of((old := None) or (old := [n, n])); del old  # noqa: E702
    data = [3, 1, 2]

    def key(x):
        return len(data) + x  # data is empty while list.sort runs (a call from C code)

    data.sort(key=key)
    marks = [set(), set()]

    def search(k):
        if k == 3:
            return k
        marks[k % 2].add(k)  # changes a free variable the next call sees
        return search(k + 1)

    return size, box.items, data, search(0), marks


def grow(xs):
    xs.append(len(xs))  # the callee's last line changes the caller's list
    return xs


def scratch():
    tmp = [7, 7]  # freed at the return: the list the caller's line makes next may take its address
    return len(tmp)


def drop(target):
    token = Holder()
    # As drop's frame is cleared, weakref's own (unrecorded) Python code appends to target
    weakref.finalize(token, target.append, "gone")
    return len(target)


def returns(n):
    xs = [n]
    grow(xs)  # the caller may take the callee's look at xs
    grow(xs).append(9)  # changes xs after the call, on the call's line
    xs.pop()  # back to what grow left: a stale look would see no change
    old = [1, 2]
    size, old = scratch(), [8, n]  # old rebound after the call, likely at tmp's address
    old[:] = [7, 7]  # what tmp held: a stale look at tmp would see no change
    target = []
    drop(target)  # Noisy.__del__ changes target after drop's return check
    try:
        grow(None)
    except AttributeError:
        pass
    xs.append(size)
    return xs, old, target


REGISTRY = {}


class Registered:
    value = property(None, REGISTRY.__setitem__)  # setting .value stores into REGISTRY, in C code


class Shared:
    state = {}

    def __init__(self):
        self.__dict__ = Shared.state  # every Shared keeps its attributes in one dict


class Slotted:
    __slots__ = ("x",)


def targets(n):
    box = Holder()  # nothing else refers to box
    nums = [1, 2]  # nothing changeable inside
    box.count = n  # changes box only
    alias = box
    box.count = n + 1  # alias is box
    view = box.__dict__  # box's attributes are now in a dict that view names
    box.count = n + 2  # changes view
    del view, alias
    first, second = Shared(), Shared()
    first.value = n  # changes second too: they share one dict
    registry = REGISTRY
    item = Registered()
    item.value = n  # the property's setter (C code) stores into registry
    slots = Slotted()
    slots.x = n
    stack = [n]
    stack.append(nums)  # only stack changes; nums is now shared with it
    nums.append(3)  # changes stack too
    seen = {n}
    again = seen
    seen.discard(n)  # again is seen
    seen.add(n + 1)
    table = {"k": n}
    table.setdefault("j", n)
    table.pop("k")
    return box.count, nums, stack, again, table, second.value, slots.x, len(registry)


def stores(n):
    counts = {}
    pairs = [("a", 1), ("b", 2)]
    for kind, value in pairs:  # the loop's iterator makes pairs shared
        counts[kind] = counts.get(kind, 0) + value  # a store into a dict only: pairs is unchanged
    alias = counts  # a second name for the dict the next lines store into
    for kind, value in pairs:
        counts[kind] = value * n
    box = [counts]  # a list holding the dict
    for kind, value in pairs:
        counts[kind] = -value
    buf = bytearray(b"abc")
    view = memoryview(buf)  # a store into the view changes buf
    for i in range(2):
        view[i] = 65 + n
    items = [("x", n)]  # nothing else refers to items
    table = {}
    table["k"] = items  # items is now shared with table
    table["k"].append(("y", n))  # changes items through table only
    view.release()
    pending = [3, 2, 1]
    drawn = iter(pending.pop, None)
    plain = {7}
    hit = 1 in (drawn if n else plain)  # which container `in` tests is decided on the line
    first, second = {"f": 0}, {"s": 0}  # nothing else refers to either
    (first if n else second)["k"] = n  # which one the store goes into is decided on the line
    return counts, alias, box, bytes(buf), items, first, second, hit, pending


def item_calls(n):
    rows = [set() for _ in range(3)]  # nothing else refers to rows or its sets
    cells = ["."] * 4  # nothing changeable inside
    empty = [(0, 1), (1, 0)]
    r, d = 1, n + 1
    rows[r].add(d)  # changes rows only
    mine = rows[0]  # a second name for an item
    rows[0].add(d)  # changes mine too
    rows[-1].discard(9)
    outer = {"inner": rows[2]}  # a dict holding an item
    rows[2].add(7)  # changes outer too
    grid = ([], {})  # a tuple of a list and a dict
    grid[0].append(n)
    grid[1].setdefault("k", n)
    grid[0].append(empty)  # empty is now shared with grid
    empty.append((2, 2))  # changes grid too
    same = [[]]
    same[0].append(same)  # the item now holds its container
    same[0].pop()
    queue = [__import__("collections").deque()]  # not a list, set or dict
    queue[0].append(n)
    groups = {"a": []}  # not a list or tuple: its subscript may run code
    groups["a"].append(n)
    flag = True  # not an int: a bool
    rows[flag].add(5)
    twice = [[]]
    twice[0].append(n); twice[0].append(n)
    return rows, cells, mine, outer, grid, same, list(queue[0]), groups, twice


def ends_with_constant(n):
    log = []
    alias = log

    def add(x):
        alias.append(x)  # changes log, through a free variable
        return True  # a last line that names no variable and changes nothing

    def drop():
        alias.pop()
        pass  # likewise

    add(n)
    add(n + 1)
    drop()
    return log


def main():
    total = []
    for n in range(3):
        total.append(membership(n))
        total.append(dicts(n))
        total.append(attributes(n))
        total.append(augmented(n))
        total.append(builtins_swapped(n))
    total.append(shadowed(0))
    total.append(loops(3))
    for n in range(2):
        total.append(subscripts(n))
        total.append(kept_references(n))
        total.append(calls(n))
        total.append(stores(n))
        total.append(returns(n))
        total.append(targets(n))
        total.append(item_calls(n))
        total.append(ends_with_constant(n))
    print(total)


main()
