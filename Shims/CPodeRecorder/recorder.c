// recorder.c - the trace hook (the hot path) and the embedded interpreter's life cycle.
//
// Event layout (PodeLog.EventDecoder reads it): kind, seq and time relative to the chunk
// (written by the ring), then varints thread, activation, code, line, depth, [caller and the
// caller's line for call/resume], value count, [value line], then per value: name id, type id,
// flags, text, [full length when truncated]. An activation's number is the seq of its first event
// (its call), so a frame's id says where it starts.
#include "internal.h"
#include "pode_recorder.h"
#include "opcode.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { EV_CALL = 1, EV_LINE = 2, EV_RETURN = 3, EV_EXCEPTION = 4, EV_YIELD = 5, EV_RESUME = 6 };
enum { DEF_CODE = 1, DEF_THREAD = 2, DEF_TYPE = 3, DEF_NAME = 4 };
enum { NAME_RETURN = 0, NAME_EXCEPTION = 1, NAME_YIELD = 2, FIRST_NAME_ID = 3 };

#define MAX_EVENT_VALUE_BYTES (160u * 1024u)

// ---- options and global state (all touched with the GIL held) -----------------------------
static PodeRecorderOptions opts;
static PodeRenderOptions render_opts;
static char **include_globs, **exclude_globs;
static char **lib_prefixes;
static int lib_prefix_count;
static char cwd_prefix[4096];
static volatile int recording;   // 0 before start, after stop, and in a forked child
static uint64_t next_seq = 1;
static uint32_t next_code_id = 1, next_thread_index = 0, next_type_id = 1, next_name_id = FIRST_NAME_ID;
static Py_ssize_t code_extra_index = -1;
// Events recorded so far. Only the thread holding the GIL (inside emit) writes it, so a relaxed
// store is enough (no locked add on every event); other threads read it with a relaxed load.
static uint64_t event_count;
static void (*finalize_callback)(void);
static void (*exit_status_callback)(int);
static int stopped;
static pid_t recorder_pid;  // the recording process: a forked child must not finish its trace

// Bumped on every Python call (in or out of scope), whenever another thread records, and after the
// program's own trace function ran: while it is unchanged, only the frame's own bytecode can have
// changed its containers.
static uint64_t call_epoch = 1;
static void *last_thread;

uint64_t pode_recorder_event_count(void) { return __atomic_load_n(&event_count, __ATOMIC_RELAXED); }
uint64_t pode_recorder_wait_count(void) { return pode_ring_waits(); }

// ---- pointer -> id tables (types and names), holding a reference to each key --------------
typedef struct IdTable { PyObject **keys; uint32_t *ids; size_t cap, count; } IdTable;
static IdTable type_ids, name_ids;

static inline size_t ptr_hash(const void *p) {
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 33;
    return (size_t)x;
}

static uint32_t *id_slot(IdTable *t, PyObject *key) {
    if ((t->count + 1) * 2 > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        PyObject **keys = calloc(cap, sizeof *keys);
        uint32_t *ids = calloc(cap, sizeof *ids);
        if (!keys || !ids) abort();
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->keys[i]) continue;
            size_t j = ptr_hash(t->keys[i]) & (cap - 1);
            while (keys[j]) j = (j + 1) & (cap - 1);
            keys[j] = t->keys[i];
            ids[j] = t->ids[i];
        }
        free(t->keys); free(t->ids);
        t->keys = keys; t->ids = ids; t->cap = cap;
    }
    size_t j = ptr_hash(key) & (t->cap - 1);
    while (t->keys[j] && t->keys[j] != key) j = (j + 1) & (t->cap - 1);
    if (!t->keys[j]) {
        Py_INCREF(key);
        t->keys[j] = key;
        t->ids[j] = 0;
        t->count++;
    }
    return &t->ids[j];
}

static void emit_definition(PodeBuf *rec) {
    pode_definitions_append(rec->data, rec->len);
    rec->len = 0;
}

static PodeBuf def_scratch;

static uint32_t type_id(PyTypeObject *t) {
    uint32_t *slot = id_slot(&type_ids, (PyObject *)t);
    if (*slot) return *slot;
    *slot = next_type_id++;
    PodeBuf name = {0};
    pode_type_name(t, &name);
    pode_buf_byte(&def_scratch, DEF_TYPE);
    pode_buf_varint(&def_scratch, *slot);
    pode_buf_str(&def_scratch, (const char *)name.data, name.len);
    emit_definition(&def_scratch);
    free(name.data);
    return *slot;
}

// Name ids whose values are written as <redacted> (see redact.c), by id.
static uint8_t *redacted_names;
static size_t redacted_names_cap;

static inline int name_redacted(uint32_t id) { return id < redacted_names_cap && redacted_names[id]; }

static uint32_t name_id(PyObject *name) {
    uint32_t *slot = id_slot(&name_ids, name);
    if (*slot) return *slot;
    *slot = next_name_id++;
    Py_ssize_t n = 0;
    const char *s = PyUnicode_Check(name) ? PyUnicode_AsUTF8AndSize(name, &n) : NULL;
    if (!s) { PyErr_Clear(); s = "?"; n = 1; }
    if (pode_redact_on && pode_redact_name_utf8(s)) {
        if (*slot >= redacted_names_cap) {
            size_t cap = redacted_names_cap ? redacted_names_cap : 256;
            while (cap <= *slot) cap *= 2;
            uint8_t *p = realloc(redacted_names, cap);
            if (!p) abort();
            memset(p + redacted_names_cap, 0, cap - redacted_names_cap);
            redacted_names = p;
            redacted_names_cap = cap;
        }
        redacted_names[*slot] = 1;
    }
    pode_buf_byte(&def_scratch, DEF_NAME);
    pode_buf_varint(&def_scratch, *slot);
    pode_buf_str(&def_scratch, s, (size_t)n);
    emit_definition(&def_scratch);
    return *slot;
}

// ---- code objects ---------------------------------------------------------------------------
// Slots that must hold a builtin container, an immutable scalar, or a list or tuple of builtin
// containers (`nested`), and pure builtins that the names called must still be (bit i:
// pure_builtin_names[i]).
// A `for` line's step (see for_step_unchanged): entered at its FOR_ITER (byte offset
// for_offset, 0 when the line has no such loop step), it runs only that, unpacking into `unpack`
// targets (0: one target, no unpacking) and the stores, then reaches body_offset, or, when the
// iterator is exhausted, exit_offset.
typedef struct LineGuards { uint64_t containers, scalars, nested; uint32_t builtins; int for_offset, body_offset, exit_offset, unpack; } LineGuards;

typedef struct CodeInfo {
    uint32_t id;
    uint8_t in_scope, optimized, genlike;
    int nslots, nargs;
    uint32_t *slot_names;  // name id per localsplus slot
    uint8_t *slot_flags;   // 1 = skip (hidden), 2 = cell or free variable, 4 = free variable
    // The local slots each line's bytecode names (bit min(slot, 63)), from first_line on;
    // no_line_refs are those named by instructions without a line (run as part of any line).
    int first_line, nlines;
    uint64_t *line_refs;
    uint64_t no_line_refs;
    // Per line (from first_line): bit 1 when its bytecode may change an object in place without
    // a Python call (see may_mutate), no_line_mutates for instructions without a line; bit 2
    // when it may keep a reference it loaded past its end (see reference_free_effect); bit 4 when
    // it may change one by other instructions than its loop step (see LineGuards).
    uint8_t *line_mutates;
    // Per line (from first_line): how many of the last checks after it in a row, in any frame
    // of this code, found an object changed in place into a state not rendered just before (at
    // most 3), which says whether the next check had best render the object while it
    // fingerprints it (see check_binding).
    uint8_t *line_renders;
    uint8_t no_line_mutates, no_line_keeps;
    // Per line: the conditions under which its instructions that may mutate do not (see
    // compute_line_refs and guards_hold); the line counts as not mutating when they hold.
    LineGuards *line_guards;
    // Bit u (a code unit, byte offset / 2) is set for each CALL that its line reaches only
    // through instructions that change nothing (see may_mutate) and its own PRECALL: a Python
    // function called there sees objects exactly as the caller's last check saw them (see
    // checked_caller).
    uint8_t *clean_calls;
    int code_units;
    // Bit u is set for each CALL after which its line changes nothing in place (see may_mutate)
    // until its next event, and line_binds has per line (from binds_first) the slots it binds
    // or deletes: a Python function called there left objects as its return check saw them, and
    // the caller's slots the line does not bind held theirs throughout (see returned_callee).
    uint8_t *clean_returns;
    uint64_t *line_binds;
    int binds_first, binds_count;
    uint64_t no_line_binds;  // the slots instructions without a line bind or delete
    // Per line from stores_first (see find_store_lines): when a line's only changes are stores
    // into items and attributes of objects that locals hold and calls of known methods on
    // locals, the slots whose objects it may change (`targets`) and what each slot must hold:
    // an exact dict, list, set, one of those three (`anys`), str, or an object whose attributes
    // are stored the plain way (`objects`; `attrs`: the attributes stored, as slot and name
    // index); all 0 for any other line.
    struct StoreLine {
        uint64_t targets, dicts, lists, sets, anys, strs, objects;
        struct { int slot; uint32_t name; } attrs[2];
        int nattrs;
    } *store_lines;
    int stores_first, stores_count;
} CodeInfo;

static void free_code_info(void *p) {
    CodeInfo *ci = p;
    if (!ci) return;
    free(ci->slot_names);
    free(ci->slot_flags);
    free(ci->line_renders);
    free(ci->line_refs);
    free(ci->line_mutates);
    free(ci->line_guards);
    free(ci->clean_calls);
    free(ci->clean_returns);
    free(ci->line_binds);
    free(ci->store_lines);
    free(ci);
}

static inline uint64_t slot_bit(int slot) { return 1ull << (slot < 63 ? slot : 63); }

// Whether an instruction binds or deletes a fast local or a cell's content (its arg: the slot).
static inline int binds_slot(int op) { return op == STORE_FAST || op == DELETE_FAST || op == STORE_DEREF || op == DELETE_DEREF; }

// Whether an instruction may change an object in place by itself: C functions it calls
// (list.append, heapq.heappush, setattr), stores and deletions of attributes and items,
// in-place operators, subscripts (a defaultdict inserts), with blocks, raises, and whatever
// draws from an iterator (for, unpacking, `in`, `[*it]`: iter(lst.pop, None) pops with no
// Python call); and anything not known to be harmless. Python code it runs instead shows as a
// call (see call_epoch).
static int may_mutate(int op, uint32_t arg) {
    switch (op) {
    case CACHE: case POP_TOP: case PUSH_NULL: case NOP: case UNARY_POSITIVE: case UNARY_NEGATIVE:
    case UNARY_NOT: case UNARY_INVERT: case GET_LEN: case MATCH_MAPPING: case MATCH_SEQUENCE:
    case MATCH_KEYS: case LIST_TO_TUPLE: case RETURN_VALUE: case STORE_NAME: case DELETE_NAME:
    case SWAP: case LOAD_CONST: case LOAD_NAME:
    case BUILD_TUPLE: case BUILD_LIST: case BUILD_SET: case BUILD_MAP: case LOAD_ATTR: case COMPARE_OP:
    case JUMP_FORWARD: case JUMP_IF_FALSE_OR_POP: case JUMP_IF_TRUE_OR_POP: case POP_JUMP_FORWARD_IF_FALSE:
    case POP_JUMP_FORWARD_IF_TRUE: case LOAD_GLOBAL: case IS_OP: case COPY:
    case LOAD_FAST: case STORE_FAST: case DELETE_FAST: case POP_JUMP_FORWARD_IF_NOT_NONE:
    case POP_JUMP_FORWARD_IF_NONE: case MAKE_FUNCTION: case BUILD_SLICE: case JUMP_BACKWARD_NO_INTERRUPT:
    case MAKE_CELL: case LOAD_CLOSURE: case LOAD_DEREF: case STORE_DEREF: case DELETE_DEREF:
    case JUMP_BACKWARD: case EXTENDED_ARG: case LIST_APPEND: case SET_ADD: case MAP_ADD:
    case LOAD_CLASSDEREF: case COPY_FREE_VARS: case RESUME: case FORMAT_VALUE: case BUILD_CONST_KEY_MAP:
    case BUILD_STRING: case LOAD_METHOD: case POP_JUMP_BACKWARD_IF_NOT_NONE: case POP_JUMP_BACKWARD_IF_NONE:
    case POP_JUMP_BACKWARD_IF_FALSE: case POP_JUMP_BACKWARD_IF_TRUE: case GET_ITER: case KW_NAMES:
        return 0;
    case BINARY_OP:
        return arg >= NB_INPLACE_ADD;
    default:
        return 1;
    }
}

// Builtins whose call changes nothing in place by itself: they only look at their arguments or
// make new objects (iterating builtins like sum or sorted are not here: they can draw from an
// iterator). A call of one counts as not mutating when, at the check after its line, the name
// still means that builtin in the frame (see builtins_hold); code its arguments' special methods
// run in Python shows as a call of its own.
static const char *const pure_builtin_names[] = {
    "len", "isinstance", "issubclass", "type", "id", "hash", "abs", "ord", "chr", "str", "repr", "int",
    "float", "bool", "round", "divmod", "range", "enumerate", "zip", "callable",
};
#define PURE_BUILTINS (int)(sizeof pure_builtin_names / sizeof *pure_builtin_names)
static PyObject *pure_builtin_keys[PURE_BUILTINS];     // the names, interned
static PyObject *pure_builtin_objects[PURE_BUILTINS];  // the builtins themselves, held

// Finds the builtins above once; a name whose builtin is missing is never treated as pure.
static void load_pure_builtins(void) {
    PyObject *builtins = PyEval_GetBuiltins();  // borrowed
    for (int i = 0; i < PURE_BUILTINS; i++) {
        pure_builtin_keys[i] = PyUnicode_InternFromString(pure_builtin_names[i]);
        PyObject *f = builtins && pure_builtin_keys[i] ? PyDict_GetItemWithError(builtins, pure_builtin_keys[i]) : NULL;
        if (f) Py_INCREF(f);
        pure_builtin_objects[i] = f;
    }
    if (PyErr_Occurred()) PyErr_Clear();
}

static int pure_builtin_index(PyCodeObject *code, uint32_t name_index) {
    PyObject *names = code->co_names;
    if (!PyTuple_Check(names) || name_index >= (uint32_t)PyTuple_GET_SIZE(names)) return -1;
    PyObject *name = PyTuple_GET_ITEM(names, name_index);
    for (int i = 0; i < PURE_BUILTINS; i++)
        if (pure_builtin_objects[i] && PyUnicode_Check(name) && PyUnicode_CompareWithASCIIString(name, pure_builtin_names[i]) == 0) return i;
    return -1;
}

// One instruction of a code object's bytecode, with its line (-1: none), worked out once.
// `step`: the FOR_ITER or UNPACK_SEQUENCE of a loop step (see LineGuards).
typedef struct Instr { int op; uint32_t arg; int offset, line; uint8_t exempt, step; } Instr;

// How an instruction moves the value stack, for the instructions the line analyses below accept
// (loads, operators, subscripts, comparisons, membership, tuples, the frame's prologue, jumps);
// INT_MIN for any other.
static int stack_effect(int op, uint32_t arg) {
    switch (op) {
    case LOAD_FAST: case LOAD_DEREF: case LOAD_CONST: return 1;
    case LOAD_GLOBAL: return (arg & 1) ? 2 : 1;  // (odd: also pushes NULL)
    case LOAD_ATTR: case UNARY_POSITIVE: case UNARY_NEGATIVE: case UNARY_NOT: case UNARY_INVERT: case NOP: case RESUME:
    case MAKE_CELL: case COPY_FREE_VARS: case JUMP_FORWARD: case JUMP_BACKWARD: case JUMP_BACKWARD_NO_INTERRUPT:
        return 0;
    case BINARY_SUBSCR: case CONTAINS_OP: case COMPARE_OP: case IS_OP: case POP_TOP:
    case POP_JUMP_FORWARD_IF_FALSE: case POP_JUMP_FORWARD_IF_TRUE: case POP_JUMP_FORWARD_IF_NONE:
    case POP_JUMP_FORWARD_IF_NOT_NONE: case POP_JUMP_BACKWARD_IF_FALSE: case POP_JUMP_BACKWARD_IF_TRUE:
    case POP_JUMP_BACKWARD_IF_NONE: case POP_JUMP_BACKWARD_IF_NOT_NONE:
        return -1;
    case BINARY_OP: return arg >= NB_INPLACE_ADD ? INT_MIN : -1;
    case BUILD_TUPLE: return 1 - (int)arg;
    default: return INT_MIN;
    }
}

// Whether instruction `k` makes one value from loads and operators only, and how many values it
// takes (*need: the values still to be accounted for, walking backwards).
static int simple_producer(const Instr *in, int k, int *need) {
    switch (in[k].op) {
    case LOAD_FAST: case LOAD_CONST: case LOAD_DEREF: case LOAD_ATTR: case UNARY_NEGATIVE: case UNARY_NOT:
    case UNARY_INVERT: case BINARY_OP: case COMPARE_OP: case IS_OP: case BUILD_TUPLE:
        break;
    case LOAD_GLOBAL:
        if (in[k].arg & 1) return 0;
        break;
    default:
        return 0;
    }
    int e = stack_effect(in[k].op, in[k].arg);
    if (e == INT_MIN) return 0;
    *need -= e;
    return 1;
}

// The builtin a call at PRECALL `p` calls, when it is `name(args)` with `name` a global that may
// be a pure builtin and arguments made of loads and operators only; else -1.
static int pure_call_at(PyCodeObject *code, const Instr *in, int p) {
    int need = (int)in[p].arg, k = p - 1;
    while (need > 0 && k >= 0 && simple_producer(in, k, &need)) k--;
    if (need != 0 || k < 0 || in[k].op != LOAD_GLOBAL || !(in[k].arg & 1)) return -1;
    return pure_builtin_index(code, in[k].arg >> 1);
}

// How an instruction moves the value stack (see stack_effect), for those that keep no reference
// past their line when the line's stack is back where it began at every exit (loads,
// subscripts, comparisons, arithmetic, membership, conditional jumps, the frame's prologue);
// INT_MIN for any other (a store, a call, a tuple, a jump that keeps its operand). `exits` says
// whether the instruction may leave the line.
static int reference_free_effect(int op, uint32_t arg, int *exits) {
    switch (op) {
    case JUMP_FORWARD: case JUMP_BACKWARD: case JUMP_BACKWARD_NO_INTERRUPT:
    case POP_JUMP_FORWARD_IF_FALSE: case POP_JUMP_FORWARD_IF_TRUE: case POP_JUMP_FORWARD_IF_NONE:
    case POP_JUMP_FORWARD_IF_NOT_NONE: case POP_JUMP_BACKWARD_IF_FALSE: case POP_JUMP_BACKWARD_IF_TRUE:
    case POP_JUMP_BACKWARD_IF_NONE: case POP_JUMP_BACKWARD_IF_NOT_NONE:
        *exits = 1;
        break;
    default:
        *exits = 0;
    }
    return op == BUILD_TUPLE ? INT_MIN : stack_effect(op, arg);
}

// Marks the CALL instructions that only instructions changing nothing and binding nothing precede
// on their line (all of its instructions before the call's PRECALL, in every range of the line:
// since the line's event, only a forward path through them can have run). A store is excluded
// too: the object a rebound local held may be freed and another made at its address, which a
// caller's last check would take for the one it saw. See CodeInfo.clean_calls.
static void find_clean_calls(CodeInfo *ci, const Instr *in, int ni, int units, int first, int last) {
    if (last - first > 100000) return;
    uint8_t *dirty = calloc((size_t)(last - first + 1), 1);
    ci->clean_calls = dirty ? calloc((size_t)units / 8 + 1, 1) : NULL;
    if (!ci->clean_calls) { free(dirty); return; }
    ci->code_units = units;
    int precall_clean = 0;
    for (int k = 0; k < ni; k++) {
        int line = in[k].line;
        int known = line >= first && line <= last;
        int clean = known && !dirty[line - first];
        if (in[k].op == CALL && precall_clean && k > 0 && in[k - 1].line == line) {
            int u = in[k].offset / 2;
            ci->clean_calls[u / 8] |= (uint8_t)(1u << (u % 8));
        }
        precall_clean = in[k].op == PRECALL && clean;
        int op = in[k].op, binds = binds_slot(op) ||
                                   op == STORE_NAME || op == DELETE_NAME;
        if (known && (binds || may_mutate(op, in[k].arg))) dirty[line - first] = 1;
    }
    free(dirty);
}

// The index of the first instruction at or after byte offset `offset` (ni when none).
static int instr_at(const Instr *in, int ni, int offset) {
    int lo = 0, hi = ni;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (in[mid].offset < offset) lo = mid + 1; else hi = mid;
    }
    return lo;
}

// The instructions that may run right after instruction `k`, by fall-through and jumps (not
// through the exception table: an exception raised on the way is an event of its own). Returns
// how many (at most 2).
static int successors(const Instr *in, int ni, int k, int succ[2]) {
    int op = in[k].op, next = in[k].offset + 2, target = -1, falls = 1, n = 0;
    switch (op) {
    case JUMP_FORWARD: target = next + 2 * (int)in[k].arg; falls = 0; break;
    case JUMP_BACKWARD: case JUMP_BACKWARD_NO_INTERRUPT: target = next - 2 * (int)in[k].arg; falls = 0; break;
    case POP_JUMP_FORWARD_IF_FALSE: case POP_JUMP_FORWARD_IF_TRUE: case POP_JUMP_FORWARD_IF_NONE:
    case POP_JUMP_FORWARD_IF_NOT_NONE: case JUMP_IF_FALSE_OR_POP: case JUMP_IF_TRUE_OR_POP: case FOR_ITER: case SEND:
        target = next + 2 * (int)in[k].arg;
        break;
    case POP_JUMP_BACKWARD_IF_FALSE: case POP_JUMP_BACKWARD_IF_TRUE: case POP_JUMP_BACKWARD_IF_NONE:
    case POP_JUMP_BACKWARD_IF_NOT_NONE:
        target = next - 2 * (int)in[k].arg;
        break;
    case RETURN_VALUE: case RAISE_VARARGS: case RERAISE:
        falls = 0;
        break;
    }
    if (falls && k + 1 < ni) succ[n++] = k + 1;
    if (target >= 0) {
        int t = instr_at(in, ni, target);
        if (t < ni) succ[n++] = t;
    }
    return n;
}

// The slots each line binds or deletes (see CodeInfo.line_binds), and those instructions
// without a line do.
static void find_line_binds(CodeInfo *ci, const Instr *in, int ni, int first, int last) {
    if (last - first > 100000 || !(ci->line_binds = calloc((size_t)(last - first + 1), sizeof *ci->line_binds))) return;
    ci->binds_first = first;
    ci->binds_count = last - first + 1;
    for (int k = 0; k < ni; k++) {
        int j = in[k].line - first;
        if (!binds_slot(in[k].op)) continue;
        if (j >= 0 && j < ci->binds_count) ci->line_binds[j] |= slot_bit((int)in[k].arg);
        else ci->no_line_binds |= slot_bit((int)in[k].arg);
    }
}

// Marks the CALL instructions after which nothing may change in place (see may_mutate) until
// the frame's next event, and notes the slots each line binds. From the CALL, CPython 3.11 runs
// on without a line event through instructions without a line and forward through its own line;
// it reports one at any other line, and at a jump back. On that path a binding must be of its
// line (instructions without a line may bind too: `except ... as e` ends by deleting e). See
// CodeInfo.clean_returns.
static void find_clean_returns(CodeInfo *ci, const Instr *in, int ni, int units) {
    if (!ci->line_binds) return;
    uint32_t *seen = calloc((size_t)ni + 1, sizeof *seen);
    int *work = malloc(sizeof *work * (size_t)(2 * ni + 2));
    ci->clean_returns = seen && work ? calloc((size_t)units / 8 + 1, 1) : NULL;
    if (!ci->clean_returns) { free(seen); free(work); return; }
    ci->code_units = units;
    for (int c = 0; c < ni; c++) {
        if (in[c].op != CALL || in[c].line < 0) continue;
        // A walk of the path from the CALL to the next event (seen[m] == c + 1: visited).
        int nw = 0, clean = 1;
        work[nw++] = c;
        while (nw && clean) {
            int k = work[--nw], succ[2], n = successors(in, ni, k, succ);
            for (int i = 0; i < n && clean; i++) {
                int m = succ[i], line = in[m].line;
                if (line >= 0 && (line != in[k].line || in[m].offset < in[k].offset)) continue;  // an event
                if (seen[m] == (uint32_t)c + 1) continue;
                seen[m] = (uint32_t)c + 1;
                int op = in[m].op;
                if (may_mutate(op, in[m].arg) || (line < 0 && binds_slot(op)))
                    clean = 0;
                else
                    work[nw++] = m;
            }
        }
        if (clean) {
            int u = in[c].offset / 2;
            ci->clean_returns[u / 8] |= (uint8_t)(1u << (u % 8));
        }
    }
    free(seen);
    free(work);
}

// Methods of dict and str that change nothing and run no code of their own (the methods of an
// exact dict or str cannot be replaced; what their arguments' special methods run in Python
// shows as a call). Not str.join or str.format: they draw from an iterator or format objects.
static const char *const pure_dict_methods[] = {"get", "keys", "values", "items", "copy", NULL};
static const char *const pure_str_methods[] = {
    "isspace", "isalpha", "isalnum", "isdigit", "isdecimal", "isnumeric", "islower", "isupper", "istitle",
    "isidentifier", "isprintable", "isascii", "startswith", "endswith", "find", "rfind", "index", "rindex",
    "count", "lower", "upper", "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "replace",
    "partition", "rpartition", "casefold", "capitalize", "title", "swapcase", "zfill", "removeprefix",
    "removesuffix", NULL};

// Methods of list, set and dict that change only their own object, and run no code of their own
// but what their arguments' special methods run in Python (which shows as a call): not those
// that iterate an argument (extend, update: iter(lst.pop, None) pops with no Python call) or
// call one (sort). Each names which of the three types its receiver must be.
static const char *const list_mutators[] = {"append", "insert", "reverse", NULL};
static const char *const set_mutators[] = {"add", "discard", NULL};
static const char *const dict_mutators[] = {"setdefault", "popitem", NULL};
static const char *const any_mutators[] = {"pop", "clear", "remove", NULL};  // list, set or dict

static int name_in(PyObject *name, const char *const *list) {
    if (!name || !PyUnicode_Check(name)) return 0;
    for (int i = 0; list[i]; i++)
        if (PyUnicode_CompareWithASCIIString(name, list[i]) == 0) return 1;
    return 0;
}

// The slot an instruction at `k` loads when it is LOAD_FAST or LOAD_DEREF of a slot below 63, else -1.
static inline int loaded_slot(const Instr *in, int k) {
    return k >= 0 && (in[k].op == LOAD_FAST || in[k].op == LOAD_DEREF) && in[k].arg < 63 ? (int)in[k].arg : -1;
}

// Whether instruction `k` jumps forward to a later instruction of its own line (`a if c else b`,
// `x and y` as a value): then the load just before an instruction need not be what it got.
static int jumps_within_line(PyCodeObject *code, const Instr *in, int k, int line) {
    int op = in[k].op;
    return (op == POP_JUMP_FORWARD_IF_FALSE || op == POP_JUMP_FORWARD_IF_TRUE || op == POP_JUMP_FORWARD_IF_NONE ||
            op == POP_JUMP_FORWARD_IF_NOT_NONE || op == JUMP_FORWARD || op == JUMP_IF_FALSE_OR_POP || op == JUMP_IF_TRUE_OR_POP) &&
           PyCode_Addr2Line(code, in[k].offset + 2 + 2 * (int)in[k].arg) == line;
}

// Finds the lines whose only instructions that may change something (see may_mutate) are
// `slot[key] = value` stores (the key made by loads and operators), `slot.name = value` stores,
// and calls `slot.method(args)` (arguments made by loads and operators) of the methods above:
// when the slots hold what those need and no Python code ran, only the objects stored into or
// called changed (see CodeInfo.store_lines and line_targets). Lines that bind one of those
// slots do not count (the line may have changed the object it held before), nor lines that
// jump to later in themselves.
static void find_store_lines(CodeInfo *ci, PyCodeObject *code, const Instr *in, int ni, int first, int last,
                             const uint8_t *inner_jumps) {
    if (last - first > 100000) return;
    int span = last - first + 1;
    struct StoreLine *lines = calloc((size_t)span, sizeof *lines);
    uint8_t *bad = calloc((size_t)span, 1);
    const uint64_t *bound = ci->line_binds;  // the same lines: from `first`
    if (!lines || !bad) { free(lines); free(bad); return; }
    PyObject *names = code->co_names;
    Py_ssize_t nnames = PyTuple_Check(names) ? PyTuple_GET_SIZE(names) : 0;
    for (int k = 0; k < ni; k++) {
        int line = in[k].line;
        if (line < first) continue;
        int op = in[k].op, j = line - first;
        struct StoreLine *sl = &lines[j];
        if (inner_jumps[j]) bad[j] = 1;
        if (op == STORE_SUBSCR) {
            int need = 1, p = k - 1;  // the key, then the container
            while (need > 0 && p >= 0 && simple_producer(in, p, &need)) p--;
            int slot = need == 0 ? loaded_slot(in, p) : -1;
            if (slot >= 0 && in[p].line == line) {
                sl->targets |= slot_bit(slot);
                sl->dicts |= slot_bit(slot);
                continue;
            }
        } else if (op == STORE_ATTR) {
            int slot = loaded_slot(in, k - 1);  // the owner, above the value
            if (slot >= 0 && in[k - 1].line == line && sl->nattrs < 2 && in[k].arg < (uint32_t)nnames) {
                sl->targets |= slot_bit(slot);
                sl->objects |= slot_bit(slot);
                sl->attrs[sl->nattrs].slot = slot;
                sl->attrs[sl->nattrs++].name = in[k].arg;
                continue;
            }
        } else if (op == PRECALL && k + 1 < ni && in[k + 1].op == CALL) {
            int need = (int)in[k].arg, p = k - 1;  // the arguments, then LOAD_METHOD, then the receiver
            while (need > 0 && p >= 0 && simple_producer(in, p, &need)) p--;
            int slot = need == 0 && p >= 1 && in[p].op == LOAD_METHOD ? loaded_slot(in, p - 1) : -1;
            PyObject *name = slot >= 0 && in[p].arg < (uint32_t)nnames ? PyTuple_GET_ITEM(names, in[p].arg) : NULL;
            uint64_t *must = !name ? NULL
                             : name_in(name, pure_dict_methods) ? &sl->dicts
                             : name_in(name, pure_str_methods) ? &sl->strs
                             : name_in(name, list_mutators) ? &sl->lists
                             : name_in(name, set_mutators) ? &sl->sets
                             : name_in(name, dict_mutators) ? &sl->dicts
                             : name_in(name, any_mutators) ? &sl->anys : NULL;
            if (must && in[p - 1].line == line && in[k + 1].line == line) {
                *must |= slot_bit(slot);
                if (must != &sl->strs && !name_in(name, pure_dict_methods)) sl->targets |= slot_bit(slot);
                k++;  // its CALL
                continue;
            }
        }
        if (may_mutate(op, in[k].arg)) bad[j] = 1;
    }
    int any = 0;
    for (int j = 0; j < span; j++) {
        struct StoreLine *sl = &lines[j];
        uint64_t kinds[] = {sl->dicts, sl->lists, sl->sets, sl->anys, sl->strs, sl->objects}, all = 0, twice = 0;
        for (int i = 0; i < 6; i++) { twice |= all & kinds[i]; all |= kinds[i]; }
        // (A slot that must hold two kinds of object at once holds neither: `anys` with one of
        // the three would do, but is not worth telling apart.)
        if (bad[j] || (bound[j] & all) || twice || !sl->targets || (all & slot_bit(63)))
            *sl = (struct StoreLine){0};
        else any = 1;
    }
    free(bad);
    if (!any) { free(lines); return; }
    ci->store_lines = lines;
    ci->stores_first = first;
    ci->stores_count = span;
}

// Which local slots each line of `code` loads, stores or deletes, whether it may change an
// object in place (from the unspecialised bytecode), and under which conditions it does not
// (guards: see guards_hold). A container local that its line does not name, while no other
// Python code ran, cannot have changed unless another reference to it exists (see
// PodeFpFacts.shared); after a line that changes nothing in place, none can have. Also whether
// each line may keep a reference it loaded past its end (see reference_free_effect).
static void compute_line_refs(CodeInfo *ci, PyCodeObject *code) {
    PyObject *bytes = PyCode_GetCode(code);
    if (!bytes || !PyBytes_Check(bytes)) { PyErr_Clear(); Py_XDECREF(bytes); return; }
    const uint8_t *ops = (const uint8_t *)PyBytes_AS_STRING(bytes);
    Py_ssize_t n = PyBytes_GET_SIZE(bytes);
    typedef struct { int line; uint64_t bit; uint8_t kind; } Ref;  // kind: guards' (see below)
    size_t most = (size_t)(n / 2 + 1);
    Instr *in = malloc(sizeof *in * most);
    Ref *refs = malloc(sizeof *refs * most), *guards = malloc(sizeof *guards * most), *stores = malloc(sizeof *stores * most);
    Ref *mutating = malloc(sizeof *mutating * most);  // kind 1: a loop step's
    int *keeping = malloc(sizeof *keeping * most);
    if (!in || !refs || !mutating || !guards || !stores || !keeping) {
        free(in); free(refs); free(mutating); free(guards); free(stores); free(keeping); Py_DECREF(bytes);
        return;
    }
    // The instructions, without cache entries and with EXTENDED_ARG folded in.
    int ni = 0, stores_globals = 0;
    uint32_t ext = 0;
    for (Py_ssize_t i = 0; i + 1 < n; i += 2) {
        int op = ops[i];
        uint32_t arg = ext | ops[i + 1];
        ext = op == EXTENDED_ARG ? arg << 8 : 0;
        if (op == EXTENDED_ARG || op == CACHE) continue;
        if (op == STORE_GLOBAL || op == DELETE_GLOBAL) stores_globals = 1;
        in[ni++] = (Instr){op, arg, (int)i, PyCode_Addr2Line(code, (int)i), 0, 0};
    }
    Py_DECREF(bytes);
    // The lines from the first line of the code to the last an instruction has (the per-line
    // tables of the analyses below are that long).
    int first_line = code->co_firstlineno, last_line = first_line;
    for (int k = 0; k < ni; k++)
        if (in[k].line > last_line) last_line = in[k].line;
    // Lines that jump to later in themselves: a membership test or a store there may take
    // another operand than the load just before it (`x in (a if c else b)`).
    uint8_t *inner_jumps = last_line - first_line <= 100000 ? calloc((size_t)(last_line - first_line + 1), 1) : NULL;
    for (int k = 0; inner_jumps && k < ni; k++)
        if (in[k].line >= first_line && jumps_within_line(code, in, k, in[k].line)) inner_jumps[in[k].line - first_line] = 1;
#define JUMPS_WITHIN(l) (!inner_jumps || (l) < first_line || inner_jumps[(l) - first_line])
    find_clean_calls(ci, in, ni, (int)(n / 2), first_line, last_line);
    find_line_binds(ci, in, ni, first_line, last_line);
    find_clean_returns(ci, in, ni, (int)(n / 2));
    if (inner_jumps && ci->line_binds) find_store_lines(ci, code, in, ni, first_line, last_line, inner_jumps);
    // The per-line tables cover every line an instruction has: a line that names no slot and
    // changes nothing (`return False` at the end) is known to, not unknown.
    int count = 0, nmutating = 0, nguards = 0, nstores = 0, nkeeping = 0, lo = code->co_firstlineno, hi = last_line;
#define SEE_LINE(l) do { if ((l) >= 0 && (l) < lo) lo = (l); if ((l) > hi) hi = (l); } while (0)
    // Instructions that change nothing in place on a condition checked after their line:
    // kind 0, `x in slot` with slot a builtin container; kind 1, `slot op= value` leaving an
    // immutable scalar in the slot (so the operand was one: a scalar has no in-place form; the
    // store is the pattern's own); kind 2, a call of a pure builtin (bit: which one); kind 3,
    // `x in slot[i]` (i a local or constant) with slot a list or tuple of builtin containers.
    typedef struct { int line, for_offset, body_offset, exit_offset, unpack; } ForStep;
    ForStep *steps = malloc(sizeof *steps * most);
    int nsteps = 0;
    for (int k = 0; steps && k < ni; k++) {
        if (in[k].op != FOR_ITER) continue;
        int j = k + 1, unpack = 0;
        if (j < ni && in[j].op == UNPACK_SEQUENCE) { unpack = (int)in[j].arg; j++; if (unpack < 1) continue; }
        int targets = unpack ? unpack : 1, ok = 1;
        for (int t = 0; t < targets && ok; t++, j++) ok = j < ni && (in[j].op == STORE_FAST || in[j].op == STORE_DEREF);
        if (!ok || j >= ni) continue;
        int line = in[k].line;
        if (line < 0 || in[j - 1].line != line || in[j].line == line) continue;
        steps[nsteps++] = (ForStep){line, in[k].offset, in[j].offset, in[k].offset + 2 + 2 * (int)in[k].arg, unpack};
        in[k].step = 1;
        if (unpack) in[k + 1].step = 1;
        SEE_LINE(line);
    }
    for (int k = 0; k < ni; k++) {
        int op = in[k].op;
        if (op == CONTAINS_OP && k > 0 && (in[k - 1].op == LOAD_FAST || in[k - 1].op == LOAD_DEREF) && in[k - 1].arg < 63) {
            int line = in[k].line;
            if (line < 0 || JUMPS_WITHIN(line)) continue;
            in[k].exempt = 1;
            guards[nguards++] = (Ref){line, slot_bit((int)in[k - 1].arg), 0};
            SEE_LINE(line);
        } else if (op == CONTAINS_OP && k >= 3 && in[k - 1].op == BINARY_SUBSCR &&
                   (in[k - 2].op == LOAD_FAST || in[k - 2].op == LOAD_DEREF || in[k - 2].op == LOAD_CONST) &&
                   (in[k - 3].op == LOAD_FAST || in[k - 3].op == LOAD_DEREF) && in[k - 3].arg < 63) {
            int line = in[k].line;
            if (line < 0 || line != in[k - 1].line || JUMPS_WITHIN(line)) continue;
            in[k].exempt = in[k - 1].exempt = 1;
            guards[nguards++] = (Ref){line, slot_bit((int)in[k - 3].arg), 3};
            SEE_LINE(line);
        } else if (op == BINARY_OP && in[k].arg >= NB_INPLACE_ADD && k >= 2 && k + 1 < ni) {
            int load = in[k - 2].op, store = in[k + 1].op, need = 1;
            if (!((load == LOAD_FAST && store == STORE_FAST) || (load == LOAD_DEREF && store == STORE_DEREF))) continue;
            if (in[k - 2].arg != in[k + 1].arg || in[k - 2].arg >= 63 || !simple_producer(in, k - 1, &need) || need != 0) continue;
            int line = in[k].line;
            if (line < 0 || line != in[k + 1].line) continue;
            in[k].exempt = in[k + 1].exempt = 1;  // the store is not another store of the slot
            guards[nguards++] = (Ref){line, slot_bit((int)in[k - 2].arg), 1};
            SEE_LINE(line);
        } else if (op == PRECALL && !stores_globals && k + 1 < ni && in[k + 1].op == CALL) {
            int b = pure_call_at(code, in, k);
            int line = in[k].line;
            if (b < 0 || line < 0 || line != in[k + 1].line) continue;
            in[k].exempt = in[k + 1].exempt = 1;
            guards[nguards++] = (Ref){line, 1ull << b, 2};
            SEE_LINE(line);
        }
    }
    // Each run of a line's instructions keeps no reference past the line when all of them are
    // reference-free and the stack is back at its depth at every exit and at the run's end.
    int run_line = INT_MIN, run_depth = 0, run_ok = 1;
    for (int k = 0; k <= ni; k++) {
        int line = k < ni ? in[k].line : INT_MIN;
        if (line != run_line) {
            if (run_line != INT_MIN && (!run_ok || run_depth != 0)) keeping[nkeeping++] = run_line;
            run_line = line;
            run_depth = 0;
            run_ok = 1;
        }
        if (k == ni || !run_ok) continue;
        int exits, e = reference_free_effect(in[k].op, in[k].arg, &exits);
        if (e == INT_MIN) { run_ok = 0; continue; }
        run_depth += e;
        if (run_depth < 0 || (exits && run_depth != 0)) run_ok = 0;
    }
    for (int k = 0; k < ni; k++) {
        int op = in[k].op;
        uint32_t arg = in[k].arg;
        if (binds_slot(op) && !in[k].exempt)
            stores[nstores++] = (Ref){in[k].line, slot_bit((int)arg), 0};
        if (!in[k].exempt && may_mutate(op, arg)) {
            int line = in[k].line;
            mutating[nmutating++] = (Ref){line, 0, in[k].step};
            SEE_LINE(line);
        }
        switch (op) {
        case LOAD_FAST: case STORE_FAST: case DELETE_FAST: case MAKE_CELL: case LOAD_CLOSURE:
        case LOAD_DEREF: case STORE_DEREF: case DELETE_DEREF: case LOAD_CLASSDEREF: {
            int line = in[k].line;
            refs[count++] = (Ref){line, slot_bit((int)arg), 0};
            SEE_LINE(line);
            break;
        }
        default:
            break;
        }
    }
#undef SEE_LINE
#undef JUMPS_WITHIN
    free(inner_jumps);
    free(in);
    if (hi >= lo && hi - lo <= 100000 && (ci->line_refs = calloc((size_t)(hi - lo + 1), sizeof *ci->line_refs))) {
        ci->first_line = lo;
        ci->nlines = hi - lo + 1;
        for (int k = 0; k < count; k++) {
            if (refs[k].line < 0) ci->no_line_refs |= refs[k].bit;
            else ci->line_refs[refs[k].line - lo] |= refs[k].bit;
        }
        ci->line_renders = calloc((size_t)ci->nlines, 1);
        if ((ci->line_mutates = calloc((size_t)ci->nlines, 1))) {
            for (int k = 0; k < nmutating; k++) {
                if (mutating[k].line < 0) ci->no_line_mutates = 1;
                else ci->line_mutates[mutating[k].line - lo] |= mutating[k].kind ? 1 : 1 | 4;
            }
            for (int k = 0; k < nkeeping; k++) {
                // (A line outside lo..hi never counts as unchanged: see unchanged_since.)
                if (keeping[k] < 0) ci->no_line_keeps = 1;
                else if (keeping[k] >= lo && keeping[k] <= hi) ci->line_mutates[keeping[k] - lo] |= 2;
            }
            // A slot guard whose slot its line (or a line-less instruction) also stores may have
            // looked at another value than the slot holds afterwards: the line may mutate.
            uint64_t *stored = calloc((size_t)ci->nlines, sizeof *stored);
            ci->line_guards = stored ? calloc((size_t)ci->nlines, sizeof *ci->line_guards) : NULL;
            if (ci->line_guards) {
                uint64_t stored_anywhere = 0;
                for (int k = 0; k < nstores; k++) {
                    if (stores[k].line < 0) stored_anywhere |= stores[k].bit;
                    else stored[stores[k].line - lo] |= stores[k].bit;
                }
                for (int k = 0; k < nguards; k++) {
                    int j = guards[k].line - lo;
                    LineGuards *g = &ci->line_guards[j];
                    if (guards[k].kind == 2) g->builtins |= (uint32_t)guards[k].bit;
                    else if ((stored[j] | stored_anywhere) & guards[k].bit) ci->line_mutates[j] |= 1 | 4;
                    else if (guards[k].kind == 0) g->containers |= guards[k].bit;
                    else if (guards[k].kind == 3) g->nested |= guards[k].bit;
                    else g->scalars |= guards[k].bit;
                }
                // Two loop steps on one line: neither is taken as the step (see LineGuards).
                for (int k = 0; k < nsteps; k++) {
                    LineGuards *g = &ci->line_guards[steps[k].line - lo];
                    if (g->for_offset) g->for_offset = -1;
                    else *g = (LineGuards){g->containers, g->scalars, g->nested, g->builtins, steps[k].for_offset, steps[k].body_offset, steps[k].exit_offset, steps[k].unpack};
                }
            } else {
                for (int k = 0; k < nguards; k++) ci->line_mutates[guards[k].line - lo] |= 1 | 4;
            }
            free(stored);
        }
    }
    free(refs);
    free(guards);
    free(stores);
    free(steps);
    free(mutating);
    free(keeping);
}

static int glob_match(char **globs, int n, const char *path) {
    if (!n) return 0;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t cl = strlen(cwd_prefix);
    const char *rel = (cl && strncmp(path, cwd_prefix, cl) == 0) ? path + cl : path;
    for (int i = 0; i < n; i++)
        if (fnmatch(globs[i], path, 0) == 0 || fnmatch(globs[i], rel, 0) == 0 || fnmatch(globs[i], base, 0) == 0) return 1;
    return 0;
}

static int decide_scope(const char *file) {
    if (glob_match(exclude_globs, opts.exclude_count, file)) return 0;
    if (glob_match(include_globs, opts.include_count, file)) return 1;
    if (opts.record_all) return 1;
    if (file[0] == '<') return strcmp(file, "<string>") == 0 || strcmp(file, "<stdin>") == 0;
    for (int i = 0; i < lib_prefix_count; i++) {
        size_t n = strlen(lib_prefixes[i]);
        if (strncmp(file, lib_prefixes[i], n) == 0 && (file[n] == '/' || file[n] == 0)) return 0;
    }
    return 1;
}

static CodeInfo *code_info(PyCodeObject *code) {
    void *extra = NULL;
    if (_PyCode_GetExtra((PyObject *)code, code_extra_index, &extra) == 0 && extra) return extra;
    PyErr_Clear();
    CodeInfo *ci = calloc(1, sizeof *ci);
    if (!ci) return NULL;
    const char *file = PyUnicode_AsUTF8(code->co_filename);
    if (!file) { PyErr_Clear(); file = "<unknown>"; }
    ci->in_scope = (uint8_t)decide_scope(file);
    ci->optimized = (code->co_flags & CO_OPTIMIZED) != 0;
    ci->genlike = (code->co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)) != 0;
    if (ci->in_scope) {
        ci->id = next_code_id++;
        ci->nslots = code->co_nlocalsplus;
        ci->nargs = code->co_argcount + code->co_kwonlyargcount + ((code->co_flags & CO_VARARGS) ? 1 : 0) +
                    ((code->co_flags & CO_VARKEYWORDS) ? 1 : 0);
        ci->slot_names = calloc((size_t)ci->nslots + 1, sizeof *ci->slot_names);
        ci->slot_flags = calloc((size_t)ci->nslots + 1, 1);
        for (int i = 0; i < ci->nslots; i++) {
            PyObject *name = PyTuple_GET_ITEM(code->co_localsplusnames, i);
            const char *s = PyUnicode_AsUTF8(name);
            if (!s) { PyErr_Clear(); s = "."; }
            ci->slot_names[i] = name_id(name);
            _PyLocals_Kind kind = _PyLocals_GetKind(code->co_localspluskinds, i);
            if (s[0] == '.') ci->slot_flags[i] |= 1;
            if (kind & (CO_FAST_CELL | CO_FAST_FREE)) ci->slot_flags[i] |= 2;
            if (kind & CO_FAST_FREE) ci->slot_flags[i] |= 4;
        }
        compute_line_refs(ci, code);
        uint32_t *extra_names = NULL;
        Py_ssize_t n_extra = 0;
        if (!ci->optimized && PyTuple_Check(code->co_names)) {
            n_extra = PyTuple_GET_SIZE(code->co_names);
            extra_names = malloc(sizeof *extra_names * (size_t)(n_extra + 1));
            for (Py_ssize_t i = 0; extra_names && i < n_extra; i++) extra_names[i] = name_id(PyTuple_GET_ITEM(code->co_names, i));
        }
        Py_ssize_t n;
        const char *qual = PyUnicode_AsUTF8AndSize(code->co_qualname, &n);
        if (!qual) { PyErr_Clear(); qual = "?"; n = 1; }
        Py_ssize_t nn;
        const char *name = PyUnicode_AsUTF8AndSize(code->co_name, &nn);
        if (!name) { PyErr_Clear(); name = "?"; nn = 1; }
        pode_buf_byte(&def_scratch, DEF_CODE);
        pode_buf_varint(&def_scratch, ci->id);
        pode_buf_str(&def_scratch, file, strlen(file));
        pode_buf_str(&def_scratch, qual, (size_t)n);
        pode_buf_str(&def_scratch, name, (size_t)nn);
        pode_buf_varint(&def_scratch, (uint64_t)code->co_firstlineno);
        pode_buf_varint(&def_scratch, (uint64_t)(ci->genlike | (ci->optimized ? 0 : 2)));
        // The names its frame can bind (what `pode show` lists): local slots, plus for a module
        // or class body the global names its bytecode uses. Their name records were written above.
        pode_buf_varint(&def_scratch, (uint64_t)(ci->nslots + (extra_names ? n_extra : 0)));
        for (int i = 0; i < ci->nslots; i++) pode_buf_varint(&def_scratch, ci->slot_names[i]);
        for (Py_ssize_t i = 0; extra_names && i < n_extra; i++) pode_buf_varint(&def_scratch, extra_names[i]);
        free(extra_names);
        emit_definition(&def_scratch);
    }
    if (_PyCode_SetExtra((PyObject *)code, code_extra_index, ci) != 0) {
        PyErr_Clear();  // cannot cache: still correct, only slower for this code object
    }
    return ci;
}

// ---- activations and threads ----------------------------------------------------------------
// What a binding held at its last check: the object (never dereferenced unless still bound to
// it), its fingerprint (0: unbound) and what that fingerprint found, among it whether the object
// (or a mutable one inside it) is referenced from anywhere else, so could change behind the
// frame's back. A Slot is a fast local's, a DictSlot a dict-held variable's.
typedef struct Seen { PyObject *ptr; uint64_t fp; PodeFpFacts facts; } Seen;
typedef struct Slot { Seen seen; } Slot;
// `scan` is the dict scan that last saw the key: a key missing from a scan was deleted.
typedef struct DictSlot { PyObject *key; Seen seen; uint64_t scan; uint32_t name; uint8_t mutable_; } DictSlot;

typedef struct Activation {
    PyFrameObject *frame;
    uint64_t id;
    CodeInfo *code;
    uint32_t depth;
    int last_line;
    int last_entry;  // byte offset of the instruction its last line event started at, else -1
    uint64_t epoch;  // call_epoch at the last check of its locals
    unsigned long switches;  // the GIL's switch count then (see unchanged_since)
    uint8_t complete;        // whether that check looked at every binding (no value overflow)
    uint8_t plain_step;      // its last line event was at a loop step drawing from a plain iterator
    Slot *slots;
    int slot_cap;
    DictSlot *dslots;
    int ndslots, dcap;
    uint64_t dict_version;
    uint64_t dict_scans;
    struct Activation *next_free;
} Activation;

// What bind_call found for one slot of a new frame: the caller's slot holding the same object
// (-1: none), or a fingerprint it already made (0: none).
typedef struct CallSlot { int from; uint64_t fp; PodeFpFacts facts; } CallSlot;

typedef struct ThreadRec {
    uint32_t index;
    Activation **stack;
    int n, cap;
    Activation *free_list;
    PodeBuf values, text;
    CallSlot *call_slots;
    int call_slot_cap;
    // The activation of the Python function that last returned straight into `returned_to`'s
    // CALL (see note_return), freed but kept intact at the head of free_list, with call_epoch
    // and the GIL's switch count just after its return check.
    Activation *returned;
    const Activation *returned_to;
    uint64_t returned_epoch;
    unsigned long returned_switches;
} ThreadRec;

static _Thread_local ThreadRec *tls;

static ThreadRec *thread_rec(void) {
    if (tls) return tls;
    ThreadRec *t = calloc(1, sizeof *t);
    if (!t) abort();
    t->index = next_thread_index++;
    pode_buf_byte(&def_scratch, DEF_THREAD);
    pode_buf_varint(&def_scratch, t->index);
    pode_buf_varint(&def_scratch, (uint64_t)PyThread_get_thread_ident());
    pode_buf_varint(&def_scratch, (uint64_t)syscall(SYS_gettid));
    emit_definition(&def_scratch);
    tls = t;
    return t;
}

// Generator and coroutine activations survive suspension here, keyed by frame object.
typedef struct GenMap { PyFrameObject **keys; Activation **vals; size_t cap, count; } GenMap;
static GenMap gens;

static void gen_put(PyFrameObject *f, Activation *a) {
    if ((gens.count + 1) * 2 > gens.cap) {
        size_t cap = gens.cap ? gens.cap * 2 : 64;
        PyFrameObject **keys = calloc(cap, sizeof *keys);
        Activation **vals = calloc(cap, sizeof *vals);
        if (!keys || !vals) abort();
        for (size_t i = 0; i < gens.cap; i++) {
            if (!gens.keys[i] || !gens.vals[i]) continue;
            size_t j = ptr_hash(gens.keys[i]) & (cap - 1);
            while (keys[j]) j = (j + 1) & (cap - 1);
            keys[j] = gens.keys[i];
            vals[j] = gens.vals[i];
        }
        free(gens.keys); free(gens.vals);
        gens.keys = keys; gens.vals = vals; gens.cap = cap;
        size_t live = 0;
        for (size_t i = 0; i < cap; i++) live += keys[i] != NULL;
        gens.count = live;
    }
    size_t j = ptr_hash(f) & (gens.cap - 1);
    while (gens.keys[j] && gens.keys[j] != f) j = (j + 1) & (gens.cap - 1);
    if (!gens.keys[j]) gens.count++;
    gens.keys[j] = f;
    gens.vals[j] = a;
}

// Removes and returns the suspended activation of `f`, if any (tombstones keep probing intact).
static Activation *gen_take(PyFrameObject *f) {
    if (!gens.cap) return NULL;
    size_t j = ptr_hash(f) & (gens.cap - 1);
    while (gens.keys[j]) {
        if (gens.keys[j] == f && gens.vals[j]) {
            Activation *a = gens.vals[j];
            gens.vals[j] = NULL;
            return a;
        }
        j = (j + 1) & (gens.cap - 1);
    }
    return NULL;
}

static Activation *activation_new(ThreadRec *t, PyFrameObject *frame, CodeInfo *ci) {
    Activation *a = t->free_list;
    if (a) t->free_list = a->next_free;
    else if (!(a = calloc(1, sizeof *a))) abort();
    a->frame = frame;
    a->id = next_seq;  // its first event is emitted next (see the event layout above)
    a->code = ci;
    a->last_line = 0;
    a->last_entry = -1;
    a->plain_step = 0;
    a->ndslots = 0;
    a->dict_version = 0;
    if (ci->optimized) {
        if (a->slot_cap < ci->nslots) {
            free(a->slots);
            a->slot_cap = ci->nslots < 8 ? 8 : ci->nslots;
            a->slots = malloc(sizeof(Slot) * (size_t)a->slot_cap);
            if (!a->slots) abort();
        }
        memset(a->slots, 0, sizeof(Slot) * (size_t)ci->nslots);
    }
    return a;
}

static void activation_free(ThreadRec *t, Activation *a) {
    for (int i = 0; i < a->ndslots; i++) Py_XDECREF(a->dslots[i].key);
    a->ndslots = 0;
    a->next_free = t->free_list;
    t->free_list = a;
}

static void push(ThreadRec *t, Activation *a) {
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->stack = realloc(t->stack, sizeof *t->stack * (size_t)t->cap);
        if (!t->stack) abort();
    }
    a->depth = (uint32_t)t->n;
    t->stack[t->n++] = a;
}

// ---- values -----------------------------------------------------------------------------------
static inline int immutable_scalar(PyObject *o) {
    PyTypeObject *t = Py_TYPE(o);
    return t == &PyLong_Type || t == &PyUnicode_Type || t == &PyFloat_Type || t == &PyBytes_Type ||
           o == Py_None || t == &PyBool_Type || t == &PyComplex_Type;
}

// Renderings kept by object and fingerprint: an object is often rendered again unchanged (an
// argument passed on to each call, `self` at every method call, a loop variable then the
// parameter it is passed as), and equal fingerprints of one object mean equal renderings. Not
// with --repr=full, whose __repr__ calls no fingerprint sees into. Touched under the GIL.
#define MEMO_SLOTS 1024
#define MEMO_TEXT 320
typedef struct RenderMemo { PyObject *ptr; uint64_t fp, full; uint16_t len; uint8_t flags; char text[MEMO_TEXT]; } RenderMemo;
static RenderMemo render_memo[MEMO_SLOTS];

static inline RenderMemo *memo_slot(PyObject *v, uint64_t fp) {
    return &render_memo[(ptr_hash(v) ^ fp) & (MEMO_SLOTS - 1)];
}

static inline int memo_holds(const RenderMemo *memo, PyObject *v, uint64_t fp) {
    return memo && memo->ptr == v && memo->fp == fp;
}

// The start of a value record of a bound variable: its name and its object's type.
static inline void put_value_head(ThreadRec *t, uint32_t name, PyObject *v) {
    pode_buf_varint(&t->values, name);
    pode_buf_varint(&t->values, type_id(Py_TYPE(v)));
}

// Appends the rest of a value record whose rendering is in t->text (with `flags`, and `full`
// when truncated), and keeps the rendering in `memo` by `fp` when given one.
static inline void put_rendering(ThreadRec *t, PyObject *v, int flags, uint64_t fp, uint64_t full, RenderMemo *memo) {
    PodeBuf *b = &t->values;
    pode_buf_byte(b, (uint8_t)flags);
    pode_buf_str(b, (const char *)t->text.data, t->text.len);
    if (flags & PODE_VALUE_TRUNCATED) pode_buf_varint(b, full);
    if (memo && t->text.len <= MEMO_TEXT) {
        memo->ptr = v;
        memo->fp = fp;
        memo->full = full;
        memo->flags = (uint8_t)(flags & PODE_VALUE_TRUNCATED);
        memo->len = (uint16_t)t->text.len;
        memcpy(memo->text, t->text.data, t->text.len);
    }
}

// Appends one value record. `fp` is the value's fingerprint when known and its rendering may be
// kept by it (see PodeFpFacts.opaque), else 0. Returns whether it rendered the value (else it
// was deleted, redacted, or kept).
static int put_value(ThreadRec *t, int *count, uint32_t name, PyObject *v, int flags, uint64_t fp) {
    PodeBuf *b = &t->values;
    if (!v) {
        pode_buf_varint(b, name);
        pode_buf_varint(b, 0);
        pode_buf_byte(b, (uint8_t)(flags | PODE_VALUE_DELETED));
        pode_buf_varint(b, 0);
        (*count)++;
        return 0;
    }
    put_value_head(t, name, v);
    if (name_redacted(name)) {
        pode_buf_byte(b, (uint8_t)flags);
        pode_buf_str(b, PODE_REDACTED, strlen(PODE_REDACTED));
        (*count)++;
        return 0;
    }
    RenderMemo *memo = fp && !render_opts.repr_full && !immutable_scalar(v) ? memo_slot(v, fp) : NULL;
    if (memo_holds(memo, v, fp)) {
        flags |= memo->flags;
        pode_buf_byte(b, (uint8_t)flags);
        pode_buf_str(b, memo->text, memo->len);
        if (flags & PODE_VALUE_TRUNCATED) pode_buf_varint(b, memo->full);
        (*count)++;
        return 0;
    }
    uint64_t full = 0;
    t->text.len = 0;
    int rendered = pode_render(v, &render_opts, &t->text, &full);
    put_rendering(t, v, flags | rendered, fp, full, memo);
    (*count)++;
    return 1;
}

// Objects whose fingerprint is their identity (see fp): bound to the same one, nothing changed.
static inline int identity_only(PyObject *o) {
    PyTypeObject *t = Py_TYPE(o);
    return t == &PyFunction_Type || t == &PyCFunction_Type || t == &PyCMethod_Type || t == &PyModule_Type || PyType_Check(o);
}

// Whether `v`, still the object `seen` last saw, cannot have changed: an immutable scalar, an
// object whose fingerprint is its identity, or a tuple whose fingerprint reached only scalars
// and tuples of them.
static inline int cannot_have_changed(PyObject *v, const Seen *seen) {
    return immutable_scalar(v) || identity_only(v) || (Py_TYPE(v) == &PyTuple_Type && !seen->facts.changeable);
}

// Counts one more check after a line (CodeInfo.line_renders) that rendered a new state, or
// starts the count again after one that did not.
static inline void count_render(uint8_t *renders, int rendered_new) {
    *renders = rendered_new ? (uint8_t)(*renders + (*renders < 3)) : 0;
}

// Compares one binding with what was last seen; records it when it changed. `known`: the
// object's fingerprint and facts as they are now, when already known (see returned_seen).
// `renders`: the count of the line's checks in a row that rendered an object changed in place
// (CodeInfo.line_renders), kept up to date here; NULL when there is none.
static inline void check_binding(ThreadRec *t, int *count, uint32_t name, PyObject *v, Seen *seen, const Seen *known, uint8_t *renders) {
    if (t->values.len > MAX_EVENT_VALUE_BYTES) return;  // reported at the next event instead
    if (!v) {
        if (seen->fp) {
            put_value(t, count, name, NULL, 0, 0);
            *seen = (Seen){0};
        }
        return;
    }
    int flags;
    uint64_t f;
    if (v == seen->ptr && seen->fp) {
        if (cannot_have_changed(v, seen)) return;
        // The same dict of scalars with the same version tag: nothing in it changed. Only
        // whether another reference to it exists may have.
        if (seen->facts.flat_version && PyDict_CheckExact(v) && ((PyDictObject *)v)->ma_version_tag == seen->facts.flat_version) {
            seen->facts.shared = pode_referenced_elsewhere(v);
            return;
        }
        if (known) {
            f = known->fp;
            seen->facts = known->facts;
            if (f == seen->fp) return;
        } else if (renders && *renders >= 2 && !render_opts.repr_full && !name_redacted(name)) {
            // Its line's last checks rendered what they found changed (a line that adds to a
            // container, or sets an attribute of `self`): rendered while fingerprinted, in one
            // walk, at the cost of a rendering wasted when it turns out unchanged.
            uint64_t full;
            t->text.len = 0;
            int rendered = pode_render_fingerprint(v, &render_opts, &t->text, &full, &f, &seen->facts);
            if (f == seen->fp) { count_render(renders, 0); return; }
            seen->fp = f;
            RenderMemo *memo = seen->facts.opaque ? NULL : memo_slot(v, f);
            // (A state kept from before, as backtracking goes back to, was rendered for nothing.)
            count_render(renders, !memo_holds(memo, v, f));
            put_value_head(t, name, v);
            put_rendering(t, v, PODE_VALUE_MUTATED | rendered, f, full, memo);
            (*count)++;
            return;
        } else {
            f = pode_fingerprint(v, render_opts.limit, &seen->facts);
            if (f == seen->fp) {
                if (renders) count_render(renders, 0);
                return;
            }
        }
        flags = PODE_VALUE_MUTATED;
    } else {
        PodeFpFacts facts;
        if (known) {
            f = known->fp;
            facts = known->facts;
        } else {
            f = pode_fingerprint(v, render_opts.limit, &facts);
        }
        if (seen->fp && f == seen->fp && immutable_scalar(v)) { seen->ptr = v; seen->facts = facts; return; }
        flags = seen->fp ? PODE_VALUE_REBOUND : 0;
        seen->facts = facts;
    }
    seen->ptr = v;
    seen->fp = f;
    int rendered = put_value(t, count, name, v, flags, seen->facts.opaque ? 0 : f);
    if (renders && (flags & PODE_VALUE_MUTATED) && !known) count_render(renders, rendered);
}

static int skip_global(PyObject *key, PyObject *v) {
    if (!PyUnicode_Check(key)) return 1;
    Py_ssize_t n = PyUnicode_GET_LENGTH(key);
    if (n >= 4 && PyUnicode_READ_CHAR(key, 0) == '_' && PyUnicode_READ_CHAR(key, 1) == '_' &&
        PyUnicode_READ_CHAR(key, n - 1) == '_' && PyUnicode_READ_CHAR(key, n - 2) == '_')
        return 1;
    return PyModule_Check(v) || PyFunction_Check(v) || PyType_Check(v) || PyCFunction_Check(v);
}

// A builtin container whose `in` test runs no code but hashing and comparing (Python-level
// __hash__ or __eq__ shows as a call).
static inline int builtin_container(PyTypeObject *t) {
    return t == &PySet_Type || t == &PyFrozenSet_Type || t == &PyDict_Type || t == &PyList_Type || t == &PyTuple_Type ||
           t == &PyUnicode_Type || t == &PyBytes_Type || t == &PyRange_Type;
}

// The most items a `nested` slot's list or tuple may have (each item's type is looked at).
#define NESTED_GUARD_ITEMS 64

// Whether the slot guards of a line hold: each slot in `containers` holds a builtin container,
// each in `scalars` an immutable scalar, each in `nested` an exact list or tuple (whose
// subscript runs no code for an int index; another index's __index__ in Python shows as a
// call) of at most NESTED_GUARD_ITEMS builtin containers. Anything else (an iterator, a class
// with __contains__ or __iadd__ in C, a defaultdict whose __missing__ adds a key) may have
// changed something in place.
static int slot_guards_hold(const CodeInfo *ci, PyObject *const *locals, uint64_t containers, uint64_t scalars, uint64_t nested) {
    uint64_t all = containers | scalars | nested;
    for (int i = 0; all; i++, all >>= 1, containers >>= 1, scalars >>= 1, nested >>= 1) {
        if (!(all & 1)) continue;
        PyObject *v = i < ci->nslots ? locals[i] : NULL;
        if (v && (ci->slot_flags[i] & 2) && PyCell_Check(v)) v = PyCell_GET(v);
        if (!v) return 0;
        PyTypeObject *t = Py_TYPE(v);
        if (nested & 1) {
            if (t != &PyList_Type && t != &PyTuple_Type) return 0;
            Py_ssize_t n = Py_SIZE(v);
            if (n > NESTED_GUARD_ITEMS) return 0;
            PyObject **items = t == &PyList_Type ? ((PyListObject *)v)->ob_item : ((PyTupleObject *)v)->ob_item;
            for (Py_ssize_t j = 0; j < n; j++)
                if (!builtin_container(Py_TYPE(items[j]))) return 0;
        }
        if ((containers & 1) && !builtin_container(t)) return 0;
        if ((scalars & 1) && (!immutable_scalar(v) || v == Py_None)) return 0;
    }
    return 1;
}

// Which pure builtins (bits, see pure_builtin_names) a frame's globals and builtins still name:
// kept for the last pair of dicts seen, while neither dict's version tag changes.
static struct { PyObject *globals, *builtins; uint64_t globals_version, builtins_version; uint32_t names; } pure_names_seen;

static int builtins_hold(const _PyInterpreterFrame *f, uint32_t wanted) {
    PyObject *g = f->f_globals, *b = f->f_builtins;
    if (!g || !b || !PyDict_CheckExact(g) || !PyDict_CheckExact(b)) return 0;
    // Only dicts whose keys are all str: looking up another key could call its __eq__.
    if (!DK_IS_UNICODE(((PyDictObject *)g)->ma_keys) || !DK_IS_UNICODE(((PyDictObject *)b)->ma_keys)) return 0;
    uint64_t gv = ((PyDictObject *)g)->ma_version_tag, bv = ((PyDictObject *)b)->ma_version_tag;
    if (pure_names_seen.globals != g || pure_names_seen.builtins != b || pure_names_seen.globals_version != gv ||
        pure_names_seen.builtins_version != bv) {
        uint32_t names = 0;
        for (int i = 0; i < PURE_BUILTINS; i++) {
            PyObject *key = pure_builtin_keys[i];
            if (!key || !pure_builtin_objects[i]) continue;
            // Exact dicts of str keys only: these lookups run no code of the program.
            if (PyDict_GetItemWithError(g, key)) continue;
            if (PyDict_GetItemWithError(b, key) == pure_builtin_objects[i]) names |= 1u << i;
        }
        if (PyErr_Occurred()) { PyErr_Clear(); names = 0; }
        pure_names_seen.globals = g;
        pure_names_seen.builtins = b;
        pure_names_seen.globals_version = gv;
        pure_names_seen.builtins_version = bv;
        pure_names_seen.names = names;
    }
    return (pure_names_seen.names & wanted) == wanted;
}

// ---- loop steps ---------------------------------------------------------------------------------
// The byte offset of the instruction a frame is at (at a line event: the one about to run).
static inline int instruction_offset(const _PyInterpreterFrame *f) {
    return f->prev_instr ? (int)((const char *)f->prev_instr - (const char *)_PyCode_CODE(f->f_code)) : -1;
}

// Iterators over builtin containers, whose step runs no code and changes nothing but the
// iterator's own position (found at start by making one of each).
static PyTypeObject *plain_iterator_types[16];
static int plain_iterator_count;
static PyTypeObject *list_iterator_type, *tuple_iterator_type, *dict_items_iterator_type;

// listiterobject and tupleiterobject in CPython 3.11 (not in its headers).
typedef struct SequenceIterator { PyObject_HEAD Py_ssize_t it_index; PyObject *it_seq; } SequenceIterator;

static void keep_iterator_type(PyObject *iterable, PyTypeObject **as) {
    PyObject *it = iterable ? PyObject_GetIter(iterable) : NULL;
    if (it && plain_iterator_count < (int)(sizeof plain_iterator_types / sizeof *plain_iterator_types)) {
        plain_iterator_types[plain_iterator_count++] = Py_TYPE(it);  // static types: never freed
        if (as) *as = Py_TYPE(it);
    }
    Py_XDECREF(it);
    Py_XDECREF(iterable);
}

static void load_plain_iterators(void) {
    PyObject *list = PyList_New(0), *dict = PyDict_New();
    keep_iterator_type(PyObject_CallFunction((PyObject *)&PyRange_Type, "i", 1), NULL);
    keep_iterator_type(PyObject_CallFunction((PyObject *)&PyRange_Type, "N", PyLong_FromUnsignedLongLong(1ull << 63)), NULL);
    if (list) { Py_INCREF(list); keep_iterator_type(list, &list_iterator_type); }
    keep_iterator_type(list ? PyObject_CallOneArg((PyObject *)&PyReversed_Type, list) : NULL, NULL);
    keep_iterator_type(PyTuple_New(0), &tuple_iterator_type);
    keep_iterator_type(PySet_New(NULL), NULL);
    if (dict) {
        Py_INCREF(dict);
        keep_iterator_type(dict, NULL);
        keep_iterator_type(PyObject_CallMethod(dict, "values", NULL), NULL);
        keep_iterator_type(PyObject_CallMethod(dict, "items", NULL), &dict_items_iterator_type);
    }
    keep_iterator_type(PyUnicode_FromString("a"), NULL);
    keep_iterator_type(PyUnicode_FromString("\xc3\xa9"), NULL);
    keep_iterator_type(PyBytes_FromString("a"), NULL);
    Py_XDECREF(list);
    Py_XDECREF(dict);
    if (PyErr_Occurred()) PyErr_Clear();
}

// The object on top of a frame's value stack while a trace function runs (which sets stacktop),
// or NULL when the stack is empty.
static inline PyObject *top_of_stack(const _PyInterpreterFrame *f) {
    int top = f->stacktop;
    return top > f->f_code->co_nlocalsplus ? f->localsplus[top - 1] : NULL;
}

// Whether an iterator's type is one of the plain ones (see plain_iterator_types).
static inline int plain_iterator(PyTypeObject *t) {
    for (int i = 0; i < plain_iterator_count; i++)
        if (t == plain_iterator_types[i]) return 1;
    return 0;
}

// Whether a `for` line entered at its FOR_ITER (see LineGuards) changed nothing in place: the
// frame is at the loop body's first instruction, so the step ran and did not end the loop, and
// the iterator it drew from, on top of the value stack, is a plain one; a value it unpacked was
// a tuple or list of the right length (UNPACK_SEQUENCE iterates anything else).
static int for_step_unchanged(const _PyInterpreterFrame *f, const LineGuards *g) {
    if (instruction_offset(f) != g->body_offset) return 0;
    PyObject *it = top_of_stack(f);
    if (!it) return 0;
    PyTypeObject *t = Py_TYPE(it);
    if (!g->unpack) return plain_iterator(t);
    if (t == dict_items_iterator_type) return g->unpack == 2;
    if (t != list_iterator_type && t != tuple_iterator_type) return 0;
    const SequenceIterator *s = (const SequenceIterator *)it;
    if (!s->it_seq || s->it_index < 1 || s->it_index > Py_SIZE(s->it_seq)) return 0;
    PyObject *item = t == list_iterator_type ? PyList_GET_ITEM(s->it_seq, s->it_index - 1) : PyTuple_GET_ITEM(s->it_seq, s->it_index - 1);
    PyTypeObject *it_type = Py_TYPE(item);
    return (it_type == &PyTuple_Type || it_type == &PyList_Type) && Py_SIZE(item) == g->unpack;
}

// Whether a frame at a line event is about to run its line's loop step (see LineGuards) on a
// plain iterator, one whose step runs no code and changes nothing but itself.
static inline int loop_step_from_plain_iterator(const Activation *a, const _PyInterpreterFrame *f) {
    const CodeInfo *ci = a->code;
    int k = a->last_line - ci->first_line;
    if (!ci->optimized || !ci->line_guards || k < 0 || k >= ci->nlines || ci->line_guards[k].for_offset != a->last_entry ||
        a->last_entry <= 0)
        return 0;
    PyObject *it = top_of_stack(f);
    return it && plain_iterator(Py_TYPE(it));
}

// How often another thread took the GIL (CPython counts it as threads take turns).
static inline unsigned long gil_switches(void) { return _PyRuntime.ceval.gil.switch_number; }

// Whether nothing can have changed in place since `a`'s previous event: the line it ran
// changes nothing by itself (see may_mutate), no Python code ran since (call_epoch counts
// calls), and no other thread held the GIL. Then only rebindings of its locals are news.
static inline int unchanged_since(const Activation *a, const _PyInterpreterFrame *f) {
    const CodeInfo *ci = a->code;
    if (a->epoch != call_epoch || a->switches != gil_switches() || !ci->line_mutates || ci->no_line_mutates) return 0;
    int k = a->last_line - ci->first_line;
    if (k < 0 || k >= ci->nlines) return 0;
    const LineGuards *g = ci->line_guards ? &ci->line_guards[k] : NULL;
    if (g && g->for_offset > 0) {
        // Entered at the step: it went on into the body, or ended the loop drawing from the
        // plain iterator its line event saw (which leaves only the iterator changed).
        if (a->last_entry == g->for_offset)
            return ci->optimized && (for_step_unchanged(f, g) || (a->plain_step && instruction_offset(f) == g->exit_offset));
        // Entered at the start of the line (the loop's first step): the rest of the line is
        // as any other's, and the step went on into the body.
        if ((ci->line_mutates[k] & 4) || !ci->optimized || !for_step_unchanged(f, g)) return 0;
    } else if (ci->line_mutates[k] & 1) {
        return 0;
    }
    if (!g) return 1;
    if ((g->containers | g->scalars | g->nested) &&
        (!ci->optimized || !slot_guards_hold(ci, f->localsplus, g->containers, g->scalars, g->nested)))
        return 0;
    return !g->builtins || builtins_hold(f, g->builtins);
}

// Module and class bodies keep their variables in a dict, not in fast locals.
static void check_dict_locals(ThreadRec *t, Activation *a, PyObject *d, int *count, int initial, int unchanged) {
    if (!d || !PyDict_Check(d)) return;
    uint64_t version = ((PyDictObject *)d)->ma_version_tag;
    if (version == a->dict_version && !initial) {
        if (unchanged) return;
        for (int i = 0; i < a->ndslots; i++) {
            DictSlot *s = &a->dslots[i];
            if (!s->mutable_ || !s->seen.ptr) continue;
            check_binding(t, count, s->name, s->seen.ptr, &s->seen, NULL, NULL);
        }
        return;
    }
    a->dict_version = version;
    uint64_t scan = ++a->dict_scans;
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(d, &pos, &k, &v)) {
        int hint = (int)pos - 1;
        DictSlot *s = NULL;
        if (hint < a->ndslots && a->dslots[hint].key == k) s = &a->dslots[hint];
        else {
            for (int i = 0; i < a->ndslots; i++)
                if (a->dslots[i].key == k) { s = &a->dslots[i]; break; }
        }
        if (!s) {
            if (skip_global(k, v)) continue;
            if (a->ndslots == a->dcap) {
                a->dcap = a->dcap ? a->dcap * 2 : 32;
                a->dslots = realloc(a->dslots, sizeof *a->dslots * (size_t)a->dcap);
                if (!a->dslots) abort();
            }
            s = &a->dslots[a->ndslots++];
            Py_INCREF(k);
            s->key = k;
            s->seen = (Seen){0};
            s->name = name_id(k);
        }
        s->scan = scan;
        s->mutable_ = !immutable_scalar(v);
        if (initial) {
            s->seen.ptr = v;
            s->seen.fp = pode_fingerprint(v, render_opts.limit, &s->seen.facts);
        } else {
            check_binding(t, count, s->name, v, &s->seen, NULL, NULL);
        }
    }
    // Keys gone from the dict were deleted (`del x`, the end of `except ... as e`): record that,
    // and never look at the object they held again (it may be freed).
    for (int i = 0; i < a->ndslots; i++) {
        DictSlot *s = &a->dslots[i];
        if (s->scan == scan || !s->seen.ptr) continue;
        if (!initial) check_binding(t, count, s->name, NULL, &s->seen, NULL, NULL);
        s->seen = (Seen){0};
    }
}

// Whether `bits` (CodeInfo.clean_calls or clean_returns) marks the CALL a caller frame is at:
// at the CALL itself or, as CPython 3.11 leaves it during the call, at the CALL's last cache
// entry (a cache entry belongs to one instruction, so neither can be mistaken).
static int call_marked(const CodeInfo *pc, const uint8_t *bits, int offset) {
    if (offset < 0) return 0;
    for (int back = 0; back <= INLINE_CACHE_ENTRIES_CALL; back += INLINE_CACHE_ENTRIES_CALL) {
        int u = offset / 2 - back;
        if (u >= 0 && u < pc->code_units && (bits[u / 8] & (1u << (u % 8)))) return 1;
    }
    return 0;
}

// Whether the new frame of a call event was called straight from `caller`'s CALL instruction at
// a point that its line reached changing nothing (see CodeInfo.clean_calls) since the caller's
// last check, which looked at every binding with no Python code run and no other thread in
// between: then whatever the caller binds is as that check saw it. Returns the caller, or NULL.
static const Activation *checked_caller(const Activation *caller, PyFrameObject *frame) {
    if (!caller || !caller->complete || caller->last_entry < 0 || caller->epoch + 1 != call_epoch ||
        caller->switches != gil_switches())
        return NULL;
    const CodeInfo *pc = caller->code;
    // (A caller with very many locals is not searched for each object the call binds.)
    if (!pc->optimized || !pc->clean_calls || pc->nslots > 128) return NULL;
    const _PyInterpreterFrame *f = frame->f_frame, *pf = caller->frame->f_frame;
    if (f->is_entry || f->previous != pf) return NULL;  // called from C code, which may have done anything
    return call_marked(pc, pc->clean_calls, instruction_offset(pf)) ? caller : NULL;
}

// After the return check of `a`, a Python function returning normally: notes it when it returns
// straight into its caller's CALL, after which the caller's line changes nothing in place (see
// CodeInfo.clean_returns), and that check looked at every binding. Until other Python code runs
// or another thread takes the GIL, every object its slots hold is as that check saw it.
static void note_return(ThreadRec *t, Activation *a) {
    t->returned = NULL;
    if (!a->complete || !a->code->optimized || a->code->genlike || a->code->nslots > 128 || t->n < 2) return;
    const Activation *caller = t->stack[t->n - 2];
    const CodeInfo *pc = caller->code;
    if (!pc->optimized || !pc->clean_returns || pc->nslots > 128) return;
    const _PyInterpreterFrame *f = a->frame->f_frame, *pf = caller->frame->f_frame;
    if (f->is_entry || f->previous != pf) return;  // returns into C code, which may do anything
    if (!call_marked(pc, pc->clean_returns, instruction_offset(pf))) return;
    t->returned = a;
    t->returned_to = caller;
    t->returned_epoch = call_epoch;
    t->returned_switches = gil_switches();
}

// The function noted by note_return, when `a` is its caller, no Python code ran and no other
// thread held the GIL since, and its activation is still intact; else NULL. Forgets it.
static const Activation *returned_callee(ThreadRec *t, const Activation *a) {
    Activation *r = t->returned;
    t->returned = NULL;
    return r && t->returned_to == a && t->returned_epoch == call_epoch && t->returned_switches == gil_switches() &&
                   t->free_list == r
               ? r : NULL;
}

// What the return check of `r` (see returned_callee) saw of `v`, when one of its slots held it.
static const Seen *returned_seen(const Activation *r, PyObject *v) {
    const CodeInfo *rc = r->code;
    for (int j = 0; j < rc->nslots; j++)
        if (r->slots[j].seen.ptr == v && r->slots[j].seen.fp && !(rc->slot_flags[j] & 1)) return &r->slots[j].seen;
    return NULL;
}

// The slot of `caller` that holds `v` now and held it at its last check, or -1.
static int caller_slot_of(const Activation *caller, PyObject *v) {
    const CodeInfo *pc = caller->code;
    PyObject **locals = caller->frame->f_frame->localsplus;
    for (int j = 0; j < pc->nslots; j++) {
        const Seen *had = &caller->slots[j].seen;
        if (had->ptr != v || !had->fp || (pc->slot_flags[j] & 1)) continue;
        PyObject *now = locals[j];
        if (now && (pc->slot_flags[j] & 2) && PyCell_Check(now)) now = PyCell_GET(now);
        if (now == v) return j;
    }
    return -1;
}

// The bindings of a new call: its arguments and free variables are recorded, any other bound
// local is taken as the starting state. With a checked caller (see checked_caller), an object
// the caller holds keeps the fingerprint that check made, provided every object the call binds
// is one the caller holds, an immutable scalar, or a tuple of scalars: a new reference into an
// object the caller holds would have to be bound here, so what the check found about sharing
// still holds (but for the new binding itself, looked at again).
static void bind_call(ThreadRec *t, Activation *a, const CodeInfo *ci, PyObject **locals, int *count, const Activation *from) {
    int n = ci->nslots;
    if (t->call_slot_cap < n) {
        free(t->call_slots);
        t->call_slot_cap = n < 32 ? 32 : n;
        if (!(t->call_slots = malloc(sizeof *t->call_slots * (size_t)t->call_slot_cap))) abort();
    }
    CallSlot *cs = t->call_slots;
    int reuse = from != NULL;
    for (int i = 0; i < n; i++) {
        cs[i].from = -1;
        cs[i].fp = 0;
        uint8_t fl = ci->slot_flags[i];
        PyObject *v = locals[i];
        if (v && (fl & 2) && PyCell_Check(v)) v = PyCell_GET(v);
        if ((fl & 1) || !v || !reuse || immutable_scalar(v)) continue;
        if ((cs[i].from = caller_slot_of(from, v)) >= 0) continue;
        if (PyTuple_CheckExact(v)) {
            cs[i].fp = pode_fingerprint(v, render_opts.limit, &cs[i].facts);
            if (!cs[i].facts.nested) continue;
        }
        reuse = 0;
    }
    for (int i = 0; i < n; i++) {
        uint8_t fl = ci->slot_flags[i];
        if (fl & 1) continue;
        PyObject *v = locals[i];
        if (v && (fl & 2) && PyCell_Check(v)) v = PyCell_GET(v);
        if (!v) continue;
        int recorded = i < ci->nargs || (fl & 4);  // arguments, and the free variables a closure sees
        if (recorded && t->values.len > MAX_EVENT_VALUE_BYTES) continue;  // reported at the next event instead
        Seen *seen = &a->slots[i].seen;
        if (reuse && cs[i].from >= 0) {
            *seen = from->slots[cs[i].from].seen;
            if (pode_referenced_elsewhere(v)) seen->facts.shared = 1;
        } else if (cs[i].fp) {
            *seen = (Seen){v, cs[i].fp, cs[i].facts};
        } else {
            seen->ptr = v;
            seen->fp = pode_fingerprint(v, render_opts.limit, &seen->facts);
        }
        if (recorded) put_value(t, count, ci->slot_names[i], v, 0, seen->facts.opaque ? 0 : seen->fp);
    }
}

// Whether storing attribute `name` (an exact str) of `o` the plain way can change nothing but
// `o`: its type stores attributes generically, no data descriptor but a __slots__ member takes
// the store, and its attribute dict, if it has one apart from it, is referenced by `o` alone
// (not by a variable, nor by another object sharing it).
static int plain_attribute_store(PyObject *o, PyObject *name) {
    PyTypeObject *t = Py_TYPE(o);
    if (t->tp_setattro != PyObject_GenericSetAttr || !PyUnicode_CheckExact(name)) return 0;
    PyObject *d = _PyType_Lookup(t, name);  // borrowed; runs no code
    if (d && Py_TYPE(d)->tp_descr_set && Py_TYPE(d) != &PyMemberDescr_Type) return 0;
    if (!(t->tp_flags & Py_TPFLAGS_MANAGED_DICT) && t->tp_dictoffset < 0) return 0;
    PyObject *dict = pode_instance_dict(o);
    return !dict || Py_REFCNT(dict) == 1;
}

// The objects a line may have changed, when it is one of CodeInfo.store_lines, no Python code
// ran since the frame's last check and its slots hold what the line needs: then nothing else
// changed. Returns how many (at most `room`), or -1 when the rule does not apply.
static int line_targets(const CodeInfo *ci, const Activation *a, PyObject *const *locals, PyObject *names, PyObject **out,
                        int room) {
    int k = a->last_line - ci->stores_first;
    if (k < 0 || k >= ci->stores_count) return -1;
    const struct StoreLine *sl = &ci->store_lines[k];
    if (!sl->targets) return -1;
    int n = 0;
    uint64_t all = sl->dicts | sl->lists | sl->sets | sl->anys | sl->strs | sl->objects;
    for (int i = 0; all; i++, all >>= 1) {
        if (!(all & 1)) continue;
        PyObject *v = i < ci->nslots ? locals[i] : NULL;
        if (v && (ci->slot_flags[i] & 2) && PyCell_Check(v)) v = PyCell_GET(v);
        if (!v) return -1;
        PyTypeObject *t = Py_TYPE(v);
        uint64_t bit = 1ull << i;
        int ok = (sl->dicts & bit) ? t == &PyDict_Type
               : (sl->lists & bit) ? t == &PyList_Type
               : (sl->sets & bit) ? t == &PySet_Type
               : (sl->anys & bit) ? t == &PyList_Type || t == &PySet_Type || t == &PyDict_Type
               : (sl->strs & bit) ? t == &PyUnicode_Type
               : 1;  // objects: their attributes below
        if (!ok) return -1;
        if (sl->targets & bit) {
            if (n == room) return -1;
            out[n++] = v;
        }
    }
    for (int j = 0; j < sl->nattrs; j++) {
        PyObject *v = locals[sl->attrs[j].slot];
        if ((ci->slot_flags[sl->attrs[j].slot] & 2) && PyCell_Check(v)) v = PyCell_GET(v);
        if (!PyTuple_Check(names) || sl->attrs[j].name >= (uint32_t)PyTuple_GET_SIZE(names) ||
            !plain_attribute_store(v, PyTuple_GET_ITEM(names, sl->attrs[j].name)))
            return -1;
    }
    return n;
}

// Records the locals of `a` that changed since its previous event. With `call`, records the
// bindings of a new call (see bind_call; `from`: its checked caller, or NULL).
static void collect_changes(ThreadRec *t, Activation *a, PyFrameObject *frame, int *count, int call, const Activation *from) {
    if (opts.no_values) return;
    CodeInfo *ci = a->code;
    _PyInterpreterFrame *f = frame->f_frame;
    if (!ci->optimized) {
        int unchanged = !call && unchanged_since(a, f);
        a->epoch = call_epoch;
        a->switches = gil_switches();
        check_dict_locals(t, a, f->f_locals, count, call, unchanged);
        return;
    }
    PyObject **locals = f->localsplus;
    // Unless other Python code ran since the last check, a container that the last line did not
    // name and that nothing else references is unchanged: skip its fingerprint.
    uint64_t refs = ~0ull;
    if (!call && a->epoch == call_epoch && ci->line_refs) {
        int k = a->last_line - ci->first_line;
        if (k >= 0 && k < ci->nlines) refs = ci->line_refs[k] | ci->no_line_refs;
    }
    int unchanged = !call && unchanged_since(a, f);
    // A line that changed nothing and kept no reference it loaded cannot have shared an
    // unshared object either: even the ones it named need no look.
    int kept_nothing = unchanged && !ci->no_line_keeps && !(ci->line_mutates[a->last_line - ci->first_line] & 2);
    // After a line that changed only some objects (see line_targets), a binding whose object is
    // none of them and showed nothing changeable inside is unchanged but for its sharing (a store
    // or a call may have put it in one of them).
    PyObject *targets[8];
    int ntargets = !call && !unchanged && ci->store_lines && a->epoch == call_epoch && a->switches == gil_switches()
                       ? line_targets(ci, a, locals, f->f_code->co_names, targets, 8) : -1;
    // The slots the last line binds (all of them when unknown).
    int kb = a->last_line - ci->binds_first;
    uint64_t rebound = ci->line_binds && kb >= 0 && kb < ci->binds_count ? ci->line_binds[kb] : ~0ull;
    // Whether the checks after this line have lately rendered what they found (see check_binding).
    int kr = a->last_line - ci->first_line;
    uint8_t *renders = ci->line_renders && kr >= 0 && kr < ci->nlines ? &ci->line_renders[kr] : NULL;
    // Just after a Python function returned here (see returned_callee), an object one of its
    // slots held, in a slot this line does not bind, is as its return check saw it.
    const Activation *r = call ? NULL : returned_callee(t, a);
    a->epoch = call_epoch;
    a->switches = gil_switches();
    if (call) {
        bind_call(t, a, ci, locals, count, from);
        a->complete = t->values.len <= MAX_EVENT_VALUE_BYTES;
        return;
    }
    // After a line that changed nothing in place, with the last check complete, only the slots
    // the line binds can hold another object, and only those it names another reference: look
    // at those alone (`look`, one bit per slot; all of them otherwise).
    uint64_t look = ~0ull;
    if (unchanged && a->complete && rebound != ~0ull) {
        look = rebound | ci->no_line_binds | (kept_nothing ? 0 : refs);
        if (look & slot_bit(63)) look = ~0ull;
    }
    for (int i = -1, n = ci->nslots;;) {
        if (look == ~0ull) {
            if (++i >= n) break;
        } else {
            if (!look) break;
            i = __builtin_ctzll(look);
            look &= look - 1;
            if (i >= n) break;
        }
        uint8_t fl = ci->slot_flags[i];
        if (fl & 1) continue;
        PyObject *v = locals[i];
        if (v && (fl & 2) && PyCell_Check(v)) v = PyCell_GET(v);
        Slot *s = &a->slots[i];
        // A shared local is skipped only after a line that changed nothing in place; an
        // unshared one also when its line did not name it (a line that names it may have made
        // another reference to it, which its next fingerprint must see).
        if (v == s->seen.ptr) {
            if (s->seen.facts.shared ? unchanged : !(refs & slot_bit(i)) || (unchanged && kept_nothing)) continue;
            // An unshared object its line named, after a line that changed nothing in place:
            // the line may only have made another reference to it, which shows in its own
            // count when nothing that can change is inside it (only scalars and tuples of
            // them, whose new references change nothing); else the next fingerprint must look.
            if (unchanged && !s->seen.facts.changeable && s->seen.fp) {
                if (!immutable_scalar(v)) s->seen.facts.shared = pode_referenced_elsewhere(v);
                continue;
            }
            if (ntargets >= 0 && s->seen.fp && !s->seen.facts.changeable) {
                int target = 0;
                for (int j = 0; j < ntargets; j++) target |= targets[j] == v;
                if (!target) {
                    if (!immutable_scalar(v) && pode_referenced_elsewhere(v)) s->seen.facts.shared = 1;
                    continue;
                }
            }
        }
        const Seen *known = NULL;
        Seen returned;
        // (Not looked up for an object that cannot have changed, which check_binding passes over.)
        if (r && v && !(rebound & slot_bit(i)) && !immutable_scalar(v) &&
            !(v == s->seen.ptr && s->seen.fp && cannot_have_changed(v, &s->seen)) && (known = returned_seen(r, v))) {
            // Its check counted the callee's own reference; with nothing inside, the object's
            // own count says whether it is shared now.
            returned = *known;
            if (!returned.facts.nested) returned.facts.shared = pode_referenced_elsewhere(v);
            known = &returned;
        }
        check_binding(t, count, ci->slot_names[i], v, &s->seen, known, renders);
    }
    a->complete = t->values.len <= MAX_EVENT_VALUE_BYTES;
}

// ---- event times ------------------------------------------------------------------------------
// Reading CLOCK_MONOTONIC costs about as much as a tenth of an event. On x86-64 with an
// invariant TSC, event times come from the TSC instead, scaled to that clock (the scale measured
// from the first event on) and anchored to it again every 1024 events; times never go backwards.
// Elsewhere, and until the scale is known, every event reads the clock. Touched under the GIL.
#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
static struct {
    uint64_t tsc0, ns0;  // the first reading
    uint64_t tsc, ns;    // the last anchor
    uint64_t last;       // the last time given out
    double scale;        // ns per tick
    uint64_t mult;       // the same, as a 32.32 fixed-point number (what each event multiplies by)
    int until_anchor;
    int checked, invariant, usable;
} event_clock;

static uint64_t event_clock_anchor(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec, tsc = __rdtsc();
    if (!event_clock.checked) {
        unsigned a, b, c, d;
        event_clock.invariant = __get_cpuid(0x80000007, &a, &b, &c, &d) && (d & (1u << 8));
        event_clock.checked = 1;
    }
    if (event_clock.invariant) {
        if (!event_clock.tsc0) {
            event_clock.tsc0 = tsc;
            event_clock.ns0 = ns;
        } else if (tsc > event_clock.tsc0 && ns >= event_clock.ns0 + 1000000) {
            event_clock.scale = (double)(ns - event_clock.ns0) / (double)(tsc - event_clock.tsc0);
            event_clock.usable = event_clock.scale > 0.0 && event_clock.scale < 100.0;
            event_clock.mult = (uint64_t)(event_clock.scale * 4294967296.0);
        }
    }
    event_clock.tsc = tsc;
    event_clock.ns = ns;
    event_clock.until_anchor = 1024;
    if (ns < event_clock.last) ns = event_clock.last;
    event_clock.last = ns;
    return ns;
}

static inline uint64_t event_time_ns(void) {
    if (!event_clock.usable || --event_clock.until_anchor <= 0) return event_clock_anchor();
    uint64_t tsc = __rdtsc();
    uint64_t ns = event_clock.ns;
    if (tsc > event_clock.tsc) ns += (uint64_t)(((unsigned __int128)(tsc - event_clock.tsc) * event_clock.mult) >> 32);
    if (ns < event_clock.last) ns = event_clock.last;
    event_clock.last = ns;
    return ns;
}
#else
static inline uint64_t event_time_ns(void) { return pode_monotonic_ns(); }
#endif

// ---- events -------------------------------------------------------------------------------------
// Writes `v` as a varint at `p` (at most 10 bytes); returns the end.
static inline uint8_t *put_varint(uint8_t *p, uint64_t v) {
    while (v >= 0x80) { *p++ = (uint8_t)(v | 0x80); v >>= 7; }
    *p++ = (uint8_t)v;
    return p;
}

static void emit(ThreadRec *t, uint8_t kind, Activation *a, int line, const Activation *caller, int nvalues, int vline) {
    uint8_t head[10 * 9], *p = head;  // the header's nine varints at most, written in place
    if (!a->id) a->id = next_seq;  // a frame that was running when this process forked (see after_fork_child)
    p = put_varint(p, t->index);
    p = put_varint(p, a->id);
    p = put_varint(p, a->code->id);
    p = put_varint(p, (uint64_t)(line < 0 ? 0 : line));
    p = put_varint(p, a->depth);
    if (kind == EV_CALL || kind == EV_RESUME) {
        p = put_varint(p, caller ? caller->id : 0);
        p = put_varint(p, (uint64_t)(caller && caller->last_line > 0 ? caller->last_line : 0));
    }
    p = put_varint(p, (uint64_t)nvalues);
    if (nvalues) p = put_varint(p, (uint64_t)(vline < 0 ? 0 : vline));
    uint64_t seq = next_seq++;
    pode_ring_put(kind, seq, event_time_ns(), head, (size_t)(p - head), t->values.data, nvalues ? t->values.len : 0);
    __atomic_store_n(&event_count, seq, __ATOMIC_RELAXED);  // seq counts events from 1
}

// The activation of `frame` on this thread, created on the spot for a frame that was already
// running when recording began (or whose call happened out of view).
static Activation *current(ThreadRec *t, PyFrameObject *frame, CodeInfo *ci) {
    if (t->n && t->stack[t->n - 1]->frame == frame) return t->stack[t->n - 1];
    for (int i = t->n - 2; i >= 0; i--) {
        if (t->stack[i]->frame != frame) continue;
        while (t->n - 1 > i) activation_free(t, t->stack[--t->n]);
        return t->stack[i];
    }
    Activation *a = activation_new(t, frame, ci);
    push(t, a);
    int unused = 0;
    t->values.len = 0;
    collect_changes(t, a, frame, &unused, 1, NULL);
    t->values.len = 0;  // the starting state is not an event's values
    a->last_line = PyFrame_GetLineNumber(frame);
    return a;
}

// Records one event. `chained`: the program has a trace function of its own, which must still
// see every line of every frame.
static void record_event(PyFrameObject *frame, int what, PyObject *arg, int chained) {
    if (what != PyTrace_CALL && what != PyTrace_LINE && what != PyTrace_RETURN && what != PyTrace_EXCEPTION) return;
    if (what == PyTrace_CALL) call_epoch++;
    PyCodeObject *code = frame->f_frame->f_code;
    CodeInfo *ci = code_info(code);
    if (!ci || !ci->in_scope) {
        if (what == PyTrace_CALL && !chained) frame->f_trace_lines = 0;
        return;
    }
    ThreadRec *t = thread_rec();
    if ((void *)t != last_thread) {
        last_thread = t;
        call_epoch++;
    }
    int nvalues = 0;
    t->values.len = 0;
    switch (what) {
    case PyTrace_CALL: {
        const Activation *caller = t->n ? t->stack[t->n - 1] : NULL;
        Activation *a = ci->genlike ? gen_take(frame) : NULL;
        int line = PyFrame_GetLineNumber(frame);
        if (a) {
            push(t, a);
            emit(t, EV_RESUME, a, line, caller, 0, 0);
            a->last_line = line;
            a->last_entry = -1;
            break;
        }
        a = activation_new(t, frame, ci);
        push(t, a);
        collect_changes(t, a, frame, &nvalues, 1, checked_caller(caller, frame));
        emit(t, EV_CALL, a, line, caller, nvalues, line);
        a->last_line = line;
        a->last_entry = -1;
        break;
    }
    case PyTrace_LINE: {
        Activation *a = current(t, frame, ci);
        int line = PyFrame_GetLineNumber(frame);
        collect_changes(t, a, frame, &nvalues, 0, NULL);
        emit(t, EV_LINE, a, line, NULL, nvalues, a->last_line);
        a->last_line = line;
        a->last_entry = instruction_offset(frame->f_frame);
        a->plain_step = loop_step_from_plain_iterator(a, frame->f_frame);
        break;
    }
    case PyTrace_RETURN: {
        Activation *a = current(t, frame, ci);
        int line = PyFrame_GetLineNumber(frame);
        collect_changes(t, a, frame, &nvalues, 0, NULL);
        int vline = a->last_line;
        int yielded = ci->genlike && arg && frame->f_frame->prev_instr &&
                      _Py_OPCODE(*frame->f_frame->prev_instr) == YIELD_VALUE;
        if (arg && !opts.no_values) {
            put_value(t, &nvalues, yielded ? NAME_YIELD : NAME_RETURN, arg, 0, 0);
            vline = line;
        }
        emit(t, yielded ? EV_YIELD : EV_RETURN, a, line, NULL, nvalues, vline);
        if (arg && !yielded && !opts.no_values) note_return(t, a);
        t->n--;
        if (yielded) gen_put(frame, a);
        else activation_free(t, a);
        break;
    }
    case PyTrace_EXCEPTION: {
        Activation *a = current(t, frame, ci);
        int line = PyFrame_GetLineNumber(frame);
        collect_changes(t, a, frame, &nvalues, 0, NULL);
        int vline = a->last_line;
        if (!opts.no_values && arg && PyTuple_Check(arg) && PyTuple_GET_SIZE(arg) >= 2) {
            PyObject *value = PyTuple_GET_ITEM(arg, 1);
            if (value && value != Py_None) { put_value(t, &nvalues, NAME_EXCEPTION, value, 0, 0); vline = line; }
        }
        emit(t, EV_EXCEPTION, a, line, NULL, nvalues, vline);
        a->last_entry = -1;
        break;
    }
    }
    if (PyErr_Occurred()) PyErr_Clear();
}

// ---- the program's own trace functions --------------------------------------------------------
// A program may trace itself (doctest, pdb.set_trace, coverage tools): sys.settrace and
// threading.settrace are replaced so that its trace function runs after pode's hook, exactly as
// Python would run it, while pode keeps recording. sys.gettrace and threading.gettrace answer
// what the program set.
static Py_tracefunc python_trampoline;  // CPython's own caller of Python-level trace functions
static PyObject *marker_hook;           // threading._trace_hook while pode records: new threads call sys.settrace with it
static PyObject *program_thread_hook;   // what the program passed to threading.settrace, or NULL

static void install_trace(PyObject *f);

static _Thread_local int in_hook;            // this thread is inside pode's recording (and may hold the ring's lock)
static volatile sig_atomic_t deferred_signal;  // a fatal signal that arrived there: handled as the hook returns
static void finish_then_die(int sig);

// The C trace hook. `obj` is the program's own trace function, or NULL.
static int trace(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg) {
    if (recording) {
        in_hook = 1;
        record_event(frame, what, arg, obj != NULL);
        in_hook = 0;
        if (deferred_signal) finish_then_die(deferred_signal);
    }
    if (!obj || !python_trampoline) return 0;
    int rc = python_trampoline(obj, frame, what, arg);
    // The program's trace function is Python code that ran with no event of its own: whatever
    // it changed, no shortcut may take an earlier check for the state now (see call_epoch).
    call_epoch++;
    if (rc < 0 && recording) {
        // The program's trace function raised: Python drops it, and with it every hook; the
        // exception goes on as without pode, and pode goes on recording.
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        install_trace(NULL);
        PyErr_Restore(type, value, tb);
    }
    return rc;
}

// Sets this thread's trace function as sys.settrace(f) would, with pode's hook in front of it.
static void install_trace(PyObject *f) {
    if (f == marker_hook) f = program_thread_hook;  // a new Thread starting (threading's _bootstrap_inner)
    if (f == Py_None) f = NULL;
    if (recording) PyEval_SetTrace(trace, f);
    else PyEval_SetTrace(f ? python_trampoline : NULL, f);
}

static PyObject *sys_settrace(PyObject *self, PyObject *f) {
    (void)self;
    install_trace(f);
    if (PyErr_Occurred()) return NULL;
    Py_RETURN_NONE;
}

static PyObject *threading_settrace(PyObject *self, PyObject *f) {
    (void)self;
    Py_XSETREF(program_thread_hook, f == Py_None ? NULL : Py_NewRef(f));
    Py_RETURN_NONE;
}

static PyObject *threading_gettrace(PyObject *self, PyObject *unused) {
    (void)self; (void)unused;
    return Py_NewRef(program_thread_hook ? program_thread_hook : Py_None);
}

// Only ever called if a thread bypasses sys.settrace: it swaps itself for the C hook.
static PyObject *thread_hook(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *frame = NULL, *event = NULL, *arg = NULL;
    if (!PyArg_ParseTuple(args, "OOO", &frame, &event, &arg)) { PyErr_Clear(); Py_RETURN_NONE; }
    install_trace(marker_hook);
    if (PyFrame_Check(frame) && PyUnicode_Check(event) && PyUnicode_CompareWithASCIIString(event, "call") == 0)
        trace(program_thread_hook, (PyFrameObject *)frame, PyTrace_CALL, Py_None);
    Py_RETURN_NONE;
}

static PyMethodDef thread_hook_def = {"_pode_thread_hook", thread_hook, METH_VARARGS, "pode: records this thread."};
static PyMethodDef sys_settrace_def = {"settrace", sys_settrace, METH_O,
    "settrace(function)\n--\n\nSet the global debug tracing function (pode records underneath it)."};
static PyMethodDef threading_settrace_def = {"settrace", threading_settrace, METH_O,
    "Set a trace function for all threads started from the threading module."};
static PyMethodDef threading_gettrace_def = {"gettrace", threading_gettrace, METH_NOARGS,
    "Get the trace function as set by threading.settrace()."};

// Learns CPython's trampoline (by letting the real sys.settrace install it once), points
// threading at pode's marker, and puts pode's sys.settrace, threading.settrace and
// threading.gettrace in place. Returns -1 with an error set on failure.
static int replace_settrace(void) {
    marker_hook = PyCFunction_New(&thread_hook_def, NULL);
    if (!marker_hook) return -1;
    PyObject *real = PySys_GetObject("settrace");  // borrowed
    PyObject *r = real ? PyObject_CallOneArg(real, marker_hook) : NULL;
    if (!r) return -1;
    Py_DECREF(r);
    python_trampoline = PyThreadState_Get()->c_tracefunc;
    PyEval_SetTrace(NULL, NULL);

    PyObject *threading = PyImport_ImportModule("threading");
    if (!threading) return -1;
    r = PyObject_CallMethod(threading, "settrace", "O", marker_hook);
    int ok = r != NULL;
    Py_XDECREF(r);
    PyObject *f1 = ok ? PyCFunction_New(&sys_settrace_def, NULL) : NULL;
    PyObject *f2 = f1 ? PyCFunction_New(&threading_settrace_def, NULL) : NULL;
    PyObject *f3 = f2 ? PyCFunction_New(&threading_gettrace_def, NULL) : NULL;
    ok = f3 && PySys_SetObject("settrace", f1) == 0 && PyObject_SetAttrString(threading, "settrace", f2) == 0 &&
         PyObject_SetAttrString(threading, "gettrace", f3) == 0;
    Py_XDECREF(f1); Py_XDECREF(f2); Py_XDECREF(f3);
    Py_DECREF(threading);
    return ok ? 0 : -1;
}

// ---- ends that skip the interpreter's finalization -------------------------------------------
// SIGTERM and SIGHUP kill python3 at once (their default action), and os._exit skips atexit:
// either would leave the last events in the ring. pode finishes the trace first, then ends the
// process the same way.
static int signal_pipe[2] = {-1, -1}, ack_pipe[2] = {-1, -1};
static PyObject *real_os_exit;

static _Thread_local int in_finish;  // this thread is finishing the trace (see on_fatal_signal)

static void finish_trace(void) {
    in_finish = 1;
    pode_recorder_stop();
    if (finalize_callback) finalize_callback();
    in_finish = 0;
    int sig = deferred_signal;
    if (sig) {
        // A fatal signal that arrived while this thread finished the trace: now it may end the process.
        deferred_signal = 0;
        signal(sig, SIG_DFL);
        raise(sig);
    }
}


// Async-signal-safe: hands the signal to the finisher thread, waits until the trace is done,
// then ends the process by the signal's default action.
static void finish_then_die(int sig) {
    if (getpid() == recorder_pid && signal_pipe[1] >= 0) {
        unsigned char b = (unsigned char)sig;
        if (write(signal_pipe[1], &b, 1) == 1) {
            char c;
            while (read(ack_pipe[0], &c, 1) < 0 && errno == EINTR) {}
        }
    }
    signal(sig, SIG_DFL);
    raise(sig);  // delivered at once, or as the handler returns: the process ends as python3's would
}

static void on_fatal_signal(int sig) {
    int saved = errno;
    // The ring may be mid-update on this thread, or this thread is finishing the trace already.
    if (in_hook || in_finish) deferred_signal = sig;
    else finish_then_die(sig);
    errno = saved;
}

static void *finisher(void *unused) {
    (void)unused;
    pode_recorder_begin_own_thread("pode-signals");
    unsigned char b;
    while (read(signal_pipe[0], &b, 1) < 0 && errno == EINTR) {}
    finish_trace();
    char c = 1;
    while (write(ack_pipe[1], &c, 1) < 0 && errno == EINTR) {}
    return NULL;
}

int pode_high_fd_floor(void) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 64;
    rlim_t half = limit.rlim_cur / 2;
    return half < 16 ? 16 : half > 512 ? 512 : (int)half;
}

// Moves a descriptor pode keeps to pode_high_fd_floor() or above (see there).
static int move_high(int fd) {
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, pode_high_fd_floor());
    if (moved < 0) return fd;
    close(fd);
    return moved;
}

void pode_recorder_begin_own_thread(const char *name) {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    char short_name[16];
    snprintf(short_name, sizeof short_name, "%s", name);
    pthread_setname_np(pthread_self(), short_name);
}

void pode_recorder_lower_thread_priority(int steps) {
    id_t tid = (id_t)syscall(SYS_gettid);
    errno = 0;
    int nice_now = getpriority(PRIO_PROCESS, tid);
    if (errno == 0) setpriority(PRIO_PROCESS, tid, nice_now + steps);  // best effort: failure leaves it as it was
}

// Starts the thread that finishes the trace for a fatal signal (see finish_then_die).
static int start_finisher(void) {
    if (pipe2(signal_pipe, O_CLOEXEC) != 0 || pipe2(ack_pipe, O_CLOEXEC) != 0) return -1;
    for (int i = 0; i < 2; i++) {
        signal_pipe[i] = move_high(signal_pipe[i]);
        ack_pipe[i] = move_high(ack_pipe[i]);
    }
    pthread_t t;
    if (pthread_create(&t, NULL, finisher, NULL) != 0) return -1;
    pthread_detach(t);
    return 0;
}

// Installs the handler for signals whose default action ends the process, where python3 left
// that default in place (not where the signal is ignored, as under nohup).
static void catch_fatal_signals(void) {
    if (start_finisher() != 0) return;
    static const int sigs[] = {SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL) continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal_signal;
        sigfillset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

static PyObject *os_exit(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    static char *names[] = {"status", NULL};
    int status;
    if (PyArg_ParseTupleAndKeywords(args, kwargs, "i:_exit", names, &status) && getpid() == recorder_pid && recording) {
        finish_trace();
        if (exit_status_callback) exit_status_callback(status);
    }
    PyErr_Clear();
    return PyObject_Call(real_os_exit, args, kwargs);  // the real one: it ends the process (or raises as python3 would)
}

static PyMethodDef os_exit_def = {"_exit", (PyCFunction)(void (*)(void))os_exit, METH_VARARGS | METH_KEYWORDS,
    "Exit to the system with specified status, without normal exit processing."};

static int replace_os_exit(void) {
    PyObject *os = PyImport_ImportModule("os");
    if (!os) return -1;
    real_os_exit = PyObject_GetAttrString(os, "_exit");
    PyObject *f = real_os_exit ? PyCFunction_New(&os_exit_def, NULL) : NULL;
    int ok = f && PyObject_SetAttrString(os, "_exit", f) == 0;
    Py_XDECREF(f);
    Py_DECREF(os);
    return ok ? 0 : -1;
}

// os.execv and os.execve (every os.exec* ends in one of them) replace the program: its trace
// is finished first, or the events still in the ring would be lost with the process image.
static PyObject *real_os_execv, *real_os_execve;
static void (*exec_callback)(const char *path);

static PyObject *os_exec(PyObject *real, PyObject *args) {
    PyObject *path = PyTuple_GET_SIZE(args) > 0 ? PyTuple_GET_ITEM(args, 0) : NULL;
    PyObject *bytes = NULL;
    const char *p = NULL;
    if (path && PyUnicode_Check(path) && PyUnicode_FSConverter(path, &bytes)) p = PyBytes_AS_STRING(bytes);
    else if (path && PyBytes_Check(path)) p = PyBytes_AS_STRING(path);
    PyErr_Clear();
    // Only when the exec can succeed: a failing one raises, and the program goes on recorded.
    if (p && access(p, X_OK) == 0 && getpid() == recorder_pid && recording) {
        finish_trace();
        if (exec_callback) exec_callback(p);
    }
    Py_XDECREF(bytes);
    return PyObject_Call(real, args, NULL);
}

static PyObject *os_execv(PyObject *self, PyObject *args) { (void)self; return os_exec(real_os_execv, args); }
static PyObject *os_execve(PyObject *self, PyObject *args) { (void)self; return os_exec(real_os_execve, args); }

static PyMethodDef os_execv_def = {"execv", os_execv, METH_VARARGS, "Execute an executable path with arguments, replacing current process."};
static PyMethodDef os_execve_def = {"execve", os_execve, METH_VARARGS, "Execute an executable path with arguments, replacing current process."};

static int replace_os_exec(void) {
    PyObject *os = PyImport_ImportModule("os");
    if (!os) return -1;
    real_os_execv = PyObject_GetAttrString(os, "execv");
    real_os_execve = PyObject_GetAttrString(os, "execve");
    PyObject *v = real_os_execv ? PyCFunction_New(&os_execv_def, NULL) : NULL;
    PyObject *ve = real_os_execve ? PyCFunction_New(&os_execve_def, NULL) : NULL;
    int ok = v && ve && PyObject_SetAttrString(os, "execv", v) == 0 && PyObject_SetAttrString(os, "execve", ve) == 0;
    Py_XDECREF(v);
    Py_XDECREF(ve);
    Py_DECREF(os);
    return ok ? 0 : -1;
}

void pode_recorder_set_exec_callback(void (*on_exec)(const char *path)) { exec_callback = on_exec; }

// ---- forks ----------------------------------------------------------------------------------
// A forked child records into a part of its own (the Swift callback makes it): its events are
// numbered from 1 again, and the frames it inherited get new numbers at their first event there.
static int (*fork_child_callback)(int64_t parent_pid, uint64_t fork_seq);
static uint64_t fork_seq;
static int fork_recorded;  // the forking process was recording
static pid_t fork_parent;

static void (*fork_hold_callback)(void);
static void (*fork_release_callback)(void);

void pode_recorder_set_fork_gate(void (*hold)(void), void (*release)(void)) {
    fork_hold_callback = hold;
    fork_release_callback = release;
}

static void before_fork(void) {
    // First, while pode's threads may still need the ring to reach the place where they stop.
    if (fork_hold_callback) fork_hold_callback();
    fork_recorded = recording && getpid() == recorder_pid;
    fork_seq = next_seq;
    fork_parent = getpid();
    pode_ring_before_fork();
}

static void after_fork_parent(void) {
    pode_ring_after_fork_parent();
    if (fork_release_callback) fork_release_callback();
}

static void after_fork_child(void) {
    // Nothing is recorded until the child's part exists (after_fork_in_child): the writer
    // thread does not exist here.
    recording = 0;
    pode_ring_after_fork_child();
    next_seq = 1;
    __atomic_store_n(&event_count, 0, __ATOMIC_RELAXED);
    call_epoch++;
    last_thread = NULL;
    if (tls)
        for (int i = 0; i < tls->n; i++) tls->stack[i]->id = 0;
    for (size_t i = 0; i < gens.cap; i++)
        if (gens.keys[i] && gens.vals[i]) gens.vals[i]->id = 0;
}

// os.register_at_fork(after_in_child=...): Python's state is whole again here.
static PyObject *after_fork_in_child(PyObject *self, PyObject *unused) {
    (void)self; (void)unused;
    if (!fork_recorded || !fork_child_callback) Py_RETURN_NONE;
    // A SIGTERM or SIGHUP while the child's part is being made (a pool ending a worker that is
    // still starting) waits until the part exists, so that the child still finishes it.
    sigset_t fatal, old;
    sigemptyset(&fatal);
    sigaddset(&fatal, SIGTERM);
    sigaddset(&fatal, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &fatal, &old);
    if (fork_child_callback((int64_t)fork_parent, fork_seq) == 0) {
        recorder_pid = getpid();
        stopped = 0;
        for (int i = 0; i < 2; i++) {
            if (signal_pipe[i] >= 0) close(signal_pipe[i]);
            if (ack_pipe[i] >= 0) close(ack_pipe[i]);
            signal_pipe[i] = ack_pipe[i] = -1;
        }
        start_finisher();
        recording = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    Py_RETURN_NONE;
}

static PyMethodDef after_fork_def = {"_pode_after_fork_in_child", after_fork_in_child, METH_NOARGS,
    "pode: records a forked child into its own part of the trace."};

static int register_fork_hook(void) {
    PyObject *os = PyImport_ImportModule("os");
    PyObject *reg = os ? PyObject_GetAttrString(os, "register_at_fork") : NULL;
    PyObject *f = reg ? PyCFunction_New(&after_fork_def, NULL) : NULL;
    PyObject *args = f ? PyTuple_New(0) : NULL;
    PyObject *kwargs = args ? Py_BuildValue("{s:O}", "after_in_child", f) : NULL;
    PyObject *r = kwargs ? PyObject_Call(reg, args, kwargs) : NULL;
    int ok = r != NULL;
    Py_XDECREF(r); Py_XDECREF(kwargs); Py_XDECREF(args); Py_XDECREF(f); Py_XDECREF(reg); Py_XDECREF(os);
    PyErr_Clear();
    return ok ? 0 : -1;
}

void pode_recorder_set_fork_callback(int (*on_fork_child)(int64_t parent_pid, uint64_t fork_seq)) {
    fork_child_callback = on_fork_child;
}

// ---- life cycle -----------------------------------------------------------------------------

void pode_recorder_abandon(void) {
    recording = 0;
}

void pode_recorder_stop(void) {
    if (stopped) return;
    stopped = 1;
    recording = 0;
    pode_ring_close();
}

static void at_finalize(void) {
    if (getpid() == recorder_pid) finish_trace();
}

static void at_exit_status(int status, void *arg) {
    (void)arg;
    if (getpid() != recorder_pid) return;
    if (exit_status_callback) exit_status_callback(status);
}

void pode_recorder_set_callbacks(void (*on_finalize)(void), void (*on_exit_status)(int status)) {
    finalize_callback = on_finalize;
    exit_status_callback = on_exit_status;
}

void pode_python_initialize(const char *program_name, int argc, char *const *argv) {
    PyStatus status;
    PyPreConfig pre;
    PyPreConfig_InitPythonConfig(&pre);
    status = Py_PreInitializeFromBytesArgs(&pre, argc, (char **)argv);
    if (PyStatus_Exception(status)) Py_ExitStatusException(status);

    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.parse_argv = 1;
    status = PyConfig_SetBytesString(&config, &config.program_name, program_name);
    if (!PyStatus_Exception(status)) status = PyConfig_SetBytesArgv(&config, argc, (char **)argv);
    if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) Py_ExitStatusException(status);
}

static char **copy_strings(const char *const *src, int n) {
    char **out = calloc((size_t)n + 1, sizeof *out);
    if (!out) abort();
    for (int i = 0; i < n; i++) out[i] = strdup(src[i]);
    return out;
}

// Library directories (stdlib, site-packages) are out of the default scope.
static int load_library_prefixes(char *err, size_t err_len) {
    static const char *script =
        "import os, site, sys, sysconfig\n"
        "_p = set()\n"
        "for _k in ('stdlib', 'platstdlib', 'purelib', 'platlib'):\n"
        "    _v = sysconfig.get_paths().get(_k)\n"
        "    if _v: _p.add(_v)\n"
        "try:\n"
        "    _p.update(site.getsitepackages())\n"
        "    _p.add(site.getusersitepackages())\n"
        "except Exception:\n"
        "    pass\n"
        "_p.update(x for x in sys.path if x.endswith(('site-packages', 'dist-packages')))\n"
        "_pode_prefixes = sorted({os.path.normpath(y) for x in _p for y in (x, os.path.realpath(x))})\n";
    PyObject *globals = PyDict_New();
    if (!globals) { PyErr_Clear(); snprintf(err, err_len, "out of memory"); return -1; }
    PyObject *builtins = PyEval_GetBuiltins();
    PyDict_SetItemString(globals, "__builtins__", builtins);
    PyObject *r = PyRun_String(script, Py_file_input, globals, globals);
    if (!r) {
        PyErr_Clear();
        Py_DECREF(globals);
        snprintf(err, err_len, "could not read the interpreter's library directories (sysconfig failed)");
        return -1;
    }
    Py_DECREF(r);
    PyObject *list = PyDict_GetItemString(globals, "_pode_prefixes");
    Py_ssize_t n = list ? PyList_Size(list) : 0;
    lib_prefixes = calloc((size_t)n + 1, sizeof *lib_prefixes);
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *s = PyUnicode_AsUTF8(PyList_GET_ITEM(list, i));
        if (s) lib_prefixes[lib_prefix_count++] = strdup(s);
    }
    Py_DECREF(globals);
    PyErr_Clear();
    return 0;
}

int pode_recorder_start(const PodeRecorderOptions *options, char *err, size_t err_len) {
    opts = *options;
    include_globs = copy_strings(options->include_globs, options->include_count);
    exclude_globs = copy_strings(options->exclude_globs, options->exclude_count);
    opts.include_globs = NULL;
    opts.exclude_globs = NULL;
    render_opts.limit = options->value_limit ? options->value_limit : 256;
    if (render_opts.limit > 65536) render_opts.limit = 65536;
    render_opts.repr_full = options->repr_full;
    if (getcwd(cwd_prefix, sizeof cwd_prefix - 2)) strcat(cwd_prefix, "/");
    else cwd_prefix[0] = 0;

    if (pode_ring_init(err, err_len) != 0) return -1;
    if (!opts.record_all && load_library_prefixes(err, err_len) != 0) return -1;
    code_extra_index = _PyEval_RequestCodeExtraIndex(free_code_info);
    if (code_extra_index < 0) {
        PyErr_Clear();
        snprintf(err, err_len, "the interpreter has no free code-object slot for the recorder");
        return -1;
    }

    // Threads started through `threading` get the hook; so does this (the main) thread.
    if (replace_settrace() != 0 || replace_os_exit() != 0 || replace_os_exec() != 0 || register_fork_hook() != 0) {
        PyErr_Clear();
        snprintf(err, err_len, "could not install the thread hook (sys.settrace or threading.settrace failed)");
        return -1;
    }
    load_pure_builtins();
    load_plain_iterators();
    recorder_pid = getpid();
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
    Py_AtExit(at_finalize);
    on_exit(at_exit_status, NULL);
    recording = 1;
    catch_fatal_signals();
    PyEval_SetTrace(trace, NULL);
    return 0;
}

int pode_python_run_main(void) {
    return Py_RunMain();
}
