"""Control flow pode must follow: exceptions, finally, with, generators, closures, recursion, classes."""
import contextlib


def fails(n):
    if n > 2:
        raise KeyError(n)
    return n


def catches(n):
    try:
        return fails(n)
    except KeyError as e:
        caught = e.args
        return -caught[0]
    finally:
        n += 100


def reraises():
    try:
        try:
            fails(9)
        finally:
            cleanup = "done"
    except KeyError:
        return cleanup


@contextlib.contextmanager
def section(name):
    log = [name]
    try:
        yield log
    finally:
        log.append("closed")


def uses_with():
    with section("a") as log:
        log.append("inside")
    try:
        with section("b") as log:
            raise RuntimeError("in with")
    except RuntimeError as err:
        message = str(err)
    return log, message


def counter(limit):
    total = 0
    for i in range(limit):
        got = yield i
        if got:
            total += got
    return total


def drives_generators():
    g = counter(5)
    first = next(g)
    second = g.send(10)
    g.close()
    h = counter(3)
    out = list(h)
    k = counter(4)
    next(k)
    try:
        k.throw(ValueError("thrown"))
    except ValueError:
        pass
    return first, second, out


def make_adder(step):
    calls = 0

    def add(x):
        nonlocal calls
        calls += 1
        return x + step + calls
    return add


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class Account:
    rate = 0.5
    kinds = [k for k in ("a", "b")]

    def __init__(self, owner):
        self.owner = owner
        self.balance = 0

    @property
    def doubled(self):
        return self.balance * 2

    def deposit(self, amount):
        self.balance += amount
        return self.doubled


print([catches(n) for n in range(5)])
print(reraises(), uses_with())
print(drives_generators())
adder = make_adder(3)
print(adder(1), adder(2), fib(7))
acct = Account("ann")
print(acct.deposit(5), sorted(x * x for x in range(4)), (lambda q: q + 1)(1))
squares = {x: x * x for x in range(3)}
try:
    fails(10)
except KeyError:
    print("module caught", squares)
