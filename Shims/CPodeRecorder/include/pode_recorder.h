// pode_recorder.h - the recorder's C edge: embedding CPython and the trace hook.
//
// Why this exists: the trace function runs for every event of the recorded program, so it is C.
// It writes compact binary events into a bounded ring of chunks (one producer: whichever thread
// holds the GIL) that a writer thread in Swift drains to disk. Nothing in this header needs
// Python.h, and no Python error is ever left pending when a function here returns.
#ifndef PODE_RECORDER_H
#define PODE_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// What to record; filled by Swift from the command line.
typedef struct PodeRecorderOptions {
    int record_all;             ///< record library and stdlib code too (--all)
    int repr_full;              ///< call objects' own __repr__, guarded (--repr=full)
    int no_values;              ///< record events only, no values (--no-values)
    uint32_t value_limit;       ///< bytes per rendered value (--max-value)
    const char *const *include_globs;  ///< file globs always in scope
    int include_count;
    const char *const *exclude_globs;  ///< file globs never in scope (wins over include)
    int exclude_count;
} PodeRecorderOptions;

/// Initializes the embedded interpreter exactly as `program_name argv[1:]` would start:
/// `program_name` is an absolute interpreter path (it becomes sys.executable and locates the
/// stdlib); argv is the python command line (e.g. {"python3.11", "script.py", "arg"}).
/// On a configuration error CPython prints its own message and the process exits, as python does.
void pode_python_initialize(const char *program_name, int argc, char *const *argv);

/// Decides the default scope (stdlib and site-packages directories are out), installs the
/// trace hook on this thread and on every thread started later, and starts numbering events.
/// Returns 0, or -1 with a message in `err`.
int pode_recorder_start(const PodeRecorderOptions *options, char *err, size_t err_len);

/// Runs the configured script, module or command (Py_RunMain). On SystemExit CPython calls
/// exit() itself; otherwise this returns the exit status python would have.
int pode_python_run_main(void);

/// The lowest descriptor number pode gives the files it keeps open while a program runs: half
/// the soft open-file limit, at most 512, so that the program's own files are numbered as under
/// python3 (its first file is 3).
int pode_high_fd_floor(void);

/// Called once when the interpreter finalizes (Py_AtExit) after recording has stopped and the
/// ring is closed, and once with the process exit status (on_exit). Either may block.
void pode_recorder_set_callbacks(void (*on_finalize)(void), void (*on_exit_status)(int status));

/// Called in a forked child of a recording process (from os.register_at_fork's after_in_child,
/// with the GIL) to make the child's own part of the trace: return 0 to record the child, which
/// then numbers its events from 1; anything else leaves the child unrecorded. `fork_seq` is the
/// parent's next event number when it forked.
void pode_recorder_set_fork_callback(int (*on_fork_child)(int64_t parent_pid, uint64_t fork_seq));

/// Called around every fork of this process, in the forking thread: `hold` before it (pode's own
/// threads that run Swift code then stop where they hold no lock, so that a child never inherits
/// a lock of Swift's runtime or Foundation that one of them held at that instant: the child's
/// first use of it would wait forever), `release` after it in the parent.
void pode_recorder_set_fork_gate(void (*hold)(void), void (*release)(void));

/// Called when the program replaces itself (os.execv, os.execve, so every os.exec*) with the
/// program at `path`, after its trace was finished (the finalize callback ran).
void pode_recorder_set_exec_callback(void (*on_exec)(const char *path));

/// Stops recording (idempotent): later events are ignored and the last chunk is closed.
/// Only for the side that produces events (the interpreter's thread, or its finalization).
void pode_recorder_stop(void);

/// Stops recording new events, from any thread (the writer's, when the disk is full): the ring
/// is left to the producer, which still closes it with pode_recorder_stop at the end.
void pode_recorder_abandon(void);

/// Begins one of pode's own threads, on that thread: blocks every signal (signals belong to the
/// Python program's main thread) and names it (at most 15 bytes are kept) so that `top -H` and
/// profiles tell it from the program's threads. Swift cannot reach pthread_setname_np.
void pode_recorder_begin_own_thread(const char *name);

/// Lowers the calling thread's scheduling priority (Linux: the nice value of this thread only,
/// by `steps`). The indexer calls it: on a machine with few cores it would otherwise take time
/// from the program being recorded, which pode must slow as little as it can; it catches up
/// once the program ends. Swift cannot reach gettid portably.
void pode_recorder_lower_thread_priority(int steps);

/// A run of new event bytes from one chunk of the ring. Events are encoded as PodeLog's
/// EventDecoder reads them; seq and time inside are relative to `base_seq`/`base_time_ns`.
typedef struct PodeRingView {
    const uint8_t *data;
    uint32_t length;
    uint64_t base_seq;
    uint64_t base_time_ns;
} PodeRingView;

/// Waits up to `timeout_ms` for new event bytes. Returns 1 with `view` filled (valid until the
/// next call), 0 on time-out, -1 when recording has stopped and everything was handed out.
int pode_ring_next(PodeRingView *view, int timeout_ms);

/// Makes a pode_ring_next waiting now (or the next one to wait) return 0 at once: the writer
/// thread then reaches the top of its loop, where it stops while the program forks (see
/// pode_recorder_set_fork_gate).
void pode_ring_wake_consumer(void);

/// Moves the definitions recorded since the last call (code objects, threads, types, names)
/// into a buffer owned by the recorder, valid until the next call. Call it after
/// pode_ring_next returned 1 and write them before that view's events.
const uint8_t *pode_definitions_take(size_t *len);

/// What a redacted value, argument or source literal is written as.
#define PODE_REDACTED "<redacted>"

/// Turns redaction on or off and compiles the name patterns: the default ones (password,
/// token, secret, ...) and `extra` (POSIX extended regexes, case-insensitive). Needs no Python,
/// so pode can check --redact before it creates anything. Returns 0, or -1 with a message.
int pode_redact_init(int enabled, const char *const *extra, int extra_count, char *err, size_t err_len);

/// Whether values under this name (a variable, argument, attribute, dict key or command-line
/// option) are written as <redacted>. Always 0 when redaction is off.
int pode_redact_name_utf8(const char *name);

/// Whether `n` bytes of text hold something that looks like a secret whatever its name: a PEM
/// private key block, an AWS access key id, a bearer token or JSON Web Token, or a token with a
/// known secret prefix (ghp_, xoxb-, sk_live_, ...). Used for values, arguments and sources.
int pode_redact_looks_secret(const char *text, size_t n);

/// Monotonic clock in nanoseconds, the clock event times use.
uint64_t pode_monotonic_ns(void);

/// Counters for diagnostics: events recorded and times the producer waited for space.
uint64_t pode_recorder_event_count(void);
uint64_t pode_recorder_wait_count(void);

#ifdef __cplusplus
}
#endif
#endif
