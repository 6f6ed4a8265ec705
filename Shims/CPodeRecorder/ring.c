// ring.c - the bounded ring of chunks between the trace hook and the writer thread, and the
// definitions side buffer.
#include "internal.h"
#include "pode_recorder.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define PODE_CHUNK_BYTES (256u * 1024u)
#define PODE_CHUNKS 32u

typedef struct Chunk {
    _Atomic uint32_t committed;  // bytes of whole events written
    _Atomic int closed;          // the producer moved on; committed is final
    _Atomic int busy;            // opened by the producer and not yet freed by the consumer
    uint64_t base_seq, base_time;
    uint8_t *data;
} Chunk;

static Chunk ring[PODE_CHUNKS];
static uint32_t producer_index;  // chunk being filled
static int producer_open;        // whether ring[producer_index] is open
static uint32_t consumer_index, consumer_offset;
static _Atomic int ring_finished;
static _Atomic int consumer_woken;  // pode_ring_wake_consumer was called: pode_ring_next returns 0
static _Atomic uint64_t ring_wait_count;

static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t consumer_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t producer_cond = PTHREAD_COND_INITIALIZER;

static pthread_mutex_t defs_lock = PTHREAD_MUTEX_INITIALIZER;
static PodeBuf defs_pending, defs_handed;
static PodeBuf defs_all;  // every definition so far: a forked child's log starts with them all

void pode_buf_reserve(PodeBuf *b, size_t extra) {
    size_t need = b->len + extra;
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p) abort();  // out of memory while recording: nothing sensible remains
    b->data = p;
    b->cap = cap;
}

int pode_ring_init(char *err, size_t err_len) {
    for (uint32_t i = 0; i < PODE_CHUNKS; i++) {
        ring[i].data = malloc(PODE_CHUNK_BYTES);
        if (!ring[i].data) {
            snprintf(err, err_len, "cannot allocate the recorder's event buffer (%u MiB)", PODE_CHUNKS * PODE_CHUNK_BYTES >> 20);
            return -1;
        }
        atomic_store(&ring[i].busy, 0);
    }
    return 0;
}

static void open_chunk(uint64_t seq, uint64_t time_ns) {
    Chunk *c = &ring[producer_index];
    if (atomic_load_explicit(&c->busy, memory_order_acquire)) {
        atomic_fetch_add(&ring_wait_count, 1);
        pthread_mutex_lock(&ring_lock);
        while (atomic_load_explicit(&c->busy, memory_order_acquire)) pthread_cond_wait(&producer_cond, &ring_lock);
        pthread_mutex_unlock(&ring_lock);
    }
    atomic_store_explicit(&c->committed, 0, memory_order_relaxed);
    atomic_store_explicit(&c->closed, 0, memory_order_relaxed);
    c->base_seq = seq;
    c->base_time = time_ns;
    atomic_store_explicit(&c->busy, 1, memory_order_release);
    producer_open = 1;
}

static void close_chunk(void) {
    if (!producer_open) return;
    atomic_store_explicit(&ring[producer_index].closed, 1, memory_order_release);
    producer_open = 0;
    producer_index = (producer_index + 1) % PODE_CHUNKS;
    pthread_mutex_lock(&ring_lock);
    pthread_cond_signal(&consumer_cond);
    pthread_mutex_unlock(&ring_lock);
}

static inline uint8_t *put_varint_raw(uint8_t *p, uint64_t v) {
    while (v >= 0x80) { *p++ = (uint8_t)(v | 0x80); v >>= 7; }
    *p++ = (uint8_t)v;
    return p;
}

void pode_ring_put(uint8_t kind, uint64_t seq, uint64_t time_ns, const uint8_t *head, size_t head_len,
                   const uint8_t *tail, size_t tail_len) {
    size_t need = head_len + tail_len + 21;  // kind + two varints + body
    if (need > PODE_CHUNK_BYTES) return;  // cannot happen: events are bounded well below a chunk
    if (producer_open) {
        Chunk *c = &ring[producer_index];
        uint32_t used = atomic_load_explicit(&c->committed, memory_order_relaxed);
        // Relative seq and time stay small: start a new chunk when either grows large.
        if (used + need > PODE_CHUNK_BYTES || seq - c->base_seq > 1000000u || time_ns - c->base_time > 1000000000ull)
            close_chunk();
    }
    if (!producer_open) open_chunk(seq, time_ns);
    Chunk *c = &ring[producer_index];
    uint32_t used = atomic_load_explicit(&c->committed, memory_order_relaxed);
    uint8_t *p = c->data + used;
    *p++ = kind;
    p = put_varint_raw(p, seq - c->base_seq);
    p = put_varint_raw(p, time_ns - c->base_time);
    memcpy(p, head, head_len);
    p += head_len;
    if (tail_len) {
        memcpy(p, tail, tail_len);
        p += tail_len;
    }
    atomic_store_explicit(&c->committed, (uint32_t)(p - c->data), memory_order_release);
}

void pode_ring_close(void) {
    close_chunk();
    atomic_store(&ring_finished, 1);
    pthread_mutex_lock(&ring_lock);
    pthread_cond_broadcast(&consumer_cond);
    pthread_mutex_unlock(&ring_lock);
}

uint64_t pode_ring_waits(void) { return atomic_load(&ring_wait_count); }

int pode_ring_next(PodeRingView *view, int timeout_ms) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    deadline.tv_sec += timeout_ms / 1000 + deadline.tv_nsec / 1000000000L;
    deadline.tv_nsec %= 1000000000L;
    for (;;) {
        Chunk *c = &ring[consumer_index];
        if (atomic_load_explicit(&c->busy, memory_order_acquire)) {
            int closed = atomic_load_explicit(&c->closed, memory_order_acquire);
            uint32_t committed = atomic_load_explicit(&c->committed, memory_order_acquire);
            if (committed > consumer_offset) {
                view->data = c->data + consumer_offset;
                view->length = committed - consumer_offset;
                view->base_seq = c->base_seq;
                view->base_time_ns = c->base_time;
                consumer_offset = committed;
                return 1;
            }
            if (closed) {
                // Everything in this chunk was handed out (and written before this call): free it.
                atomic_store_explicit(&c->busy, 0, memory_order_release);
                consumer_index = (consumer_index + 1) % PODE_CHUNKS;
                consumer_offset = 0;
                pthread_mutex_lock(&ring_lock);
                pthread_cond_signal(&producer_cond);
                pthread_mutex_unlock(&ring_lock);
                continue;
            }
        } else if (atomic_load(&ring_finished)) {
            return -1;
        }
        if (timeout_ms <= 0 || atomic_exchange(&consumer_woken, 0)) return 0;
        pthread_mutex_lock(&ring_lock);
        int rc = 0;
        // Re-check under the lock so a close or a wake between the check and the wait is not missed.
        if (!atomic_load_explicit(&c->closed, memory_order_acquire) && !atomic_load(&ring_finished) && !atomic_load(&consumer_woken))
            rc = pthread_cond_timedwait(&consumer_cond, &ring_lock, &deadline);
        pthread_mutex_unlock(&ring_lock);
        if (rc == ETIMEDOUT) {
            // One last look before reporting the time-out.
            uint32_t committed = atomic_load_explicit(&c->committed, memory_order_acquire);
            if (!(atomic_load_explicit(&c->busy, memory_order_acquire) && committed > consumer_offset)) return 0;
        }
    }
}

void pode_definitions_append(const uint8_t *rec, size_t len) {
    pthread_mutex_lock(&defs_lock);
    pode_buf_bytes(&defs_pending, rec, len);
    pode_buf_bytes(&defs_all, rec, len);
    pthread_mutex_unlock(&defs_lock);
}

const uint8_t *pode_definitions_take(size_t *len) {
    pthread_mutex_lock(&defs_lock);
    PodeBuf t = defs_handed;
    defs_handed = defs_pending;
    defs_pending = t;
    defs_pending.len = 0;
    pthread_mutex_unlock(&defs_lock);
    *len = defs_handed.len;
    return defs_handed.data;
}

void pode_ring_wake_consumer(void) {
    atomic_store(&consumer_woken, 1);
    pthread_mutex_lock(&ring_lock);
    pthread_cond_broadcast(&consumer_cond);
    pthread_mutex_unlock(&ring_lock);
}

void pode_ring_before_fork(void) {
    pthread_mutex_lock(&ring_lock);
    pthread_mutex_lock(&defs_lock);
}

void pode_ring_after_fork_parent(void) {
    pthread_mutex_unlock(&defs_lock);
    pthread_mutex_unlock(&ring_lock);
}

void pode_ring_after_fork_child(void) {
    // Only this thread exists now. The parent writes the events still in the ring; the child's
    // own log starts empty, after every definition made so far.
    pthread_mutex_init(&ring_lock, NULL);
    pthread_mutex_init(&defs_lock, NULL);
    pthread_cond_init(&consumer_cond, NULL);
    pthread_cond_init(&producer_cond, NULL);
    for (uint32_t i = 0; i < PODE_CHUNKS; i++) {
        atomic_store(&ring[i].busy, 0);
        atomic_store(&ring[i].closed, 0);
        atomic_store(&ring[i].committed, 0);
    }
    producer_index = 0;
    producer_open = 0;
    consumer_index = 0;
    consumer_offset = 0;
    atomic_store(&ring_finished, 0);
    atomic_store(&consumer_woken, 0);
    defs_pending.len = 0;
    defs_handed.len = 0;
    pode_buf_bytes(&defs_pending, defs_all.data, defs_all.len);
}

uint64_t pode_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
