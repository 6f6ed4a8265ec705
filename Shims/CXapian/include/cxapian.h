// cxapian.h - Xapian's C++ API behind a plain C header, for Swift.
//
// Why this exists: Swift cannot call C++ Xapian safely (exceptions must not cross into Swift), so
// every entry point here catches every C++ exception and reports its Xapian type and message in a
// CXapianError. Handles are opaque; nothing C++ appears in this header.
#ifndef CXAPIAN_H
#define CXAPIAN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// An error reported by a failed call: `type` is Xapian's exception class name (for example
/// "DatabaseLockError", "QueryParserError") or "std::exception"/"unknown"; `message` its text.
typedef struct CXapianError {
    int failed;
    char type[64];
    char message[1024];
} CXapianError;

typedef struct CXapianWritableDatabase CXapianWritableDatabase;
typedef struct CXapianDatabase CXapianDatabase;
typedef struct CXapianDocument CXapianDocument;
typedef struct CXapianQueryParser CXapianQueryParser;
typedef struct CXapianQuery CXapianQuery;
typedef struct CXapianMatches CXapianMatches;

// ---- writable database --------------------------------------------------------------------
/// Creates the database at `path` if it is missing, else opens it for writing (takes Xapian's
/// writer lock: a second writer gets DatabaseLockError). Made without a termlist table
/// (Xapian::DB_NO_TERMLIST): documents are only added, never listed, replaced or deleted.
CXapianWritableDatabase *cxapian_wdb_open(const char *path, CXapianError *err);
/// Opens for writing without fsync at commit (Xapian::DB_NO_SYNC): for an index that can be
/// rebuilt from its source, committed often while a program is recorded.
CXapianWritableDatabase *cxapian_wdb_open_unsynced(const char *path, CXapianError *err);
/// Adds a document and returns its new document id (0 on error).
uint32_t cxapian_wdb_add_document(CXapianWritableDatabase *db, const CXapianDocument *doc, CXapianError *err);
/// Replaces (or creates) the document with id `docid`.
void cxapian_wdb_replace_document(CXapianWritableDatabase *db, uint32_t docid, const CXapianDocument *doc, CXapianError *err);
/// Stores a user metadata entry, made durable by the next commit.
void cxapian_wdb_set_metadata(CXapianWritableDatabase *db, const char *key, const char *value, size_t len, CXapianError *err);
/// Makes everything added so far durable and visible to readers.
void cxapian_wdb_commit(CXapianWritableDatabase *db, CXapianError *err);
/// Closes the database (releases the writer lock). The handle must still be freed.
void cxapian_wdb_close(CXapianWritableDatabase *db, CXapianError *err);
void cxapian_wdb_free(CXapianWritableDatabase *db);

// ---- documents ----------------------------------------------------------------------------
CXapianDocument *cxapian_doc_new(void);
void cxapian_doc_free(CXapianDocument *doc);
/// Adds boolean terms (no positions) to a new document, each as a 4-byte little-endian length
/// and its bytes: crossing into C++ once per block document instead of once per term keeps
/// indexing fast.
void cxapian_doc_add_terms(CXapianDocument *doc, const char *terms, size_t len);
/// Sets value slot `slot` of a new document.
void cxapian_doc_set_value(CXapianDocument *doc, uint32_t slot, const char *value, size_t len);
/// Sets the opaque data of a new document.
void cxapian_doc_set_data(CXapianDocument *doc, const char *data, size_t len);
/// Reads the data of a fetched document; the pointer lives as long as the document.
const char *cxapian_doc_data(const CXapianDocument *doc, size_t *len);
/// Reads a value slot of a fetched document; the pointer lives until the next call on it.
const char *cxapian_doc_value(CXapianDocument *doc, uint32_t slot, size_t *len);
/// Number of terms a document holds.
uint32_t cxapian_doc_term_count(const CXapianDocument *doc);

/// Xapian::sortable_serialise: writes at most 9 bytes to `out`, returns how many.
size_t cxapian_sortable_serialise(double value, char out[9]);

// ---- read-only databases ------------------------------------------------------------------
/// Opens a database read-only; call cxapian_db_add to search several together. A damaged
/// index can crash inside Xapian: while this and the other cxapian_db_* and cxapian_search*
/// calls run, SIGSEGV and SIGBUS make them fail with a DatabaseCorruptError instead, and the
/// handle is poisoned (every later call fails the same way; close leaks it).
CXapianDatabase *cxapian_db_open(const char *path, CXapianError *err);
void cxapian_db_add(CXapianDatabase *db, const char *path, CXapianError *err);
/// Writes a compacted copy of the database (blocks filled, document ids kept) to the new
/// directory `output`: a finished index of a short run is about half as large.
void cxapian_db_compact(CXapianDatabase *db, const char *output, CXapianError *err);
/// Reopens at the latest committed revision (readers see a writer's later commits).
void cxapian_db_reopen(CXapianDatabase *db, CXapianError *err);
uint32_t cxapian_db_doc_count(CXapianDatabase *db, CXapianError *err);
uint32_t cxapian_db_last_docid(CXapianDatabase *db, CXapianError *err);
/// Returns a malloc'd copy of a metadata entry (free with cxapian_free); NULL and *len 0 if absent.
char *cxapian_db_metadata(CXapianDatabase *db, const char *key, size_t *len, CXapianError *err);
/// Fetches a document by id (free with cxapian_doc_free).
CXapianDocument *cxapian_db_document(CXapianDatabase *db, uint32_t docid, CXapianError *err);
void cxapian_db_close(CXapianDatabase *db);
void cxapian_free(void *p);

// ---- query parsing ------------------------------------------------------------------------
CXapianQueryParser *cxapian_qp_new(void);
void cxapian_qp_free(CXapianQueryParser *qp);
/// `field:` in a query becomes free-text terms with `prefix` (words, lower-cased).
void cxapian_qp_add_prefix(CXapianQueryParser *qp, const char *field, const char *prefix);
/// `field:text` becomes the exact term prefix+text (or a prefix wildcard when text ends in `*`),
/// OR-ed over all prefixes given for the same field and applied as a boolean filter.
void cxapian_qp_add_boolean_prefix(CXapianQueryParser *qp, const char *field, const char *prefix);
/// `field:A..B` (A or B may be empty) becomes a range over whole numbers, identified by `tag`
/// in the verifier program; block documents are filtered by the value slots `lo_slot`/`hi_slot`
/// (the smallest and largest number in the block).
void cxapian_qp_add_range(CXapianQueryParser *qp, const char *field, uint8_t tag, uint32_t lo_slot, uint32_t hi_slot);
/// Parses `text` (Xapian query syntax, default operator AND). `db` may be NULL; it is used to
/// expand wildcards at search time only.
CXapianQuery *cxapian_qp_parse(CXapianQueryParser *qp, const char *text, CXapianError *err);

// ---- queries ------------------------------------------------------------------------------
void cxapian_query_free(CXapianQuery *q);
/// Xapian's description of the parsed query (malloc'd; free with cxapian_free).
char *cxapian_query_description(const CXapianQuery *q);
/// The parsed query as a verifier program for exact per-event checks (see PodeQuery's
/// QueryProgram for the encoding). The bytes live as long as the query.
const uint8_t *cxapian_query_program(const CXapianQuery *q, size_t *len);

// ---- matching -----------------------------------------------------------------------------
/// Runs the block-level form of `q` (phrases relaxed to AND, ranges mapped to block slots)
/// and returns up to `max_items` matches from `first`, ordered by document id, or by value slot
/// `sort_slot` when it is not negative; `descending` reverses the order. Value counts are
/// gathered for each slot in `spy_slots`.
CXapianMatches *cxapian_search(CXapianDatabase *db, const CXapianQuery *q, uint32_t first, uint32_t max_items,
                               int descending, int64_t sort_slot, const uint32_t *spy_slots, size_t spy_count,
                               CXapianError *err);
/// Runs a single-term query (for tests and diagnostics) in ascending docid order.
CXapianMatches *cxapian_search_term(CXapianDatabase *db, const char *term, size_t len, CXapianError *err);
void cxapian_matches_free(CXapianMatches *m);
uint32_t cxapian_matches_size(const CXapianMatches *m);
/// Estimated total number of matching documents.
uint32_t cxapian_matches_estimate(const CXapianMatches *m);
uint32_t cxapian_matches_docid(const CXapianMatches *m, uint32_t i);
/// Number of distinct values counted for spy `spy_index`.
uint32_t cxapian_matches_facet_count(const CXapianMatches *m, size_t spy_index);
/// The `i`th (value, frequency) pair of spy `spy_index`, most frequent first; the pointer lives
/// as long as the matches.
const char *cxapian_matches_facet(const CXapianMatches *m, size_t spy_index, uint32_t i, size_t *len, uint32_t *frequency);

#ifdef __cplusplus
}
#endif
#endif
