// cxapian.cpp - see cxapian.h. Every extern "C" entry point catches every exception.
#include "cxapian.h"

#include <xapian.h>
#include <cctype>
#include <csetjmp>
#include <csignal>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

void set_error(CXapianError *err, const char *type, const std::string &message) {
    if (!err) return;
    err->failed = 1;
    std::snprintf(err->type, sizeof err->type, "%s", type);
    std::snprintf(err->message, sizeof err->message, "%s", message.c_str());
}

void clear_error(CXapianError *err) {
    if (!err) return;
    err->failed = 0;
    err->type[0] = 0;
    err->message[0] = 0;
}

// Reading a damaged index can crash inside Xapian itself (1.4.22 dereferences bad pointers read
// from a corrupt version file, say) before any exception is thrown. While a reading call runs,
// SIGSEGV and SIGBUS jump back to it instead, and it fails with DatabaseCorruptError: the
// handle is then poisoned (never used or freed again) and pode reads the event log instead.
thread_local sigjmp_buf *crash_jump = nullptr;
struct sigaction previous_segv, previous_bus;

void on_crash(int sig, siginfo_t *, void *) {
    if (crash_jump) siglongjmp(*crash_jump, sig);
    // Not inside a guarded read: let the previous handler (or the default) take it.
    sigaction(sig, sig == SIGSEGV ? &previous_segv : &previous_bus, nullptr);
}

void install_crash_guard() {
    static bool installed = false;
    if (installed) return;
    installed = true;
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_crash;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &previous_segv);
    sigaction(SIGBUS, &sa, &previous_bus);
}

const char *const kCrashedMessage =
    "Xapian crashed reading the index: it is damaged (pode index --rebuild remakes it from the event log)";

// Runs `body`, turning any exception into `err`; returns `fallback` after an exception. When
// `poisoned` is given, a crash inside `body` (see on_crash) sets it and fails the call.
template <typename T, typename F>
T guarded(CXapianError *err, T fallback, F body, bool *poisoned = nullptr) {
    clear_error(err);
    if (poisoned && *poisoned) {
        set_error(err, "DatabaseCorruptError", kCrashedMessage);
        return fallback;
    }
    sigjmp_buf jump;
    sigjmp_buf *outer = crash_jump;
    if (poisoned) {
        if (sigsetjmp(jump, 1) != 0) {
            crash_jump = outer;
            *poisoned = true;
            set_error(err, "DatabaseCorruptError", kCrashedMessage);
            return fallback;
        }
        crash_jump = &jump;
    }
    struct Restore {
        sigjmp_buf *outer;
        ~Restore() { crash_jump = outer; }
    } restore{outer};
    try {
        return body();
    } catch (const Xapian::Error &e) {
        set_error(err, e.get_type(), e.get_msg());
    } catch (const std::bad_alloc &) {
        set_error(err, "std::bad_alloc", "out of memory");
    } catch (const std::exception &e) {
        set_error(err, "std::exception", e.what());
    } catch (...) {
        set_error(err, "unknown", "an unknown C++ exception was thrown");
    }
    return fallback;
}

template <typename F>
void guarded_void(CXapianError *err, F body) {
    guarded<int>(err, 0, [&] { body(); return 0; });
}

// Terms longer than this are truncated, identically by the indexer (PodeIndex.Schema) and here.
const size_t kMaxTermBytes = 200;

std::string index_form(const std::string &term) {
    if (term.size() <= kMaxTermBytes) return term;
    size_t n = kMaxTermBytes;
    // Do not cut a UTF-8 sequence in half.
    while (n > 0 && (static_cast<unsigned char>(term[n]) & 0xC0) == 0x80) --n;
    return term.substr(0, n);
}

// Marks a range leaf inside a parsed query: \x01, the tag, then the range's index.
const char kRangeMark = '\x01';

struct RangeSpec {
    uint8_t tag;
    uint64_t lo, hi;
    uint32_t lo_slot, hi_slot;
};

bool parse_number(const std::string &s, uint64_t &out) {
    if (s.empty()) return false;
    uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') throw Xapian::QueryParserError("a range needs whole numbers, got '" + s + "'");
        uint64_t d = static_cast<uint64_t>(c - '0');
        if (v > (UINT64_MAX - d) / 10) throw Xapian::QueryParserError("number too large in range: '" + s + "'");
        v = v * 10 + d;
    }
    out = v;
    return true;
}

class TaggingRangeProcessor : public Xapian::RangeProcessor {
  public:
    TaggingRangeProcessor(const std::string &field, uint8_t tag, uint32_t lo_slot, uint32_t hi_slot,
                          std::vector<RangeSpec> *sink)
        : Xapian::RangeProcessor(0, field + ":", 0), tag_(tag), lo_slot_(lo_slot), hi_slot_(hi_slot), sink_(sink) {}

    Xapian::Query operator()(const std::string &begin, const std::string &end) override {
        RangeSpec r{tag_, 0, UINT64_MAX, lo_slot_, hi_slot_};
        if (!parse_number(begin, r.lo)) r.lo = 0;
        if (!parse_number(end, r.hi)) r.hi = UINT64_MAX;
        std::string mark(1, kRangeMark);
        mark += static_cast<char>(tag_);
        mark += std::to_string(sink_->size());
        sink_->push_back(r);
        return Xapian::Query(mark);
    }

  private:
    uint8_t tag_;
    uint32_t lo_slot_, hi_slot_;
    std::vector<RangeSpec> *sink_;
};

class BooleanFieldProcessor : public Xapian::FieldProcessor {
  public:
    explicit BooleanFieldProcessor(std::vector<std::string> prefixes) : prefixes_(std::move(prefixes)) {}

    Xapian::Query operator()(const std::string &text) override {
        std::vector<Xapian::Query> alternatives;
        bool wildcard = text.size() > 1 && text.back() == '*';
        for (const auto &p : prefixes_) {
            if (wildcard)
                alternatives.emplace_back(Xapian::Query::OP_WILDCARD, p + text.substr(0, text.size() - 1));
            else
                alternatives.emplace_back(p + text);
        }
        if (alternatives.size() == 1) return alternatives[0];
        return Xapian::Query(Xapian::Query::OP_OR, alternatives.begin(), alternatives.end());
    }

  private:
    std::vector<std::string> prefixes_;
};

void put_varint(std::string &out, uint64_t v) {
    while (v >= 0x80) {
        out += static_cast<char>((v & 0x7F) | 0x80);
        v >>= 7;
    }
    out += static_cast<char>(v);
}

void put_bytes(std::string &out, const std::string &s) {
    put_varint(out, s.size());
    out += s;
}

// Verifier program opcodes; PodeQuery's QueryProgram decodes the same numbers.
enum ProgramOp : uint8_t {
    P_NOTHING = 0, P_ALL = 1, P_TERM = 2, P_AND = 3, P_OR = 4, P_AND_NOT = 5, P_XOR = 6,
    P_PHRASE = 7, P_NEAR = 8, P_WILDCARD = 9, P_RANGE = 10, P_AND_MAYBE = 11,
};

uint64_t window_from_description(const std::string &desc, const char *word, uint64_t fallback) {
    std::string needle = std::string(" ") + word + " ";
    auto at = desc.find(needle);
    if (at == std::string::npos) return fallback;
    uint64_t v = 0;
    bool any = false;
    for (size_t i = at + needle.size(); i < desc.size() && desc[i] >= '0' && desc[i] <= '9'; ++i) {
        v = v * 10 + static_cast<uint64_t>(desc[i] - '0');
        any = true;
    }
    return any ? v : fallback;
}

std::string wildcard_pattern(const Xapian::Query &q) {
    // Xapian 1.4 exposes a wildcard's pattern only through its description:
    // "Query(WILDCARD <combiner> <pattern>)".
    std::string d = q.get_description();
    const std::string head = "Query(WILDCARD ";
    if (d.compare(0, head.size(), head) != 0 || d.back() != ')') throw Xapian::InvalidArgumentError("unexpected wildcard form: " + d);
    std::string rest = d.substr(head.size(), d.size() - head.size() - 1);
    auto space = rest.find(' ');
    if (space == std::string::npos) throw Xapian::InvalidArgumentError("unexpected wildcard form: " + d);
    return rest.substr(space + 1);
}

struct Compiled {
    std::string program;
    Xapian::Query block_query;
};

// Block documents leave out the exact-value term ("X" + text) of a value that is one ASCII word
// (letters, digits, '_'): the lower-cased word stands for it there (PodeIndex's
// Schema.isSingleASCIIWord says the same).
bool is_ascii_word(const std::string &s, size_t from) {
    if (s.size() <= from) return false;
    for (size_t i = from; i < s.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (!(std::isalnum(c) || c == '_') || c >= 0x80) return false;
    }
    return true;
}

// They leave out too the exact-value term of a value that is one number word (digits with single
// . , ; between them, as in 3.14: Schema.isNumberText); its word's bucket stands for it. With
// `prefix_only`, whether s[from...] can begin such a text (it may end in a joiner).
bool is_number_text(const std::string &s, size_t from, bool prefix_only = false) {
    if (s.size() <= from || !std::isdigit(static_cast<unsigned char>(s[from]))) return false;
    bool joiner_pending = false;
    for (size_t i = from; i < s.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (std::isdigit(c)) {
            joiner_pending = false;
        } else if ((c == '.' || c == ',' || c == ';') && !joiner_pending) {
            joiner_pending = true;
        } else {
            return false;
        }
    }
    return prefix_only || !joiner_pending;
}

// A number word (see is_number_text) longer than kNumberBucketBytes is held in block documents as
// "N" + its first kNumberBucketBytes bytes (PodeIndex's Schema.numberBucketBytes).
constexpr size_t kNumberBucketBytes = 3;

bool is_prefixed(const std::string &term) { return !term.empty() && term[0] >= 'A' && term[0] <= 'Z'; }

// The block-level query for index word `w`.
Xapian::Query block_word(const std::string &w) {
    if (w.size() > kNumberBucketBytes && is_number_text(w, 0)) return Xapian::Query("N" + w.substr(0, kNumberBucketBytes));
    return Xapian::Query(index_form(w));
}

// The block-level query for index words that begin with `p`: the words themselves, and the
// buckets of the long number words among them.
Xapian::Query block_word_wildcard(const std::string &p) {
    using Q = Xapian::Query;
    Q words(Q::OP_WILDCARD, index_form(p));
    if (!is_number_text(p, 0, true)) return words;
    Q buckets = p.size() < kNumberBucketBytes ? Q(Q::OP_WILDCARD, "N" + p) : Q("N" + p.substr(0, kNumberBucketBytes));
    return Q(Q::OP_OR, words, buckets);
}

std::string lower_ascii(const std::string &s, size_t from) {
    std::string out = s.substr(from);
    for (auto &c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Walks a parsed query once, producing both the per-event verifier program and the
// block-level Xapian query.
Xapian::Query compile(const Xapian::Query &q, const std::vector<RangeSpec> &ranges, std::string &prog) {
    using Q = Xapian::Query;
    const int type = static_cast<int>(q.get_type());
    switch (type) {
    case Q::LEAF_MATCH_NOTHING:
        prog += static_cast<char>(P_NOTHING);
        return Q();
    case Q::LEAF_MATCH_ALL:
        prog += static_cast<char>(P_ALL);
        return Q::MatchAll;
    case Q::LEAF_TERM: {
        std::string term = *q.get_terms_begin();
        if (term.size() >= 3 && term[0] == kRangeMark) {
            size_t index = std::stoul(term.substr(2));
            if (index >= ranges.size()) throw Xapian::InvalidArgumentError("range index out of bounds");
            const RangeSpec &r = ranges[index];
            prog += static_cast<char>(P_RANGE);
            prog += static_cast<char>(r.tag);
            put_varint(prog, r.lo);
            put_varint(prog, r.hi);
            // A block holds numbers from its lo slot to its hi slot: keep it when they overlap.
            return Q(Q::OP_AND, Q(Q::OP_VALUE_LE, r.lo_slot, Xapian::sortable_serialise(static_cast<double>(r.hi))),
                     Q(Q::OP_VALUE_GE, r.hi_slot, Xapian::sortable_serialise(static_cast<double>(r.lo))));
        }
        prog += static_cast<char>(P_TERM);
        put_bytes(prog, term);
        if (term[0] == 'X' && (is_ascii_word(term, 1) || is_number_text(term, 1))) return block_word(lower_ascii(term, 1));
        if (!is_prefixed(term)) return block_word(term);
        return Q(index_form(term));
    }
    case Q::OP_WILDCARD: {
        std::string pattern = wildcard_pattern(q);
        prog += static_cast<char>(P_WILDCARD);
        put_bytes(prog, pattern);
        if (!pattern.empty() && pattern[0] == 'X') {
            // A single-word value has no X term in block documents: look for its word too.
            Q word = pattern.size() == 1 ? Q::MatchAll
                     : is_ascii_word(pattern, 1) || is_number_text(pattern, 1, true) ? block_word_wildcard(lower_ascii(pattern, 1)) : Q();
            return Q(Q::OP_OR, Q(Q::OP_WILDCARD, index_form(pattern)), word);
        }
        if (!is_prefixed(pattern)) return block_word_wildcard(pattern);
        return Q(Q::OP_WILDCARD, index_form(pattern));
    }
    case Q::OP_SCALE_WEIGHT:
        return compile(q.get_subquery(0), ranges, prog);
    default:
        break;
    }

    ProgramOp op;
    Q::op block_op = Q::OP_AND;
    uint64_t window = 0;
    switch (type) {
    case Q::OP_AND: case Q::OP_FILTER: op = P_AND; break;
    case Q::OP_OR: case Q::OP_SYNONYM: case Q::OP_MAX: case Q::OP_ELITE_SET: op = P_OR; block_op = Q::OP_OR; break;
    // A block document is the union of its events: negation is decided per event only, so at
    // block level "a AND_NOT b" keeps every block that may hold a (see the return below).
    case Q::OP_AND_NOT: op = P_AND_NOT; block_op = Q::OP_AND_NOT; break;
    case Q::OP_XOR: op = P_XOR; block_op = Q::OP_OR; break;  // a block may hold both sides
    case Q::OP_AND_MAYBE: op = P_AND_MAYBE; block_op = Q::OP_AND_MAYBE; break;
    case Q::OP_PHRASE: op = P_PHRASE; window = window_from_description(q.get_description(), "PHRASE", q.get_num_subqueries()); break;
    case Q::OP_NEAR: op = P_NEAR; window = window_from_description(q.get_description(), "NEAR", 10); break;
    default:
        throw Xapian::UnimplementedError("query operator " + std::to_string(type) + " is not supported by pode's verifier");
    }
    prog += static_cast<char>(op);
    if (op == P_PHRASE || op == P_NEAR) put_varint(prog, window);
    size_t n = q.get_num_subqueries();
    put_varint(prog, n);
    std::vector<Q> children;
    for (size_t i = 0; i < n; ++i) children.push_back(compile(q.get_subquery(i), ranges, prog));
    if (block_op == Q::OP_AND_NOT || block_op == Q::OP_AND_MAYBE) return n ? children[0] : Q();
    // A block document has no positions: a phrase becomes AND there and is checked exactly later.
    return Q(block_op, children.begin(), children.end());
}

}  // namespace

struct CXapianWritableDatabase { std::unique_ptr<Xapian::WritableDatabase> db; };
struct CXapianDatabase {
    Xapian::Database db;
    bool poisoned = false;  // Xapian crashed reading it: never touched again
};
struct CXapianDocument {
    Xapian::Document doc;
    std::string data_cache, value_cache;
};
struct CXapianQueryParser {
    std::map<std::string, std::vector<std::string>> free_prefixes, boolean_prefixes;
    struct Range { std::string field; uint8_t tag; uint32_t lo_slot, hi_slot; };
    std::vector<Range> ranges;
};
struct CXapianQuery {
    Xapian::Query parsed;
    Xapian::Query block_query;
    std::string program;
};
struct CXapianMatches {
    Xapian::MSet mset;
    std::vector<std::vector<std::pair<std::string, uint32_t>>> facets;
};

extern "C" {

static CXapianWritableDatabase *open_writable(const char *path, int flags, CXapianError *err) {
    return guarded<CXapianWritableDatabase *>(err, nullptr, [&] {
        auto h = new CXapianWritableDatabase;
        try {
            h->db.reset(new Xapian::WritableDatabase(path, Xapian::DB_CREATE_OR_OPEN | Xapian::DB_NO_TERMLIST | flags));
        } catch (...) {
            delete h;
            throw;
        }
        return h;
    });
}

CXapianWritableDatabase *cxapian_wdb_open(const char *path, CXapianError *err) {
    return open_writable(path, 0, err);
}

CXapianWritableDatabase *cxapian_wdb_open_unsynced(const char *path, CXapianError *err) {
    return open_writable(path, Xapian::DB_NO_SYNC, err);
}

uint32_t cxapian_wdb_add_document(CXapianWritableDatabase *db, const CXapianDocument *doc, CXapianError *err) {
    return guarded<uint32_t>(err, 0, [&] { return db->db->add_document(doc->doc); });
}

void cxapian_wdb_replace_document(CXapianWritableDatabase *db, uint32_t docid, const CXapianDocument *doc, CXapianError *err) {
    guarded_void(err, [&] { db->db->replace_document(docid, doc->doc); });
}

void cxapian_wdb_set_metadata(CXapianWritableDatabase *db, const char *key, const char *value, size_t len, CXapianError *err) {
    guarded_void(err, [&] { db->db->set_metadata(key, std::string(value, len)); });
}

void cxapian_wdb_commit(CXapianWritableDatabase *db, CXapianError *err) {
    guarded_void(err, [&] { db->db->commit(); });
}

void cxapian_wdb_close(CXapianWritableDatabase *db, CXapianError *err) {
    guarded_void(err, [&] { if (db->db) db->db->close(); });
}

void cxapian_wdb_free(CXapianWritableDatabase *db) {
    try { delete db; } catch (...) {}
}

CXapianDocument *cxapian_doc_new(void) {
    try { return new CXapianDocument; } catch (...) { return nullptr; }
}

void cxapian_doc_free(CXapianDocument *doc) {
    try { delete doc; } catch (...) {}
}

void cxapian_doc_add_terms(CXapianDocument *doc, const char *terms, size_t len) {
    try {
        size_t at = 0;
        while (at + 4 <= len) {
            const unsigned char *p = reinterpret_cast<const unsigned char *>(terms + at);
            size_t n = static_cast<size_t>(p[0]) | static_cast<size_t>(p[1]) << 8 | static_cast<size_t>(p[2]) << 16 |
                       static_cast<size_t>(p[3]) << 24;
            at += 4;
            if (n > len - at) break;
            if (n) doc->doc.add_boolean_term(index_form(std::string(terms + at, n)));
            at += n;
        }
    } catch (...) {}
}

void cxapian_doc_set_value(CXapianDocument *doc, uint32_t slot, const char *value, size_t len) {
    try { doc->doc.add_value(slot, std::string(value, len)); } catch (...) {}
}

void cxapian_doc_set_data(CXapianDocument *doc, const char *data, size_t len) {
    try { doc->doc.set_data(std::string(data, len)); } catch (...) {}
}

const char *cxapian_doc_data(const CXapianDocument *doc, size_t *len) {
    *len = doc->data_cache.size();
    return doc->data_cache.data();
}

const char *cxapian_doc_value(CXapianDocument *doc, uint32_t slot, size_t *len) {
    try {
        doc->value_cache = doc->doc.get_value(slot);
    } catch (...) {
        doc->value_cache.clear();
    }
    *len = doc->value_cache.size();
    return doc->value_cache.data();
}

uint32_t cxapian_doc_term_count(const CXapianDocument *doc) {
    try { return doc->doc.termlist_count(); } catch (...) { return 0; }
}

size_t cxapian_sortable_serialise(double value, char out[9]) {
    try {
        std::string s = Xapian::sortable_serialise(value);
        std::memcpy(out, s.data(), s.size());
        return s.size();
    } catch (...) {
        return 0;
    }
}

CXapianDatabase *cxapian_db_open(const char *path, CXapianError *err) {
    install_crash_guard();
    auto h = new CXapianDatabase;
    auto opened = guarded<CXapianDatabase *>(err, nullptr, [&] {
        h->db = Xapian::Database(path);
        return h;
    }, &h->poisoned);
    if (!opened && !h->poisoned) delete h;  // a poisoned handle is leaked: its state is unknown
    return opened;
}

void cxapian_db_add(CXapianDatabase *db, const char *path, CXapianError *err) {
    guarded<int>(err, 0, [&] { db->db.add_database(Xapian::Database(path)); return 0; }, &db->poisoned);
}

void cxapian_db_compact(CXapianDatabase *db, const char *output, CXapianError *err) {
    guarded<int>(err, 0, [&] {
        db->db.compact(output, Xapian::DBCOMPACT_NO_RENUMBER | Xapian::Compactor::FULL);
        return 0;
    }, &db->poisoned);
}

void cxapian_db_reopen(CXapianDatabase *db, CXapianError *err) {
    guarded<int>(err, 0, [&] { db->db.reopen(); return 0; }, &db->poisoned);
}

uint32_t cxapian_db_doc_count(CXapianDatabase *db, CXapianError *err) {
    return guarded<uint32_t>(err, 0, [&] { return db->db.get_doccount(); }, &db->poisoned);
}

uint32_t cxapian_db_last_docid(CXapianDatabase *db, CXapianError *err) {
    return guarded<uint32_t>(err, 0, [&] { return db->db.get_lastdocid(); }, &db->poisoned);
}

char *cxapian_db_metadata(CXapianDatabase *db, const char *key, size_t *len, CXapianError *err) {
    *len = 0;
    return guarded<char *>(err, nullptr, [&]() -> char * {
        std::string v = db->db.get_metadata(key);
        if (v.empty()) return nullptr;
        char *out = static_cast<char *>(std::malloc(v.size() + 1));
        if (!out) throw std::bad_alloc();
        std::memcpy(out, v.data(), v.size());
        out[v.size()] = 0;
        *len = v.size();
        return out;
    }, &db->poisoned);
}

CXapianDocument *cxapian_db_document(CXapianDatabase *db, uint32_t docid, CXapianError *err) {
    return guarded<CXapianDocument *>(err, nullptr, [&] {
        auto h = new CXapianDocument;
        try {
            h->doc = db->db.get_document(docid);
            h->data_cache = h->doc.get_data();
        } catch (...) {
            delete h;
            throw;
        }
        return h;
    }, &db->poisoned);
}

void cxapian_db_close(CXapianDatabase *db) {
    if (db && db->poisoned) return;  // leaked on purpose: Xapian crashed inside it
    try {
        if (db) db->db.close();
        delete db;
    } catch (...) {}
}

void cxapian_free(void *p) { std::free(p); }

CXapianQueryParser *cxapian_qp_new(void) {
    try { return new CXapianQueryParser; } catch (...) { return nullptr; }
}

void cxapian_qp_free(CXapianQueryParser *qp) {
    try { delete qp; } catch (...) {}
}

void cxapian_qp_add_prefix(CXapianQueryParser *qp, const char *field, const char *prefix) {
    try { qp->free_prefixes[field].push_back(prefix); } catch (...) {}
}

void cxapian_qp_add_boolean_prefix(CXapianQueryParser *qp, const char *field, const char *prefix) {
    try { qp->boolean_prefixes[field].push_back(prefix); } catch (...) {}
}

void cxapian_qp_add_range(CXapianQueryParser *qp, const char *field, uint8_t tag, uint32_t lo_slot, uint32_t hi_slot) {
    try { qp->ranges.push_back({field, tag, lo_slot, hi_slot}); } catch (...) {}
}

CXapianQuery *cxapian_qp_parse(CXapianQueryParser *qp, const char *text, CXapianError *err) {
    return guarded<CXapianQuery *>(err, nullptr, [&] {
        std::vector<RangeSpec> ranges;
        Xapian::QueryParser parser;
        parser.set_default_op(Xapian::Query::OP_AND);
        for (const auto &entry : qp->free_prefixes)
            for (const auto &p : entry.second) parser.add_prefix(entry.first, p);
        // QueryParser holds its processors by intrusive pointer once release()d.
        for (const auto &entry : qp->boolean_prefixes)
            parser.add_boolean_prefix(entry.first, (new BooleanFieldProcessor(entry.second))->release());
        for (const auto &r : qp->ranges)
            parser.add_rangeprocessor((new TaggingRangeProcessor(r.field, r.tag, r.lo_slot, r.hi_slot, &ranges))->release());
        unsigned flags = Xapian::QueryParser::FLAG_BOOLEAN | Xapian::QueryParser::FLAG_PHRASE |
                         Xapian::QueryParser::FLAG_LOVEHATE | Xapian::QueryParser::FLAG_WILDCARD |
                         Xapian::QueryParser::FLAG_PURE_NOT;
        auto h = std::make_unique<CXapianQuery>();
        h->parsed = parser.parse_query(text, flags);
        h->block_query = compile(h->parsed, ranges, h->program);
        return h.release();
    });
}

void cxapian_query_free(CXapianQuery *q) {
    try { delete q; } catch (...) {}
}

char *cxapian_query_description(const CXapianQuery *q) {
    try {
        std::string d = q->parsed.get_description();
        char *out = static_cast<char *>(std::malloc(d.size() + 1));
        if (out) std::memcpy(out, d.c_str(), d.size() + 1);
        return out;
    } catch (...) {
        return nullptr;
    }
}

const uint8_t *cxapian_query_program(const CXapianQuery *q, size_t *len) {
    *len = q->program.size();
    return reinterpret_cast<const uint8_t *>(q->program.data());
}

static CXapianMatches *run(Xapian::Database &db, const Xapian::Query &query, uint32_t first, uint32_t max_items,
                           int descending, int64_t sort_slot, const uint32_t *spy_slots, size_t spy_count) {
    Xapian::Enquire enquire(db);
    enquire.set_query(query);
    enquire.set_weighting_scheme(Xapian::BoolWeight());
    enquire.set_docid_order(descending ? Xapian::Enquire::DESCENDING : Xapian::Enquire::ASCENDING);
    if (sort_slot >= 0) enquire.set_sort_by_value_then_relevance(static_cast<Xapian::valueno>(sort_slot), descending != 0);
    std::vector<std::unique_ptr<Xapian::ValueCountMatchSpy>> spies;
    for (size_t i = 0; i < spy_count; ++i) {
        spies.emplace_back(new Xapian::ValueCountMatchSpy(spy_slots[i]));
        enquire.add_matchspy(spies.back().get());
    }
    auto h = std::make_unique<CXapianMatches>();
    Xapian::doccount check = spy_count ? db.get_doccount() : 0;
    h->mset = enquire.get_mset(first, max_items, check);
    for (auto &spy : spies) {
        std::vector<std::pair<std::string, uint32_t>> counts;
        for (auto it = spy->top_values_begin(spy->get_total()); it != spy->top_values_end(spy->get_total()); ++it)
            counts.emplace_back(*it, it.get_termfreq());
        h->facets.push_back(std::move(counts));
    }
    return h.release();
}

CXapianMatches *cxapian_search(CXapianDatabase *db, const CXapianQuery *q, uint32_t first, uint32_t max_items,
                               int descending, int64_t sort_slot, const uint32_t *spy_slots, size_t spy_count,
                               CXapianError *err) {
    return guarded<CXapianMatches *>(err, nullptr, [&] {
        return run(db->db, q->block_query, first, max_items, descending, sort_slot, spy_slots, spy_count);
    }, &db->poisoned);
}

CXapianMatches *cxapian_search_term(CXapianDatabase *db, const char *term, size_t len, CXapianError *err) {
    return guarded<CXapianMatches *>(err, nullptr, [&] {
        return run(db->db, Xapian::Query(std::string(term, len)), 0, db->db.get_doccount() + 1, 0, -1, nullptr, 0);
    }, &db->poisoned);
}

void cxapian_matches_free(CXapianMatches *m) {
    try { delete m; } catch (...) {}
}

uint32_t cxapian_matches_size(const CXapianMatches *m) { return m->mset.size(); }

uint32_t cxapian_matches_estimate(const CXapianMatches *m) {
    try { return m->mset.get_matches_estimated(); } catch (...) { return 0; }
}

uint32_t cxapian_matches_docid(const CXapianMatches *m, uint32_t i) {
    try { return *(m->mset[i]); } catch (...) { return 0; }
}

uint32_t cxapian_matches_facet_count(const CXapianMatches *m, size_t spy_index) {
    return spy_index < m->facets.size() ? static_cast<uint32_t>(m->facets[spy_index].size()) : 0;
}

const char *cxapian_matches_facet(const CXapianMatches *m, size_t spy_index, uint32_t i, size_t *len, uint32_t *frequency) {
    try {
        const auto &entry = m->facets.at(spy_index).at(i);
        *len = entry.first.size();
        *frequency = entry.second;
        return entry.first.data();
    } catch (...) {
        *len = 0;
        *frequency = 0;
        return nullptr;
    }
}

}  // extern "C"
