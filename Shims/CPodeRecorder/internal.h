// internal.h - declarations shared by the recorder's C files (not exported to Swift).
#ifndef PODE_INTERNAL_H
#define PODE_INTERNAL_H

#define PY_SSIZE_T_CLEAN
#define Py_BUILD_CORE 1
#include <Python.h>
#include <frameobject.h>
#include "internal/pycore_frame.h"
#include "internal/pycore_code.h"
#include "internal/pycore_dict.h"
#include "internal/pycore_object.h"
#include <structmember.h>

#include <stdint.h>
#include <string.h>

// ---- growable byte buffer -----------------------------------------------------------------
typedef struct PodeBuf {
    uint8_t *data;
    size_t len, cap;
} PodeBuf;

void pode_buf_reserve(PodeBuf *b, size_t extra);
static inline void pode_buf_byte(PodeBuf *b, uint8_t v) {
    if (b->len + 1 > b->cap) pode_buf_reserve(b, 1);
    b->data[b->len++] = v;
}
static inline void pode_buf_varint(PodeBuf *b, uint64_t v) {
    if (b->len + 10 > b->cap) pode_buf_reserve(b, 10);
    uint8_t *p = b->data + b->len;
    while (v >= 0x80) { *p++ = (uint8_t)(v | 0x80); v >>= 7; }
    *p++ = (uint8_t)v;
    b->len = (size_t)(p - b->data);
}
static inline void pode_buf_bytes(PodeBuf *b, const void *s, size_t n) {
    if (b->len + n > b->cap) pode_buf_reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
}
static inline void pode_buf_str(PodeBuf *b, const char *s, size_t n) {
    pode_buf_varint(b, n);
    pode_buf_bytes(b, s, n);
}

// ---- event ring (ring.c) ------------------------------------------------------------------
/// Copies one event into the ring: its kind, seq and time (stored relative to the chunk) and
/// its encoded body, given in two parts (the event's fields, then its values) so that values
/// are copied once. Blocks (without spinning) while the ring is full.
void pode_ring_put(uint8_t kind, uint64_t seq, uint64_t time_ns, const uint8_t *head, size_t head_len,
                   const uint8_t *tail, size_t tail_len);
void pode_ring_close(void);
int pode_ring_init(char *err, size_t err_len);
uint64_t pode_ring_waits(void);

/// Fork handlers (pthread_atfork): the parent holds the ring's locks across fork(); the child
/// gets them fresh, an empty ring, and every definition made so far as pending.
void pode_ring_before_fork(void);
void pode_ring_after_fork_parent(void);
void pode_ring_after_fork_child(void);

/// Appends a definition record under the definitions lock.
void pode_definitions_append(const uint8_t *rec, size_t len);

// ---- values (render.c) --------------------------------------------------------------------
enum {
    PODE_VALUE_TRUNCATED = 1,  // the text was cut at the value limit; full length follows
    PODE_VALUE_DELETED = 2,    // the variable was unbound (del)
    PODE_VALUE_REBOUND = 4,    // the variable now names a different object
    PODE_VALUE_MUTATED = 8,    // same object, changed in place
};

typedef struct PodeRenderOptions {
    uint32_t limit;
    int repr_full;
} PodeRenderOptions;

/// Renders `o` into `out` (at most opts->limit bytes of UTF-8). Returns flags
/// (PODE_VALUE_TRUNCATED) and sets *full_len to the object's length where it has one.
int pode_render(PyObject *o, const PodeRenderOptions *opts, PodeBuf *out, uint64_t *full_len);

/// Whether a mutable object has a reference besides the one that holds it, so could be changed
/// through another name (tuples and frozensets cannot be changed themselves). The rule behind
/// PodeFpFacts.shared, for one object.
static inline int pode_referenced_elsewhere(PyObject *o) {
    PyTypeObject *t = Py_TYPE(o);
    return Py_REFCNT(o) > 1 && t != &PyTuple_Type && t != &PyFrozenSet_Type;
}

/// The dict an object keeps its attributes in, when one exists apart from it (borrowed; NULL when
/// it has none, or keeps them in its own inline values). Another object may share it
/// (`self.__dict__ = shared`), or a variable name it.
static inline PyObject *pode_instance_dict(PyObject *o) {
    PyTypeObject *t = Py_TYPE(o);
    if (t->tp_flags & Py_TPFLAGS_MANAGED_DICT) return *_PyObject_ValuesPointer(o) ? NULL : *_PyObject_ManagedDictPointer(o);
    return t->tp_dictoffset > 0 ? *(PyObject **)((char *)o + t->tp_dictoffset) : NULL;
}

/// What a fingerprint found out besides the hash.
typedef struct PodeFpFacts {
    /// Whether `o` or a mutable object inside it has more than the one reference that holds it
    /// (so could be changed through another name).
    int shared;
    /// Whether a container or object was reached inside `o` (else only scalars were).
    int nested;
    /// Whether the fingerprint knows some object by its identity only (a function, class,
    /// module, method, generator, range or complex), so that its rendering shows more than the
    /// fingerprint: another object at the same address later has the same fingerprint. Fine
    /// for telling whether one binding changed; not for reusing a rendering.
    int opaque;
    /// Whether something other than a scalar or an exact tuple of them was reached inside `o`
    /// (else nothing the rendering shows inside can change: only `o` itself can).
    int changeable;
    /// The dict's version tag when `o` is a dict holding only scalars, else 0: while the tag
    /// stays the same (CPython gives a dict a new one, from a global count, at every change),
    /// so does the fingerprint.
    uint64_t flat_version;
} PodeFpFacts;

/// A cheap fingerprint of what the bounded rendering of `o` would show; never 0. Fills *facts.
uint64_t pode_fingerprint(PyObject *o, uint32_t limit, PodeFpFacts *facts);

/// pode_render and pode_fingerprint (with opts->limit) in one walk, for a value that has likely
/// changed: the same text, flags, fingerprint and facts as the two give, at less than their cost.
int pode_render_fingerprint(PyObject *o, const PodeRenderOptions *opts, PodeBuf *out, uint64_t *full_len,
                            uint64_t *fingerprint, PodeFpFacts *facts);

// ---- redaction (redact.c) ----------------------------------------------------------------------
/// Nonzero unless --no-redact.
extern int pode_redact_on;
/// Whether an attribute or dict key named by this str object is sensitive (cached per object).
int pode_redact_name_object(PyObject *name);
/// The length of the shortest text the secret patterns find: a shorter one never looks secret.
#define PODE_SHORTEST_SECRET 15
/// Whether a str object's text (up to a little past `limit` characters) looks like a secret.
int pode_redact_str_looks_secret(PyObject *o, size_t limit);
/// The same for bytes (a bytes or bytearray value's contents).
int pode_redact_bytes_look_secret(const char *s, size_t len, size_t limit);

/// The type's display name: "int" for builtins, "module.Qualname" for classes.
void pode_type_name(PyTypeObject *t, PodeBuf *out);

#endif
