"""A reference recorder for pode's differential tests, written with plain sys.settrace.

Usage: python3.11 reference.py OUT.jsonl [--include GLOB]... [--exclude GLOB]... [--all]
                               (SCRIPT | -m MODULE | -c CODE) [ARGS...]

Runs the program as python3.11 would and writes one JSON object per event to OUT.jsonl, with
the fields pode's `search --json` gives a match: kind, file, event_line, function, thread and
values (name, type, value, and deleted / mutated / rebound / truncated / full_length). It follows
the rules pode documents, in Python rather than C and slowly, so that the two can be compared:

- scope: the same library directories and --include / --exclude globs as `pode record`;
- a call records its arguments and the free variables it sees; every other event records the
  bindings that changed since the frame's previous event (new, rebound, mutated or deleted);
- module and class bodies skip dunder names and names first bound to modules, functions and
  classes;
- values are rendered as pode renders them without running the program's code (repr for
  builtin scalars, <module.Class object at 0x...> {attributes} for other objects), cut at
  256 bytes.

Nothing here is shared with pode's own code: it is a second, independent statement of the rules.
It imports only modules that python3.11 has imported before it runs a program (and fnmatch and
opcode, which create nothing at import), so that the program's own imports run, and are recorded,
exactly as under pode.
"""
import fnmatch
import opcode
import os
import site
import sys
import sysconfig
import threading
import types

LIMIT = 256
MAX_DEPTH = 12
HEAPTYPE = 1 << 9
RETURN_VALUE = opcode.opmap["RETURN_VALUE"]
YIELD_VALUE = opcode.opmap["YIELD_VALUE"]
CO_OPTIMIZED = 0x1
GENLIKE = 0x20 | 0x80 | 0x200  # generator, coroutine, async generator
SELF = os.path.realpath(__file__)


# ---- scope ---------------------------------------------------------------------------------

def library_prefixes():
    paths = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        value = sysconfig.get_paths().get(key)
        if value:
            paths.add(value)
    try:
        paths.update(site.getsitepackages())
        paths.add(site.getusersitepackages())
    except Exception:
        pass
    paths.update(p for p in sys.path if p.endswith(("site-packages", "dist-packages")))
    return sorted({os.path.normpath(y) for x in paths for y in (x, os.path.realpath(x))})


class Scope:
    def __init__(self, includes, excludes, everything):
        self.includes, self.excludes, self.everything = includes, excludes, everything
        self.prefixes = [] if everything else library_prefixes()
        self.cwd = os.getcwd() + "/"
        self.cache = {}

    def matches(self, globs, path):
        rel = path[len(self.cwd):] if path.startswith(self.cwd) else path
        base = path.rsplit("/", 1)[-1]
        return any(fnmatch.fnmatchcase(p, g) for g in globs for p in (path, rel, base))

    def __call__(self, path):
        hit = self.cache.get(path)
        if hit is None:
            hit = self.cache[path] = self.decide(path)
        return hit

    def decide(self, path):
        if path == SELF:
            return False
        if self.matches(self.excludes, path):
            return False
        if self.matches(self.includes, path):
            return True
        if self.everything:
            return True
        if path.startswith("<"):
            return path in ("<string>", "<stdin>")
        return not any(path == p or path.startswith(p + "/") for p in self.prefixes)


# ---- rendering -----------------------------------------------------------------------------

class Cut(Exception):
    pass


def type_name(t):
    if t.__flags__ & HEAPTYPE:
        module = type.__dict__["__dict__"].__get__(t).get("__module__")
        prefix = module + "." if isinstance(module, str) and module != "builtins" else ""
        return prefix + t.__qualname__
    module = t.__module__
    return t.__name__ if module == "builtins" else module + "." + t.__name__


def instance_attributes(o):
    """The instance dict's items, then __slots__ members of Python classes, as pode visits them."""
    t = type(o)
    try:
        d = object.__getattribute__(o, "__dict__")
    except Exception:
        d = None
        # A Python subclass of a C class that keeps its own dict slot (asyncio's Future) has no
        # __dict__ attribute; its dict is at the type's __dictoffset__.
        offset = t.__dictoffset__
        if offset > 0:
            import ctypes
            address = ctypes.c_void_p.from_address(id(o) + offset).value
            d = ctypes.cast(address, ctypes.py_object).value if address else None
    if isinstance(d, dict):
        yield from list(d.items())
    for b in t.__mro__:
        if not b.__flags__ & HEAPTYPE:
            break
        # Members a Python class's __slots__ made (writable object slots); a C class's members
        # (re.Pattern's pattern, flags, groups) are read-only or not objects, and not shown.
        if "__slots__" not in vars(b):
            continue
        for name, member in list(vars(b).items()):
            if type(member).__name__ != "member_descriptor" or name in ("__weakref__",):
                continue
            try:
                yield name, member.__get__(o, b)
            except AttributeError:
                pass


class Renderer:
    def __init__(self):
        self.parts, self.size, self.stack, self.ids = [], 0, [], []

    def put(self, s):
        self.parts.append(s)
        self.size += len(s.encode("utf-8", "surrogatepass"))
        if self.size > LIMIT:
            raise Cut

    def items(self, items, open_, close, one_tuple):
        self.put(open_)
        for i, item in enumerate(items):
            if i:
                self.put(", ")
            self.render(item)
        if one_tuple and len(items) == 1:
            self.put(",")
        self.put(close)

    def render(self, o):
        t = type(o)
        if o is None or o is True or o is False or o is Ellipsis:
            return self.put(repr(o))
        if t is int:
            return self.put(str(o) if o.bit_length() <= 12000 else f"<int of {o.bit_length()} bits>")
        if t in (str, float, complex, range, bytes):
            return self.put(repr(o))
        container = isinstance(o, (list, tuple, dict, set, frozenset, bytearray))
        if any(s is o for s in self.stack):
            return self.put("{...}" if isinstance(o, dict) else "[...]" if isinstance(o, list) else "...")
        if len(self.stack) >= MAX_DEPTH:
            return self.put("...")
        self.stack.append(o)
        self.ids.append(id(o))
        subclass = t.__flags__ & HEAPTYPE and isinstance(o, (int, str, float, bytes)) or (container and t.__flags__ & HEAPTYPE)
        subclass = subclass and not isinstance(o, bool)
        if subclass:
            self.put(type_name(t) + "(")
        if isinstance(o, list):
            self.items(list.copy(o), "[", "]", False)
        elif isinstance(o, tuple):
            self.items(tuple(tuple.__iter__(o)), "(", ")", True)
        elif isinstance(o, dict):
            self.put("{")
            for i, (k, v) in enumerate(list(dict.items(o))):
                if i:
                    self.put(", ")
                self.render(k)
                self.put(": ")
                self.render(v)
            self.put("}")
        elif isinstance(o, (set, frozenset)):
            frozen = isinstance(o, frozenset)
            elements = list(set.__iter__(o) if not frozen else frozenset.__iter__(o))
            if not elements:
                self.put("frozenset()" if frozen else "set()")
            else:
                self.put("frozenset({" if frozen else "{")
                for i, k in enumerate(elements):
                    if i:
                        self.put(", ")
                    self.render(k)
                self.put("})" if frozen else "}")
        elif isinstance(o, bytearray):
            self.put("bytearray(" + repr(bytes(o)) + ")")
        elif subclass and isinstance(o, int):
            self.put(str(int(o)))
        elif subclass and isinstance(o, str):
            self.put(repr(str(o)))
        elif subclass and isinstance(o, bytes):
            self.put(repr(bytes(o)))
        elif subclass and isinstance(o, float):
            self.put(repr(float(o)))
        elif isinstance(o, BaseException):
            self.put(type_name(t))
            self.items(BaseException.__dict__["args"].__get__(o), "(", ")", False)
        elif isinstance(o, type):
            self.put(f"<class '{type_name(o)}'>")
        elif t is types.FunctionType:
            self.put(f"<function {o.__qualname__} at {hex(id(o))}>")
        elif isinstance(o, types.BuiltinFunctionType):
            self.put(f"<built-in function {o.__name__}>")
        elif t is types.MethodType:
            f, s = o.__func__, o.__self__
            q = f.__qualname__ if type(f) is types.FunctionType else ""
            self.put(f"<bound method {q} of <{type_name(type(s))} object at {hex(id(s))}>>")
        elif t is types.ModuleType or isinstance(o, types.ModuleType):
            self.put(f"<module '{types.ModuleType.__dict__['__dict__'].__get__(o).get('__name__', '')}'>")
        elif t in (types.GeneratorType, types.CoroutineType):
            kind = "generator" if t is types.GeneratorType else "coroutine"
            self.put(f"<{kind} object {o.__qualname__} at {hex(id(o))}>")
        else:
            self.put(f"<{type_name(t)} object at {hex(id(o))}>")
            count = 0
            for name, value in instance_attributes(o):
                self.put(", " if count else " {")
                count += 1
                self.put(name + "=")
                self.render(value)
            if count:
                self.put("}")
        if subclass:
            self.put(")")
        self.stack.pop()


def full_length(o):
    if isinstance(o, (str, bytes, list, tuple, dict, set, frozenset, bytearray)):
        return len(o)
    return 0


def render(o):
    """(text, truncated, ids): pode's rendering of `o`, cut at LIMIT bytes without splitting a
    character, and the identities of the containers and objects that rendering shows."""
    r = Renderer()
    try:
        r.render(o)
        return "".join(r.parts), False, tuple(r.ids)
    except Cut:
        raw = "".join(r.parts).encode("utf-8", "surrogatepass")[:LIMIT]
        return raw.decode("utf-8", "ignore"), True, tuple(r.ids)


# ---- recording -----------------------------------------------------------------------------

SCALARS = (int, str, float, bytes, type(None), bool, complex)


class Binding:
    __slots__ = ("oid", "state", "scalar")

    def __init__(self, o):
        self.oid = id(o)
        self.scalar = type(o) in SCALARS
        self.state = (type(o), render(o), full_length(o))


def value_json(name, o, flag=None):
    text, truncated, _ = render(o)
    v = {"name": name, "type": type_name(type(o)), "value": text}
    if truncated:
        v["truncated"] = True
        v["full_length"] = full_length(o)
    if flag:
        v[flag] = True
    return v


def skip_global(name, value):
    if not isinstance(name, str):
        return True
    if len(name) >= 4 and name.startswith("__") and name.endswith("__"):
        return True
    return isinstance(value, (types.ModuleType, types.FunctionType, type, types.BuiltinFunctionType))


class Activation:
    __slots__ = ("frame", "bindings", "optimized", "last")

    def __init__(self, frame):
        self.frame = frame
        self.bindings = {}
        self.last = "call"
        self.optimized = bool(frame.f_code.co_flags & CO_OPTIMIZED)


class Recorder:
    def __init__(self, out, scope):
        self.out, self.scope = out, scope
        self.per_thread = threading.local()  # number (in the order threads first record) and stack
        self.count = 0
        self.suspended = {}  # id(frame) -> Activation of a generator that yielded
        self.lock = threading.Lock()

    def thread_number(self):
        # Per thread, not per ident: a thread that starts after another ended may get its ident.
        mine = self.per_thread
        if not hasattr(mine, "number"):
            mine.number, mine.stack = self.count, []
            self.count += 1
        return mine.number, mine.stack

    def changes(self, a, call):
        frame, values = a.frame, []
        local = frame.f_locals
        if not a.optimized:
            seen = set()
            for name, v in list(local.items()):
                b = a.bindings.get(name)
                if b is None:
                    if skip_global(name, v):
                        continue
                    seen.add(name)
                    a.bindings[name] = Binding(v)
                    if not call:
                        values.append(value_json(name, v))
                    continue
                seen.add(name)
                self.compare(name, v, a, values)
            for name, b in list(a.bindings.items()):
                if name not in seen and b is not None:
                    if not call:
                        values.append({"name": name, "type": "", "value": "", "deleted": True})
                    a.bindings[name] = None
            return values
        code = frame.f_code
        nargs = code.co_argcount + code.co_kwonlyargcount + bool(code.co_flags & 0x4) + bool(code.co_flags & 0x8)
        names = list(code.co_varnames) + [c for c in code.co_cellvars if c not in code.co_varnames] + list(code.co_freevars)
        arguments = set(code.co_varnames[:nargs]) | set(code.co_freevars)
        for name in names:
            if name.startswith("."):
                continue
            present = name in local
            v = local.get(name)
            if call:
                if not present:
                    continue
                if name in arguments:
                    values.append(value_json(name, v))
                a.bindings[name] = Binding(v)
                continue
            self.compare(name, v if present else None, a, values, present)
        return values

    def compare(self, name, v, a, values, present=True):
        b = a.bindings.get(name)
        if not present:
            if b is not None:
                values.append({"name": name, "type": "", "value": "", "deleted": True})
                a.bindings[name] = None
            return
        new = Binding(v)
        if b is None:
            a.bindings[name] = new
            values.append(value_json(name, v))
            return
        if new.oid == b.oid:
            if new.scalar or new.state == b.state:
                return
            a.bindings[name] = new
            values.append(value_json(name, v, "mutated"))
            return
        if new.scalar and b.scalar and new.state == b.state:
            b.oid = new.oid
            return
        a.bindings[name] = new
        values.append(value_json(name, v, "rebound"))

    def emit(self, kind, frame, thread, values):
        code = frame.f_code
        event = {"kind": kind, "file": code.co_filename, "event_line": frame.f_lineno or 0,
                 "function": code.co_qualname, "thread": thread, "values": values}
        self.out.write(to_json(event) + "\n")

    def trace(self, frame, what, arg):
        if what != "call" or not self.scope(frame.f_code.co_filename):
            return None
        with self.lock:
            thread, stack = self.thread_number()
            a = self.suspended.pop(id(frame), None)
            if a is not None and a.frame is frame:
                stack.append(a)
                self.emit("resume", frame, thread, [])
            else:
                a = Activation(frame)
                stack.append(a)
                self.emit("call", frame, thread, self.changes(a, True))
        return self.local

    def local(self, frame, what, arg):
        with self.lock:
            thread, stack = self.thread_number()
            while stack and stack[-1].frame is not frame:
                stack.pop()
            if not stack:
                return self.local
            a = stack[-1]
            last, a.last = a.last, what
            values = self.changes(a, False)
            if what == "line":
                self.emit("line", frame, thread, values)
            elif what == "exception":
                if arg[1] is not None:
                    values.append(value_json("<exception>", arg[1]))
                self.emit("exception", frame, thread, values)
            elif what == "return":
                # sys.settrace passes None both for `return None` and for a frame that an
                # exception leaves; the instruction it stopped at tells them apart. A frame left
                # by an exception thrown in at a yield (close(), throw()) stops at that yield,
                # right after its exception event.
                op = frame.f_code.co_code[frame.f_lasti] if frame.f_lasti >= 0 else None
                if op == YIELD_VALUE and last == "exception":
                    op = None
                if op == YIELD_VALUE and frame.f_code.co_flags & GENLIKE:
                    values.append(value_json("<yield>", arg))
                    self.emit("yield", frame, thread, values)
                    self.suspended[id(frame)] = a
                else:
                    if op == RETURN_VALUE:
                        values.append(value_json("<return>", arg))
                    self.emit("return", frame, thread, values)
                stack.pop()
        return self.local


def to_json(x):
    """JSON text of the event's dicts, lists, strings, ints and bools (the json module is not
    imported: see the top)."""
    if isinstance(x, dict):
        return "{" + ", ".join(to_json(k) + ": " + to_json(v) for k, v in x.items()) + "}"
    if isinstance(x, list):
        return "[" + ", ".join(map(to_json, x)) + "]"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    out = ['"']
    for ch in x:
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch < " " or "\ud800" <= ch <= "\udfff":
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def main():
    args = sys.argv[1:]
    out_path = args.pop(0)
    includes, excludes, everything = [], [], False
    while args and args[0] in ("--include", "--exclude", "--all"):
        flag = args.pop(0)
        if flag == "--all":
            everything = True
        else:
            (includes if flag == "--include" else excludes).append(args.pop(0))
    # A high descriptor, as pode's own files have: the program's first file is still number 3.
    import fcntl
    fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 512)
    os.close(fd)
    out = open(high, "w", encoding="utf-8")
    recorder = Recorder(out, Scope(includes, excludes, everything))
    import runpy
    if args[0] == "-m":
        sys.argv = [args[1]] + args[2:]
        sys.path[0] = os.getcwd()
        target = lambda: runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    elif args[0] == "-c":
        sys.argv = ["-c"] + args[2:]
        sys.path[0] = ""
        code = compile(args[1], "<string>", "exec")
        target = lambda: exec(code, {"__name__": "__main__", "__builtins__": __builtins__})
    else:
        # As python3.11 runs a script: its absolute path, compiled and run in __main__.
        sys.argv = args
        script = os.path.abspath(args[0])
        sys.path[0] = os.path.dirname(script)
        with open(script, "rb") as f:
            code = compile(f.read(), script, "exec")
        main_module = sys.modules["__main__"]
        namespace = {"__name__": "__main__", "__file__": script, "__builtins__": __builtins__,
                     "__doc__": None, "__package__": None, "__loader__": None, "__spec__": None}
        def target():
            sys.modules["__main__"] = type(sys)("__main__")
            sys.modules["__main__"].__dict__.update(namespace)
            exec(code, sys.modules["__main__"].__dict__)
        del main_module
    status = 0
    threading.settrace(recorder.trace)
    sys.settrace(recorder.trace)
    try:
        target()
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if e.code is not None and not isinstance(e.code, int):
            print(e.code, file=sys.stderr)
    except BaseException:
        import traceback
        traceback.print_exc()
        status = 1
    finally:
        sys.settrace(None)
        threading.settrace(None)
        try:
            threading._shutdown()
        except Exception:
            pass
        out.close()
    try:
        sys.stdout.flush()
    except ValueError:  # the program closed it
        pass
    os._exit(status)


if __name__ == "__main__":
    main()
