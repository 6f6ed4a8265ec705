// render.c - bounded value rendering without running user code, and value fingerprints.
//
// Builtin scalars and containers are rendered as Python's repr would show them; every other
// object as <module.Class object at 0x...> followed by its instance attributes. Nothing here
// calls __repr__, __eq__, properties or descriptors, except with --repr=full.
#include "internal.h"
#include "pode_recorder.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#define MAX_DEPTH 12

typedef struct Render {
    PodeBuf *out;
    size_t start, limit;
    int truncated;
    const PodeRenderOptions *opts;
    PyObject *stack[MAX_DEPTH];  // containers being rendered, for cycles
    int depth;
} Render;

static inline size_t used(const Render *r) { return r->out->len - r->start; }

// Appends the part of `s` that fits and marks the rendering cut, without splitting a UTF-8 sequence.
static void put_cut(Render *r, const char *s, size_t room) {
    size_t cut = room;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80) cut--;
    pode_buf_bytes(r->out, s, cut);
    r->truncated = 1;
}

// Appends bytes, cutting at the limit.
static inline __attribute__((always_inline)) void put(Render *r, const char *s, size_t n) {
    if (r->truncated) return;
    size_t room = r->limit - used(r);
    if (n > room) { put_cut(r, s, room); return; }
    PodeBuf *b = r->out;
    if (b->len + n > b->cap) pode_buf_reserve(b, n);
    // (A bracket, a separator or a digit without a call of memcpy.)
    if (n == 1) {
        b->data[b->len] = (uint8_t)s[0];
    } else if (n == 2) {
        b->data[b->len] = (uint8_t)s[0];
        b->data[b->len + 1] = (uint8_t)s[1];
    } else if (n) {
        memcpy(b->data + b->len, s, n);
    }
    b->len += n;
}

static inline __attribute__((always_inline)) void puts_(Render *r, const char *s) { put(r, s, strlen(s)); }

static void render(Render *r, PyObject *o);

static void put_pyrepr_of_builtin(Render *r, PyObject *o) {
    // Only for exact builtin types whose repr runs no user code.
    PyObject *s = PyObject_Repr(o);
    if (!s) {
        PyErr_Clear();
        puts_(r, "<unrepresentable>");
        return;
    }
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(s, &n);
    if (u) put(r, u, (size_t)n);
    else PyErr_Clear();
    Py_DECREF(s);
}

// Appends a Python str object's text (a qualname or an attribute name); anything else is skipped.
static void put_str_object(Render *r, PyObject *s) {
    if (!s || !PyUnicode_Check(s)) return;
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(s, &n);
    if (u) put(r, u, (size_t)n);
    else PyErr_Clear();
}

// " at 0x7f...", as "%p" writes it (lower-case hex, no padding), without printf's cost.
static void put_address(Render *r, PyObject *o) {
    char buf[24];
    int n = (int)sizeof buf;
    uintptr_t v = (uintptr_t)o;
    do { buf[--n] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
    buf[--n] = 'x';
    buf[--n] = '0';
    put(r, " at ", 4);
    put(r, buf + n, sizeof buf - (size_t)n);
}

// repr(float), the shortest text that reads back as the same number, costs hundreds of
// nanoseconds (CPython's _Py_dg_dtoa), and a program's floats recur (an object is rendered
// again when one of its attributes changes): texts are kept by the number's bits. Touched only
// with the GIL held.
typedef struct FloatText { uint64_t bits; uint8_t len; char text[31]; } FloatText;
static FloatText float_texts[4096];

static void render_float(Render *r, double d) {
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    FloatText *slot = &float_texts[(bits * 0x9E3779B97F4A7C15ull) >> 52];
    if (slot->len && slot->bits == bits) { put(r, slot->text, slot->len); return; }
    char *s = PyOS_double_to_string(d, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (!s) { PyErr_Clear(); puts_(r, "<unrepresentable>"); return; }
    size_t n = strlen(s);
    put(r, s, n);
    if (n > 0 && n <= sizeof slot->text) {
        slot->bits = bits;
        slot->len = (uint8_t)n;
        memcpy(slot->text, s, n);
    }
    PyMem_Free(s);
}

void pode_type_name(PyTypeObject *t, PodeBuf *out) {
    if (t->tp_flags & Py_TPFLAGS_HEAPTYPE) {
        PyHeapTypeObject *ht = (PyHeapTypeObject *)t;
        PyObject *mod = t->tp_dict ? PyDict_GetItemString(t->tp_dict, "__module__") : NULL;  // borrowed, no code runs
        if (mod && PyUnicode_Check(mod)) {
            Py_ssize_t n;
            const char *m = PyUnicode_AsUTF8AndSize(mod, &n);
            if (m && !(n == 8 && memcmp(m, "builtins", 8) == 0)) {
                pode_buf_bytes(out, m, (size_t)n);
                pode_buf_byte(out, '.');
            } else if (!m) {
                PyErr_Clear();
            }
        }
        if (ht->ht_qualname && PyUnicode_Check(ht->ht_qualname)) {
            Py_ssize_t n;
            const char *q = PyUnicode_AsUTF8AndSize(ht->ht_qualname, &n);
            if (q) { pode_buf_bytes(out, q, (size_t)n); return; }
            PyErr_Clear();
        }
    }
    pode_buf_bytes(out, t->tp_name, strlen(t->tp_name));
}

// Display names of the types rendered so far, keyed by type (each held by a reference, so an
// address is never reused for another type): objects render without a dict lookup each time.
typedef struct TypeName { PyTypeObject *type; char *name; size_t len; } TypeName;
static TypeName *type_names;
static size_t type_names_cap, type_names_count;

static inline size_t type_slot(PyTypeObject *t, size_t cap) {
    uint64_t x = (uint64_t)(uintptr_t)t;
    x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 33;
    return (size_t)x & (cap - 1);
}

static const TypeName *cached_type_name(PyTypeObject *t) {
    if (type_names_cap) {
        for (size_t j = type_slot(t, type_names_cap); type_names[j].type; j = (j + 1) & (type_names_cap - 1))
            if (type_names[j].type == t) return &type_names[j];
    }
    if ((type_names_count + 1) * 2 > type_names_cap) {
        size_t cap = type_names_cap ? type_names_cap * 2 : 64;
        TypeName *table = calloc(cap, sizeof *table);
        if (!table) return NULL;
        for (size_t i = 0; i < type_names_cap; i++) {
            if (!type_names[i].type) continue;
            size_t j = type_slot(type_names[i].type, cap);
            while (table[j].type) j = (j + 1) & (cap - 1);
            table[j] = type_names[i];
        }
        free(type_names);
        type_names = table;
        type_names_cap = cap;
    }
    PodeBuf name = {0};
    pode_type_name(t, &name);
    size_t j = type_slot(t, type_names_cap);
    while (type_names[j].type) j = (j + 1) & (type_names_cap - 1);
    Py_INCREF(t);
    type_names[j] = (TypeName){t, (char *)name.data, name.len};
    type_names_count++;
    return &type_names[j];
}

static void put_type_name(Render *r, PyTypeObject *t) {
    const TypeName *n = cached_type_name(t);
    if (n) { put(r, n->name, n->len); return; }
    PodeBuf tmp = {0};
    pode_type_name(t, &tmp);
    put(r, (const char *)tmp.data, tmp.len);
    free(tmp.data);
}

// Appends one character of a str as repr shows it inside `quote`s.
static void put_str_char(Render *r, Py_UCS4 ch, char quote) {
    char buf[16];
    if (ch == (Py_UCS4)quote || ch == '\\') { buf[0] = '\\'; buf[1] = (char)ch; put(r, buf, 2); }
    else if (ch == '\t') put(r, "\\t", 2);
    else if (ch == '\n') put(r, "\\n", 2);
    else if (ch == '\r') put(r, "\\r", 2);
    else if (ch < ' ' || ch == 0x7f) { snprintf(buf, sizeof buf, "\\x%02x", ch); puts_(r, buf); }
    else if (ch < 0x7f) { buf[0] = (char)ch; put(r, buf, 1); }
    else if (!Py_UNICODE_ISPRINTABLE(ch)) {
        if (ch <= 0xff) snprintf(buf, sizeof buf, "\\x%02x", ch);
        else if (ch <= 0xffff) snprintf(buf, sizeof buf, "\\u%04x", ch);
        else snprintf(buf, sizeof buf, "\\U%08x", ch);
        puts_(r, buf);
    } else {
        // Encode as UTF-8 (printable, so never a lone surrogate).
        int n;
        if (ch < 0x800) { buf[0] = (char)(0xC0 | (ch >> 6)); buf[1] = (char)(0x80 | (ch & 0x3F)); n = 2; }
        else if (ch < 0x10000) { buf[0] = (char)(0xE0 | (ch >> 12)); buf[1] = (char)(0x80 | ((ch >> 6) & 0x3F)); buf[2] = (char)(0x80 | (ch & 0x3F)); n = 3; }
        else { buf[0] = (char)(0xF0 | (ch >> 18)); buf[1] = (char)(0x80 | ((ch >> 12) & 0x3F)); buf[2] = (char)(0x80 | ((ch >> 6) & 0x3F)); buf[3] = (char)(0x80 | (ch & 0x3F)); n = 4; }
        put(r, buf, (size_t)n);
    }
}

static void render_str(Render *r, PyObject *o) {
    Py_ssize_t len = PyUnicode_GET_LENGTH(o);
    int kind = PyUnicode_KIND(o);
    const void *data = PyUnicode_DATA(o);
    // A short text of characters repr shows as they are (a token, a character), too short to
    // look secret: quoted in one piece.
    if (kind == PyUnicode_1BYTE_KIND && len < PODE_SHORTEST_SECRET) {
        char buf[PODE_SHORTEST_SECRET + 2];
        const unsigned char *s = data;
        Py_ssize_t i = 0;
        for (; i < len && s[i] >= ' ' && s[i] < 0x7f && s[i] != '\\' && s[i] != '\''; i++) buf[i + 1] = (char)s[i];
        if (i == len) {
            buf[0] = buf[len + 1] = '\'';
            put(r, buf, (size_t)len + 2);
            return;
        }
    }
    if (pode_redact_on && pode_redact_str_looks_secret(o, r->limit)) { puts_(r, PODE_REDACTED); return; }
    // Quote as repr does: single quotes unless the text has ' and no ", in the whole text (the
    // choice shows even when the rendering is cut).
    int has_single = 0, has_double = 0;
    if (kind == PyUnicode_1BYTE_KIND) {
        has_single = memchr(data, '\'', (size_t)len) != NULL;
        has_double = has_single && memchr(data, '"', (size_t)len) != NULL;
    } else {
        for (Py_ssize_t i = 0; i < len && !(has_single && has_double); i++) {
            Py_UCS4 ch = PyUnicode_READ(kind, data, i);
            if (ch == '\'') has_single = 1;
            else if (ch == '"') has_double = 1;
        }
    }
    char quote = (has_single && !has_double) ? '"' : '\'';
    put(r, &quote, 1);
    Py_ssize_t i = 0;
    if (kind == PyUnicode_1BYTE_KIND) {
        // Runs of characters that repr shows as they are go out in one piece.
        const unsigned char *bytes = data;
        while (i < len && !r->truncated) {
            // (looked at no further than the room left: the rest would be cut)
            Py_ssize_t j = i, stop = i + (Py_ssize_t)(r->limit - used(r)) + 1;
            if (stop > len) stop = len;
            while (j < stop && bytes[j] >= ' ' && bytes[j] < 0x7f && bytes[j] != (unsigned char)quote && bytes[j] != '\\') j++;
            if (j > i) { put(r, (const char *)bytes + i, (size_t)(j - i)); i = j; }
            else put_str_char(r, bytes[i++], quote);
        }
    } else {
        for (; i < len && !r->truncated; i++) put_str_char(r, PyUnicode_READ(kind, data, i), quote);
    }
    put(r, &quote, 1);
}

static void render_bytes(Render *r, const char *s, Py_ssize_t len) {
    if (pode_redact_bytes_look_secret(s, (size_t)len, r->limit)) {
        puts_(r, PODE_REDACTED);
        return;
    }
    int has_single = memchr(s, '\'', (size_t)len) != NULL, has_double = memchr(s, '"', (size_t)len) != NULL;
    char quote = (has_single && !has_double) ? '"' : '\'';
    put(r, "b", 1);
    put(r, &quote, 1);
    char buf[8];
    for (Py_ssize_t i = 0; i < len && !r->truncated; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == (unsigned char)quote || c == '\\') { buf[0] = '\\'; buf[1] = (char)c; put(r, buf, 2); }
        else if (c == '\t') put(r, "\\t", 2);
        else if (c == '\n') put(r, "\\n", 2);
        else if (c == '\r') put(r, "\\r", 2);
        else if (c < ' ' || c >= 0x7f) { snprintf(buf, sizeof buf, "\\x%02x", c); puts_(r, buf); }
        else { buf[0] = (char)c; put(r, buf, 1); }
    }
    put(r, &quote, 1);
}

// The value of an exact int, read from its digits when it has at most one (CPython 3.11's
// layout: the sign in ob_size, 30-bit digits), else through PyLong_AsLongLongAndOverflow.
// Returns 0 when it does not fit in a long long (no error left pending).
static inline int small_int_value(PyObject *o, long long *v) {
    Py_ssize_t size = Py_SIZE(o);
    if (size >= -1 && size <= 1) {
        *v = size * (long long)((PyLongObject *)o)->ob_digit[0];
        return 1;
    }
    int overflow = 0;
    *v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (!overflow && !(*v == -1 && PyErr_Occurred())) return 1;
    PyErr_Clear();
    return 0;
}

// The digits of a non-negative int below 100 (a digit, a column, a small count) into `out`;
// returns how many (1 or 2), or 0 for any other int, which render_int writes.
static inline __attribute__((always_inline)) size_t tiny_int_digits(PyObject *o, char *out) {
    Py_ssize_t size = Py_SIZE(o);
    if (size == 0) { out[0] = '0'; return 1; }
    if (size != 1) return 0;
    unsigned d = (unsigned)((PyLongObject *)o)->ob_digit[0];
    if (d >= 100) return 0;
    if (d < 10) { out[0] = (char)('0' + d); return 1; }
    out[0] = (char)('0' + d / 10);
    out[1] = (char)('0' + d % 10);
    return 2;
}

// A tiny int (see tiny_int_digits) in one put, without render_int's division loop.
static inline __attribute__((always_inline)) int put_tiny_int(Render *r, PyObject *o) {
    char c[2];
    size_t n = tiny_int_digits(o, c);
    if (n) put(r, c, n);
    return n != 0;
}

static void render_int(Render *r, PyObject *o) {
    if (put_tiny_int(r, o)) return;
    long long v;
    if (small_int_value(o, &v)) {
        // Digits written backwards: no printf on the hot path.
        char buf[24];
        char *p = buf + sizeof buf;
        unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
        do { *--p = (char)('0' + u % 10); u /= 10; } while (u);
        if (v < 0) *--p = '-';
        put(r, p, (size_t)(buf + sizeof buf - p));
        return;
    }
    size_t bits = _PyLong_NumBits(o);
    if (bits == (size_t)-1) PyErr_Clear();
    if (bits > 12000) {  // beyond ~3600 digits: str() is slow and may be refused by CPython
        char buf[64];
        snprintf(buf, sizeof buf, "<int of %zu bits>", bits);
        puts_(r, buf);
        return;
    }
    put_pyrepr_of_builtin(r, o);
}

static int on_stack(Render *r, PyObject *o) {
    for (int i = 0; i < r->depth; i++)
        if (r->stack[i] == o) return 1;
    return 0;
}

// Renders the items of a sequence between `open` and `close`.
static void render_items(Render *r, PyObject *const *items, Py_ssize_t n, const char *open, const char *close, int one_tuple) {
    puts_(r, open);
    for (Py_ssize_t i = 0; i < n && !r->truncated; i++) {
        if (i) put(r, ", ", 2);
        render(r, items[i]);
    }
    if (one_tuple && n == 1) put(r, ",", 1);
    puts_(r, close);
}

static void render_dict(Render *r, PyObject *d) {
    put(r, "{", 1);
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    int first = 1;
    while (!r->truncated && PyDict_Next(d, &pos, &k, &v)) {
        if (!first) put(r, ", ", 2);
        first = 0;
        render(r, k);
        put(r, ": ", 2);
        if (pode_redact_on && pode_redact_name_object(k)) puts_(r, PODE_REDACTED);
        else render(r, v);
    }
    put(r, "}", 1);
}

// The items of a set walk that are tiny ints (the commonest sets: of digits, columns, ids)
// gathered on the stack and put together: the same bytes as one put each, cut at the same
// place (put cuts by bytes), for a fraction of the puts.
typedef struct SetText { char text[128]; size_t n; } SetText;

static inline void set_text_flush(Render *r, SetText *g) {
    if (g->n) put(r, g->text, g->n);
    g->n = 0;
}

// One item of a set's rendering, after a separator unless it is the first.
static inline __attribute__((always_inline)) void put_set_item(Render *r, SetText *g, PyObject *k, int first) {
    size_t sep = first ? 0 : 2;
    size_t d = Py_IS_TYPE(k, &PyLong_Type) ? tiny_int_digits(k, g->text + g->n + sep) : 0;
    if (d) {
        if (sep) { g->text[g->n] = ','; g->text[g->n + 1] = ' '; }
        g->n += sep + d;
        if (g->n > sizeof g->text - 4) set_text_flush(r, g);
        return;
    }
    set_text_flush(r, g);
    if (sep) put(r, ", ", 2);
    render(r, k);
}

static void render_set(Render *r, PyObject *s, int frozen) {
    Py_ssize_t n = PySet_GET_SIZE(s);
    if (n == 0) { puts_(r, frozen ? "frozenset()" : "set()"); return; }
    if (frozen) puts_(r, "frozenset(");
    put(r, "{", 1);
    // The table in order, as iteration visits it.
    PySetObject *so = (PySetObject *)s;
    int first = 1;
    SetText g;
    g.n = 0;
    // (Up to the last entry in use, not to the end of the table.) While items are gathered,
    // r->truncated may be set late: the items walked meanwhile are cut by the put that flushes.
    for (Py_ssize_t i = 0, found = 0; i <= so->mask && found < so->used && !r->truncated; i++) {
        PyObject *k = so->table[i].key;
        if (!k || k == _PySet_Dummy) continue;
        found++;
        put_set_item(r, &g, k, first);
        first = 0;
    }
    set_text_flush(r, &g);
    put(r, "}", 1);
    if (frozen) put(r, ")", 1);
}

// Iterates an object's instance attributes without materializing a managed dict. An attribute
// is named by a str object (dict-held) or by a C string (a __slots__ member); either pointer is
// stable while the object's type lives.
typedef int (*AttrVisitor)(void *ctx, PyObject *name, const char *slot_name, PyObject *value);

static void visit_attributes(PyObject *o, AttrVisitor visit, void *ctx) {
    PyTypeObject *t = Py_TYPE(o);
    if (t->tp_flags & Py_TPFLAGS_MANAGED_DICT) {
        PyDictValues *values = *_PyObject_ValuesPointer(o);
        PyObject *dict = values ? NULL : *_PyObject_ManagedDictPointer(o);
        PyDictKeysObject *keys = values ? ((PyHeapTypeObject *)t)->ht_cached_keys : NULL;
        if (keys) {
            PyDictUnicodeEntry *entries = DK_UNICODE_ENTRIES(keys);
            for (Py_ssize_t i = 0; i < keys->dk_nentries; i++) {
                PyObject *v = values->values[i];
                if (v && entries[i].me_key && !visit(ctx, entries[i].me_key, NULL, v)) return;
            }
        } else if (dict && PyDict_Check(dict)) {
            Py_ssize_t pos = 0;
            PyObject *k, *v;
            while (PyDict_Next(dict, &pos, &k, &v))
                if (!visit(ctx, k, NULL, v)) return;
        }
        // A class with a managed dict may still inherit __slots__ members: on to those.
    } else if (t->tp_dictoffset > 0) {
        PyObject *dict = *(PyObject **)((char *)o + t->tp_dictoffset);
        if (dict && PyDict_Check(dict)) {
            Py_ssize_t pos = 0;
            PyObject *k, *v;
            while (PyDict_Next(dict, &pos, &k, &v))
                if (!visit(ctx, k, NULL, v)) return;
        }
    }
    // __slots__ of Python classes: object members stored at fixed offsets.
    for (PyTypeObject *b = t; b && (b->tp_flags & Py_TPFLAGS_HEAPTYPE); b = b->tp_base) {
        PyMemberDef *m = b->tp_members;
        if (!m) continue;
        for (; m->name; m++) {
            if (m->type != T_OBJECT_EX || (m->flags & READONLY)) continue;
            PyObject *v = *(PyObject **)((char *)o + m->offset);
            if (!v) continue;
            if (!visit(ctx, NULL, m->name, v)) return;
        }
    }
}

typedef struct AttrRender { Render *r; int count; } AttrRender;

static int render_attr(void *ctx, PyObject *name, const char *slot_name, PyObject *value) {
    AttrRender *a = ctx;
    Render *r = a->r;
    if (r->truncated) return 0;
    put(r, a->count++ ? ", " : " {", 2);
    if (name) put_str_object(r, name);
    else puts_(r, slot_name);
    put(r, "=", 1);
    if (pode_redact_on && (name ? pode_redact_name_object(name) : pode_redact_name_utf8(slot_name))) puts_(r, PODE_REDACTED);
    else render(r, value);
    return !r->truncated;
}

// "<Name object at 0x...>", before an object's attributes.
static void put_object_head(Render *r, PyObject *o) {
    put(r, "<", 1);
    put_type_name(r, Py_TYPE(o));
    puts_(r, " object");
    put_address(r, o);
    put(r, ">", 1);
}

static void render_object(Render *r, PyObject *o) {
    put_object_head(r, o);
    AttrRender a = {r, 0};
    visit_attributes(o, render_attr, &a);
    if (a.count) put(r, "}", 1);
}

// ---- --repr=full: a __repr__ that runs too long ---------------------------------------------
// A watchdog thread stops a repr that has run for PODE_REPR_LIMIT_NS by raising ReprTimeout in
// its thread (PyThreadState_SetAsyncExc, under the GIL, only while that same repr still runs);
// the type is then never asked again. A repr blocked inside a C call (a lock, a socket) is not
// interrupted: CPython raises such an exception only when Python code runs.
#define PODE_REPR_LIMIT_NS 1000000000ull

static volatile unsigned long repr_thread;  // the thread inside a repr, 0 when none
static volatile uint64_t repr_generation;   // one number per repr call
static volatile uint64_t repr_started;
static PyObject *repr_timeout;              // the exception the watchdog raises
static pid_t watchdog_pid;                  // the process whose watchdog runs (a forked child starts its own)
static PyTypeObject *slow_repr_types[64];   // types whose repr timed out (held: types are long-lived)
static int slow_repr_count;

static void *repr_watchdog(void *unused) {
    (void)unused;
    pode_recorder_begin_own_thread("pode-repr-watch");
    for (;;) {
        usleep(50 * 1000);
        uint64_t gen = repr_generation;
        if (!repr_thread || pode_monotonic_ns() - repr_started < PODE_REPR_LIMIT_NS) continue;
        if (_Py_IsFinalizing()) return NULL;
        PyGILState_STATE g = PyGILState_Ensure();
        if (repr_thread && repr_generation == gen) PyThreadState_SetAsyncExc(repr_thread, repr_timeout);
        PyGILState_Release(g);
        while (repr_thread && repr_generation == gen) usleep(10 * 1000);
    }
}

// Starts the watchdog once per process; 0 when it runs.
static int ensure_watchdog(void) {
    if (watchdog_pid == getpid()) return 0;
    if (!repr_timeout) {
        repr_timeout = PyErr_NewException("pode.ReprTimeout", PyExc_BaseException, NULL);
        if (!repr_timeout) { PyErr_Clear(); return -1; }
    }
    pthread_t t;
    if (pthread_create(&t, NULL, repr_watchdog, NULL) != 0) return -1;
    pthread_detach(t);
    watchdog_pid = getpid();
    return 0;
}

// A timeout that came as the repr returned (it ran no more Python code to raise it in) must
// never reach the program: run a line of bytecode here, which raises it, and drop it. (Clearing
// it with PyThreadState_SetAsyncExc(id, NULL) would leave 3.11's eval breaker set for good.)
static void consume_pending_timeout(void) {
    static PyObject *noop;
    PyThreadState *ts = PyThreadState_Get();
    if (!ts->async_exc) return;
    if (!noop) noop = Py_CompileString("pass", "<pode>", Py_file_input);
    PyObject *globals = noop ? PyDict_New() : NULL;
    PyObject *r = globals ? PyEval_EvalCode(noop, globals, globals) : NULL;
    Py_XDECREF(r);
    Py_XDECREF(globals);
    PyErr_Clear();
}

static int repr_known_slow(PyTypeObject *t) {
    for (int i = 0; i < slow_repr_count; i++) if (slow_repr_types[i] == t) return 1;
    return 0;
}

static void render_full_repr(Render *r, PyObject *o) {
    // --repr=full: the object's own repr, guarded. The trace hook is not re-entered (CPython
    // pauses tracing while a trace function runs), so nothing the repr does is recorded.
    PyTypeObject *type_of_o = Py_TYPE(o);
    if (repr_known_slow(type_of_o) || ensure_watchdog() != 0) {
        puts_(r, "<repr timed out>");
        return;
    }
    unsigned long me = PyThread_get_thread_ident();
    repr_started = pode_monotonic_ns();
    repr_generation++;
    repr_thread = me;
    PyObject *s = PyObject_Repr(o);
    repr_thread = 0;
    consume_pending_timeout();
    if (!s) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        if (type == repr_timeout) {
            puts_(r, "<repr timed out>");
            if (slow_repr_count < (int)(sizeof slow_repr_types / sizeof *slow_repr_types)) {
                Py_INCREF(type_of_o);
                slow_repr_types[slow_repr_count++] = type_of_o;
            }
        } else {
            puts_(r, "<repr raised ");
            if (type && PyType_Check(type)) put_type_name(r, (PyTypeObject *)type);
            puts_(r, ">");
        }
        Py_XDECREF(type); Py_XDECREF(value); Py_XDECREF(tb);
        return;
    }
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(s, &n);
    if (u && pode_redact_on && pode_redact_looks_secret(u, (size_t)n)) puts_(r, PODE_REDACTED);
    else if (u) put(r, u, (size_t)n);
    else { PyErr_Clear(); puts_(r, "<repr not UTF-8>"); }
    Py_DECREF(s);
}

// Whether `t` is a class of plain objects: its only builtin base is object, so it is none of the
// builtin kinds rendering tells apart (containers, scalars, exceptions, types, functions,
// modules), and those tests, several of them walks of the class's MRO, can be skipped.
static inline int plain_object_type(PyTypeObject *t) {
    if (!(t->tp_flags & Py_TPFLAGS_HEAPTYPE)) return 0;
    PyTypeObject *b = t->tp_base;
    while (b && (b->tp_flags & Py_TPFLAGS_HEAPTYPE)) b = b->tp_base;
    return b == &PyBaseObject_Type;
}

static void render(Render *r, PyObject *o) {
    if (r->truncated) return;
    PyTypeObject *t = Py_TYPE(o);
    if (o == Py_None) { puts_(r, "None"); return; }
    if (o == Py_True) { puts_(r, "True"); return; }
    if (o == Py_False) { puts_(r, "False"); return; }
    if (o == Py_Ellipsis) { puts_(r, "Ellipsis"); return; }
    if (t == &PyLong_Type) { render_int(r, o); return; }
    if (t == &PyUnicode_Type) { render_str(r, o); return; }
    if (t == &PyFloat_Type) { render_float(r, PyFloat_AS_DOUBLE(o)); return; }
    if (t == &PyComplex_Type || t == &PyRange_Type) { put_pyrepr_of_builtin(r, o); return; }
    if (t == &PyBytes_Type) { render_bytes(r, PyBytes_AS_STRING(o), PyBytes_GET_SIZE(o)); return; }

    int plain = plain_object_type(t);
    int is_container = !plain && (PyList_Check(o) || PyTuple_Check(o) || PyDict_Check(o) || PyAnySet_Check(o) || PyByteArray_Check(o));
    if (r->opts->repr_full && !is_container && (t->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
        render_full_repr(r, o);
        return;
    }

    if (on_stack(r, o)) {
        puts_(r, PyDict_Check(o) ? "{...}" : PyList_Check(o) ? "[...]" : "...");
        return;
    }
    if (r->depth >= MAX_DEPTH) { puts_(r, "..."); return; }
    r->stack[r->depth++] = o;

    // Subclasses of builtin containers and scalars show their class around the builtin form.
    int subclass = !plain && (t->tp_flags & Py_TPFLAGS_HEAPTYPE) &&
                   (PyLong_Check(o) || PyUnicode_Check(o) || PyFloat_Check(o) || PyBytes_Check(o) || is_container) &&
                   !PyBool_Check(o);
    if (subclass) { put_type_name(r, t); put(r, "(", 1); }

    if (plain) render_object(r, o);
    else if (PyList_Check(o)) render_items(r, ((PyListObject *)o)->ob_item, PyList_GET_SIZE(o), "[", "]", 0);
    else if (PyTuple_Check(o)) render_items(r, ((PyTupleObject *)o)->ob_item, PyTuple_GET_SIZE(o), "(", ")", 1);
    else if (PyDict_Check(o)) render_dict(r, o);
    else if (t == &PySet_Type) render_set(r, o, 0);  // before the subtype test of frozenset
    else if (PyFrozenSet_Check(o)) render_set(r, o, 1);
    else if (PyAnySet_Check(o)) render_set(r, o, 0);
    else if (PyByteArray_Check(o)) { puts_(r, "bytearray("); render_bytes(r, PyByteArray_AS_STRING(o), PyByteArray_GET_SIZE(o)); put(r, ")", 1); }
    else if (subclass && PyLong_Check(o)) render_int(r, o);
    else if (subclass && PyUnicode_Check(o)) render_str(r, o);
    else if (subclass && PyBytes_Check(o)) render_bytes(r, PyBytes_AS_STRING(o), PyBytes_GET_SIZE(o));
    else if (subclass && PyFloat_Check(o)) render_float(r, PyFloat_AS_DOUBLE(o));
    else if (PyExceptionInstance_Check(o)) {
        put_type_name(r, t);
        PyObject *args = ((PyBaseExceptionObject *)o)->args;
        if (args && PyTuple_Check(args)) render_items(r, ((PyTupleObject *)args)->ob_item, PyTuple_GET_SIZE(args), "(", ")", 0);
        else puts_(r, "()");
    }
    else if (PyType_Check(o)) { puts_(r, "<class '"); put_type_name(r, (PyTypeObject *)o); puts_(r, "'>"); }
    else if (PyFunction_Check(o)) {
        puts_(r, "<function ");
        put_str_object(r, ((PyFunctionObject *)o)->func_qualname);
        put_address(r, o);
        put(r, ">", 1);
    }
    else if (PyCFunction_Check(o)) {
        puts_(r, "<built-in function ");
        puts_(r, ((PyCFunctionObject *)o)->m_ml->ml_name);
        put(r, ">", 1);
    }
    else if (PyMethod_Check(o)) {
        PyObject *f = PyMethod_GET_FUNCTION(o), *self = PyMethod_GET_SELF(o);
        puts_(r, "<bound method ");
        if (PyFunction_Check(f)) put_str_object(r, ((PyFunctionObject *)f)->func_qualname);
        puts_(r, " of <");
        put_type_name(r, Py_TYPE(self));
        puts_(r, " object");
        put_address(r, self);
        puts_(r, ">>");
    }
    else if (PyModule_Check(o)) {
        puts_(r, "<module '");
        const char *name = PyModule_GetName(o);
        if (name) puts_(r, name); else PyErr_Clear();
        puts_(r, "'>");
    }
    else if (PyGen_Check(o) || PyCoro_CheckExact(o)) {
        puts_(r, PyGen_Check(o) ? "<generator object " : "<coroutine object ");
        put_str_object(r, ((PyGenObject *)o)->gi_qualname);
        put_address(r, o);
        put(r, ">", 1);
    }
    else render_object(r, o);

    if (subclass) put(r, ")", 1);
    r->depth--;
}

// The length of a value whose rendering was cut, where it has one (a text's, a container's).
static uint64_t full_length(PyObject *o) {
    if (PyUnicode_Check(o)) return (uint64_t)PyUnicode_GET_LENGTH(o);
    if (PyBytes_Check(o)) return (uint64_t)PyBytes_GET_SIZE(o);
    if (PyList_Check(o)) return (uint64_t)PyList_GET_SIZE(o);
    if (PyTuple_Check(o)) return (uint64_t)PyTuple_GET_SIZE(o);
    if (PyDict_Check(o)) return (uint64_t)PyDict_GET_SIZE(o);
    if (PyAnySet_Check(o)) return (uint64_t)PySet_GET_SIZE(o);
    if (PyByteArray_Check(o)) return (uint64_t)PyByteArray_GET_SIZE(o);
    return 0;
}

int pode_render(PyObject *o, const PodeRenderOptions *opts, PodeBuf *out, uint64_t *full_len) {
    Render r = {.out = out, .start = out->len, .limit = opts->limit, .truncated = 0, .opts = opts, .depth = 0};
    render(&r, o);
    *full_len = r.truncated ? full_length(o) : 0;
    if (PyErr_Occurred()) PyErr_Clear();
    return r.truncated ? PODE_VALUE_TRUNCATED : 0;
}

// ---- fingerprints -------------------------------------------------------------------------

static inline uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdull;
}

// The budget counts bytes of rendering, each charge a lower bound of what render() writes for
// that part: once it is spent, nothing further can show in the (limit-bounded) rendering.
// `nested`: a container or object was reached inside the one fingerprinted; `opaque`: one
// whose rendering shows more than the fingerprint covers (see PodeFpFacts.opaque).
// `changeable`: something other than a scalar or an exact tuple was reached inside.
typedef struct Fp { long budget; int shared, nested, opaque, changeable; PyObject *stack[MAX_DEPTH]; int depth; } Fp;

static uint64_t fp(Fp *f, PyObject *o);

// A text of up to 8 bytes (a token, a character), whole, in one word: a budget always shows 8 bytes.
static inline uint64_t fp_short_text(PyObject *o, size_t n) {
    const unsigned char *s = PyUnicode_DATA(o);
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++) w |= (uint64_t)s[i] << (8 * i);
    return mix(0x5f40 ^ ((uint64_t)PyUnicode_GET_LENGTH(o) << 16) ^ n, w);
}

// fp(f, o), with the commonest items of containers (an int of one digit, a short text) taken
// apart in place, without a call: the same charges and the same hash as fp() makes of them.
static inline __attribute__((always_inline)) uint64_t fp_item(Fp *f, PyObject *o) {
    PyTypeObject *t = Py_TYPE(o);
    if (f->budget > 0) {
        if (t == &PyLong_Type && Py_SIZE(o) >= -1 && Py_SIZE(o) <= 1) {
            f->budget -= 3;
            return mix(1, (uint64_t)(Py_SIZE(o) * (long long)((PyLongObject *)o)->ob_digit[0]));
        }
        if (t == &PyUnicode_Type) {
            size_t n = (size_t)PyUnicode_GET_LENGTH(o) * (size_t)PyUnicode_KIND(o);
            if (n <= 8) {
                f->budget -= 2 + PyUnicode_GET_LENGTH(o);
                return fp_short_text(o, n);
            }
        }
    }
    return fp(f, o);
}

// Every byte a rendering can show (the first `visible`), word by word, then a sample of the
// rest; the length is always in. A change the rendering could show is never missed.
static uint64_t fp_bytes(const unsigned char *s, size_t n, size_t visible) {
    uint64_t h = mix(0x51ed27, n);
    size_t full = n < visible ? n : visible, i = 0;
    uint64_t w;
    for (; i + 8 <= full; i += 8) { memcpy(&w, s + i, 8); h = mix(h, w); }
    if (n - full >= 16) {
        if (i < full) { w = 0; memcpy(&w, s + i, full - i); h = mix(h, w); }
        memcpy(&w, s + full + (n - full) / 2 - 8, 8);
        h = mix(h, w);
        memcpy(&w, s + n - 8, 8);
        h = mix(h, w);
    } else {
        // The rest, fewer than 24 bytes, whole: a partial word at the end (the length is in).
        for (; i + 8 <= n; i += 8) { memcpy(&w, s + i, 8); h = mix(h, w); }
        if (i < n) { w = 0; memcpy(&w, s + i, n - i); h = mix(h, w); }
    }
    return h;
}

// How many bytes of a text of `width`-byte characters the rest of the budget can show.
static inline size_t visible_bytes(const Fp *f, size_t width) {
    return (size_t)(f->budget > 0 ? f->budget : 0) * width + 8;
}

static int fp_attr(void *ctx, PyObject *name, const char *slot_name, PyObject *value) {
    void **c = ctx;
    Fp *f = c[0];
    uint64_t *h = c[1];
    f->budget -= 3;  // ", " or " {", then "="
    *h = mix(mix(*h, name ? (uint64_t)(uintptr_t)name : (uint64_t)(uintptr_t)slot_name), fp_item(f, value));
    return f->budget > 0;
}

// An object shown by its attributes: "<Name object at 0x...>", or "Name(" and ")" for an exception.
// What an object's fingerprint notes before its attributes: its attribute dict's sharing, and
// the charge for its name ("<Name object at 0x...>", or "Name(" and ")" for an exception).
static void fp_charge_object(Fp *f, PyObject *o, int exception) {
    // Attributes kept in a dict that something else references too can change through it.
    PyObject *dict = pode_instance_dict(o);
    if (dict && Py_REFCNT(dict) > 1) f->shared = 1;
    f->budget -= (long)strlen(Py_TYPE(o)->tp_name) + (exception ? 2 : 16);
}

static void fp_object(Fp *f, PyObject *o, uint64_t *h) {
    int exception = PyExceptionInstance_Check(o);
    fp_charge_object(f, o, exception);
    void *ctx[2] = {f, h};
    visit_attributes(o, fp_attr, ctx);
    if (exception) {
        PyObject *args = ((PyBaseExceptionObject *)o)->args;
        if (args) *h = mix(*h, fp(f, args));
    }
}

// A container or object reached inside the one fingerprinted (see Fp).
static inline void fp_note_inside(Fp *f, PyTypeObject *t) {
    if (f->depth) f->nested = 1;
    if (f->depth && t != &PyTuple_Type) f->changeable = 1;
}

static inline int fp_on_stack(const Fp *f, PyObject *o) {
    for (int i = 0; i < f->depth; i++)
        if (f->stack[i] == o) return 1;
    return 0;
}

// Enters container `o` (below the depth limit, not on the stack): its sharing, and the start
// of its hash, from its type and identity.
static inline uint64_t fp_push(Fp *f, PyObject *o) {
    f->stack[f->depth++] = o;
    if (pode_referenced_elsewhere(o)) f->shared = 1;
    return mix(mix(9, (uint64_t)(uintptr_t)Py_TYPE(o)), (uint64_t)(uintptr_t)o);
}

static uint64_t fp(Fp *f, PyObject *o) {
    if (f->budget <= 0) return 1;
    f->budget -= 2;  // the separator before an item, or a container's brackets
    PyTypeObject *t = Py_TYPE(o);
    if (t == &PyLong_Type) {
        long long v;
        if (small_int_value(o, &v)) { f->budget -= 1; return mix(1, (uint64_t)v); }
        Py_hash_t h = PyObject_Hash(o);  // exact int: builtin hash, no user code
        if (h == -1) PyErr_Clear();
        return mix(2, (uint64_t)h);
    }
    if (t == &PyFloat_Type) { double d = PyFloat_AS_DOUBLE(o); uint64_t b; memcpy(&b, &d, 8); f->budget -= 3; return mix(3, b); }
    if (t == &PyUnicode_Type) {
        // From the text only: never from the cached hash, which appears once anything hashes
        // the string and would make an unchanged string look changed.
        size_t n = (size_t)PyUnicode_GET_LENGTH(o) * (size_t)PyUnicode_KIND(o);
        uint64_t h;
        if (n <= 8) {
            h = fp_short_text(o, n);
        } else {
            h = mix(mix(4, (uint64_t)PyUnicode_GET_LENGTH(o)), fp_bytes(PyUnicode_DATA(o), n, visible_bytes(f, (size_t)PyUnicode_KIND(o))));
        }
        f->budget -= PyUnicode_GET_LENGTH(o);
        return h;
    }
    if (t == &PyBytes_Type) {
        uint64_t h = mix(5, fp_bytes((const unsigned char *)PyBytes_AS_STRING(o), (size_t)PyBytes_GET_SIZE(o), visible_bytes(f, 1)));
        f->budget -= PyBytes_GET_SIZE(o) + 1;
        return h;
    }
    if (o == Py_None || o == Py_True || o == Py_False || t == &PyComplex_Type || t == &PyRange_Type) {
        if (t == &PyComplex_Type || t == &PyRange_Type) f->opaque = 1;
        return mix(6, (uint64_t)(uintptr_t)o);
    }

    fp_note_inside(f, t);
    if (fp_on_stack(f, o)) return 7;
    if (f->depth >= MAX_DEPTH) return 8;
    uint64_t h = fp_push(f, o);
    if (plain_object_type(t)) {
        fp_object(f, o, &h);
    } else if (PyList_Check(o) || PyTuple_Check(o)) {
        Py_ssize_t n = Py_SIZE(o);
        PyObject **items = PyList_Check(o) ? ((PyListObject *)o)->ob_item : ((PyTupleObject *)o)->ob_item;
        h = mix(h, (uint64_t)n);
        for (Py_ssize_t i = 0; i < n && f->budget > 0; i++) h = mix(h, fp_item(f, items[i]));
    } else if (PyDict_Check(o)) {
        h = mix(h, (uint64_t)PyDict_GET_SIZE(o));
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (f->budget > 0 && PyDict_Next(o, &pos, &k, &v)) {
            uint64_t hk = fp_item(f, k), hv = fp_item(f, v);  // (in this order: see render_fp_dict)
            h = mix(mix(h, hk), hv);
        }
    } else if (PyAnySet_Check(o)) {
        // The table read directly: an entry's hash is all the fingerprint needs.
        PySetObject *so = (PySetObject *)o;
        h = mix(h, (uint64_t)so->used);
        for (Py_ssize_t i = 0, found = 0; i <= so->mask && found < so->used && f->budget > 0; i++) {
            PyObject *k = so->table[i].key;
            // (One multiply per entry, in order: each step stays one-to-one, so an entry that
            // differs changes the hash; this runs for every slot up to the last entry.)
            if (k && k != _PySet_Dummy) { found++; f->budget--; h = (h ^ (uint64_t)so->table[i].hash) * 0x9e3779b97f4a7c15ull; }
        }
    } else if (PyByteArray_Check(o)) {
        h = mix(h, fp_bytes((const unsigned char *)PyByteArray_AS_STRING(o), (size_t)PyByteArray_GET_SIZE(o), visible_bytes(f, 1)));
    } else if (PyUnicode_Check(o) || PyBytes_Check(o) || PyLong_Check(o) || PyFloat_Check(o)) {
        // A subclass of a builtin scalar shows its value only, never its attributes: the value
        // is fixed, so the object never shows a change.
        if (PyUnicode_Check(o))
            h = mix(h, fp_bytes(PyUnicode_DATA(o), (size_t)PyUnicode_GET_LENGTH(o) * (size_t)PyUnicode_KIND(o), visible_bytes(f, (size_t)PyUnicode_KIND(o))));
        else if (PyBytes_Check(o))
            h = mix(h, fp_bytes((const unsigned char *)PyBytes_AS_STRING(o), (size_t)PyBytes_GET_SIZE(o), visible_bytes(f, 1)));
    } else if (!PyType_Check(o) && !PyModule_Check(o) && !PyFunction_Check(o) && !PyCFunction_Check(o)) {
        if (PyMethod_Check(o) || PyGen_Check(o) || PyCoro_CheckExact(o)) f->opaque = 1;
        fp_object(f, o, &h);
    } else {
        f->opaque = 1;
    }
    f->depth--;
    return h ? h : 1;
}

// What a finished walk of `o` found out, as PodeFpFacts.
static void fp_facts(const Fp *f, PyObject *o, PodeFpFacts *facts) {
    facts->shared = f->shared;
    facts->nested = f->nested;
    facts->opaque = f->opaque;
    facts->changeable = f->changeable;
    facts->flat_version = PyDict_CheckExact(o) && !f->nested ? ((PyDictObject *)o)->ma_version_tag : 0;
}

uint64_t pode_fingerprint(PyObject *o, uint32_t limit, PodeFpFacts *facts) {
    Fp f = {.budget = (long)limit + 8, .depth = 0};
    uint64_t h = fp(&f, o);
    fp_facts(&f, o, facts);
    if (PyErr_Occurred()) PyErr_Clear();
    return h ? h : 1;
}

// ---- rendering and fingerprint in one walk ------------------------------------------------
// A value that changes at most of its checks (a container a loop adds to, `self` after a line
// that sets an attribute) is fingerprinted, found changed and then rendered: two walks of the
// same containers. render_fp() makes both in one walk of the containers common to both, and
// its fingerprint and facts are exactly those pode_fingerprint() gives: it follows fp() step
// by step (the same charges to the budget, the same mixes in the same order) and renders on
// the side as render() does. Every other value (a scalar, a subclass, a cycle, a depth limit,
// or a part one walk has finished with) is left to fp() and render() each, which then walk it
// as they would alone. Debug builds check every result against the two walks.

static uint64_t render_fp(Render *r, Fp *f, PyObject *o);

// Whether both walks would enter `o` as a container of their own: not yet on either stack,
// and below both depth limits.
static int both_enter(Render *r, Fp *f, PyObject *o) {
    return r->depth < MAX_DEPTH && f->depth < MAX_DEPTH && !on_stack(r, o) && !fp_on_stack(f, o);
}

// fp()'s steps on entering a container, up to the type-specific part.
static uint64_t fp_enter(Fp *f, PyObject *o) {
    f->budget -= 2;
    fp_note_inside(f, Py_TYPE(o));
    return fp_push(f, o);
}

// One item of a container: both walks while both go on, else the one that does.
static inline uint64_t item_fp(Render *r, Fp *f, PyObject *o) {
    if (f->budget > 0) return render_fp(r, f, o);
    render(r, o);
    return 0;  // (not mixed: fp() stopped before this item)
}

// A list or tuple (exact types): render_items and fp's sequence loop.
static uint64_t render_fp_items(Render *r, Fp *f, PyObject *o, PyObject *const *items, Py_ssize_t n, int tuple) {
    uint64_t h = mix(fp_enter(f, o), (uint64_t)n);
    put(r, tuple ? "(" : "[", 1);
    for (Py_ssize_t i = 0; i < n && (f->budget > 0 || !r->truncated); i++) {
        if (i) put(r, ", ", 2);
        if (f->budget > 0) h = mix(h, render_fp(r, f, items[i]));
        else render(r, items[i]);
    }
    if (tuple && n == 1) put(r, ",", 1);
    put(r, tuple ? ")" : "]", 1);
    return h;
}

// A dict (exact type): render_dict and fp's dict loop, the key's fingerprint before the value's.
static uint64_t render_fp_dict(Render *r, Fp *f, PyObject *d) {
    uint64_t h = mix(fp_enter(f, d), (uint64_t)PyDict_GET_SIZE(d));
    put(r, "{", 1);
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    int first = 1;
    while ((f->budget > 0 || !r->truncated) && PyDict_Next(d, &pos, &k, &v)) {
        int hashing = f->budget > 0;
        if (!first) put(r, ", ", 2);
        first = 0;
        uint64_t hk = item_fp(r, f, k);
        put(r, ": ", 2);
        uint64_t hv;
        if (pode_redact_on && !r->truncated && pode_redact_name_object(k)) {
            puts_(r, PODE_REDACTED);
            hv = hashing ? fp(f, v) : 0;
        } else {
            hv = hashing ? render_fp(r, f, v) : (render(r, v), 0);
        }
        if (hashing) h = mix(mix(h, hk), hv);
    }
    put(r, "}", 1);
    return h;
}

// A set or frozenset (exact types): render_set and fp's walk of the table, in one pass over it.
static uint64_t render_fp_set(Render *r, Fp *f, PyObject *s, int frozen) {
    PySetObject *so = (PySetObject *)s;
    uint64_t h = mix(fp_enter(f, s), (uint64_t)so->used);
    if (PySet_GET_SIZE(s) == 0) {
        puts_(r, frozen ? "frozenset()" : "set()");
        return h;
    }
    if (frozen) puts_(r, "frozenset(");
    put(r, "{", 1);
    int first = 1;
    SetText g;  // (as in render_set)
    g.n = 0;
    for (Py_ssize_t i = 0, found = 0; i <= so->mask && found < so->used && (f->budget > 0 || !r->truncated); i++) {
        PyObject *k = so->table[i].key;
        if (!k || k == _PySet_Dummy) continue;
        found++;
        if (f->budget > 0) { f->budget--; h = (h ^ (uint64_t)so->table[i].hash) * 0x9e3779b97f4a7c15ull; }
        if (!r->truncated) {
            put_set_item(r, &g, k, first);
            first = 0;
        }
    }
    set_text_flush(r, &g);
    put(r, "}", 1);
    if (frozen) put(r, ")", 1);
    return h;
}

// An object of a plain class: render_object and fp_object, over its attributes once. Each walk
// goes on to the next attribute as its own visitor would (fp's visits the first one whatever
// its budget).
typedef struct AttrBoth { Render *r; Fp *f; uint64_t *h; int count, hashing; } AttrBoth;

static int render_fp_attr(void *ctx, PyObject *name, const char *slot_name, PyObject *value) {
    AttrBoth *a = ctx;
    Render *r = a->r;
    Fp *f = a->f;
    int rendering = !r->truncated;
    if (rendering) {
        put(r, a->count++ ? ", " : " {", 2);
        if (name) put_str_object(r, name);
        else puts_(r, slot_name);
        put(r, "=", 1);
    }
    int redacted = rendering && pode_redact_on && (name ? pode_redact_name_object(name) : pode_redact_name_utf8(slot_name));
    if (redacted) puts_(r, PODE_REDACTED);
    if (a->hashing) {
        f->budget -= 3;
        uint64_t hn = mix(*a->h, name ? (uint64_t)(uintptr_t)name : (uint64_t)(uintptr_t)slot_name);
        *a->h = mix(hn, redacted || !rendering ? fp(f, value) : render_fp(r, f, value));
        a->hashing = f->budget > 0;
    } else if (rendering && !redacted) {
        render(r, value);
    }
    return a->hashing || !r->truncated;
}

static uint64_t render_fp_object(Render *r, Fp *f, PyObject *o) {
    uint64_t h = fp_enter(f, o);
    fp_charge_object(f, o, 0);
    put_object_head(r, o);
    AttrBoth a = {r, f, &h, 0, 1};
    visit_attributes(o, render_fp_attr, &a);
    if (a.count) put(r, "}", 1);
    return h;
}

static uint64_t render_fp(Render *r, Fp *f, PyObject *o) {
    PyTypeObject *t = Py_TYPE(o);
    int kind = t == &PyList_Type ? 1 : t == &PyTuple_Type ? 2 : t == &PyDict_Type ? 3 : t == &PySet_Type ? 4 :
               t == &PyFrozenSet_Type ? 5 : !r->opts->repr_full && plain_object_type(t) ? 6 : 0;
    if (!kind || r->truncated || f->budget <= 0 || !both_enter(r, f, o)) {
        uint64_t h = fp_item(f, o);
        render(r, o);
        return h;
    }
    r->stack[r->depth++] = o;
    uint64_t h;
    switch (kind) {
    case 1: h = render_fp_items(r, f, o, ((PyListObject *)o)->ob_item, PyList_GET_SIZE(o), 0); break;
    case 2: h = render_fp_items(r, f, o, ((PyTupleObject *)o)->ob_item, PyTuple_GET_SIZE(o), 1); break;
    case 3: h = render_fp_dict(r, f, o); break;
    case 4: h = render_fp_set(r, f, o, 0); break;
    case 5: h = render_fp_set(r, f, o, 1); break;
    default: h = render_fp_object(r, f, o); break;
    }
    r->depth--;
    f->depth--;
    return h ? h : 1;
}

int pode_render_fingerprint(PyObject *o, const PodeRenderOptions *opts, PodeBuf *out, uint64_t *full_len, uint64_t *fingerprint, PodeFpFacts *facts) {
    size_t start = out->len;
    Render r = {.out = out, .start = start, .limit = opts->limit, .truncated = 0, .opts = opts, .depth = 0};
    Fp f = {.budget = (long)opts->limit + 8, .depth = 0};
    uint64_t h = render_fp(&r, &f, o);
    *fingerprint = h ? h : 1;
    fp_facts(&f, o, facts);
    *full_len = r.truncated ? full_length(o) : 0;
    if (PyErr_Occurred()) PyErr_Clear();
#ifdef DEBUG
    // The two walks, alone, must give the same text, fingerprint and facts.
    PodeFpFacts alone;
    uint64_t h_alone = pode_fingerprint(o, opts->limit, &alone);
    PodeBuf text = {0};
    uint64_t full_alone;
    int flags_alone = pode_render(o, opts, &text, &full_alone);
    if (h_alone != *fingerprint || alone.shared != facts->shared || alone.nested != facts->nested ||
        alone.opaque != facts->opaque || alone.changeable != facts->changeable || alone.flat_version != facts->flat_version ||
        full_alone != *full_len || flags_alone != (r.truncated ? PODE_VALUE_TRUNCATED : 0) ||
        text.len != out->len - start || memcmp(text.data, out->data + start, text.len) != 0) {
        fprintf(stderr, "pode: internal error: render_fp differs from fp and render for %s: %.*s\n  alone: %.*s\n",
                Py_TYPE(o)->tp_name, (int)(out->len - start), (const char *)out->data + start, (int)text.len, (const char *)text.data);
        abort();
    }
    free(text.data);
#endif
    return r.truncated ? PODE_VALUE_TRUNCATED : 0;
}
