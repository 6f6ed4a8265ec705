// redact.c - keeping secrets out of the trace. A value is written as <redacted> when the
// variable, argument, attribute or dict key holding it has a name that looks sensitive
// (password, token, ...; --redact adds patterns), or when the value itself looks like a
// secret (a PEM private key, an AWS access key id, a bearer or JSON Web Token, a string with a
// known secret prefix such as ghp_, xoxb- or sk_live_). All of it runs before anything is
// written, under the GIL.
#include "internal.h"
#include "pode_recorder.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>

int pode_redact_on;

static regex_t *name_patterns;
static int name_pattern_count;

static const char *default_names =
    "password|passwd|secret|token|api_key|apikey|auth|credential|private_key|session|cookie";

int pode_redact_init(int enabled, const char *const *extra, int extra_count, char *err, size_t err_len) {
    pode_redact_on = enabled;
    if (!enabled) return 0;
    name_patterns = calloc((size_t)extra_count + 1, sizeof *name_patterns);
    if (!name_patterns) { snprintf(err, err_len, "out of memory"); return -1; }
    for (int i = 0; i <= extra_count; i++) {
        const char *p = i == 0 ? default_names : extra[i - 1];
        int rc = regcomp(&name_patterns[i], p, REG_EXTENDED | REG_ICASE | REG_NOSUB);
        if (rc != 0) {
            char why[200];
            regerror(rc, &name_patterns[i], why, sizeof why);
            snprintf(err, err_len, "--redact '%s' is not a valid regular expression (%s); give a POSIX extended regex such as 'pin|ssn'", p, why);
            return -1;
        }
        name_pattern_count = i + 1;
    }
    return 0;
}

int pode_redact_name_utf8(const char *name) {
    if (!pode_redact_on || !name) return 0;
    for (int i = 0; i < name_pattern_count; i++)
        if (regexec(&name_patterns[i], name, 0, NULL, 0) == 0) return 1;
    return 0;
}

// Names met while rendering (attributes, dict keys) are mostly the same few str objects: their
// answers are kept by object, holding a reference so that an address is never reused.
typedef struct NameCache { PyObject **keys; uint8_t *answers; size_t cap, count; } NameCache;
static NameCache name_cache;

static void name_cache_clear(void) {
    for (size_t i = 0; i < name_cache.cap; i++) Py_CLEAR(name_cache.keys[i]);
    name_cache.count = 0;
}

int pode_redact_name_object(PyObject *name) {
    if (!pode_redact_on || !name || !PyUnicode_Check(name)) return 0;
    if (!name_cache.keys) {
        name_cache.cap = 4096;
        name_cache.keys = calloc(name_cache.cap, sizeof *name_cache.keys);
        name_cache.answers = calloc(name_cache.cap, 1);
        if (!name_cache.keys || !name_cache.answers) abort();
    }
    size_t mask = name_cache.cap - 1;
    size_t i = ((uintptr_t)name >> 4) & mask;
    while (name_cache.keys[i]) {
        if (name_cache.keys[i] == name) return name_cache.answers[i];
        i = (i + 1) & mask;
    }
    const char *s = PyUnicode_AsUTF8(name);
    if (!s) { PyErr_Clear(); return 0; }
    int answer = pode_redact_name_utf8(s);
    if (name_cache.count * 2 >= name_cache.cap) {
        name_cache_clear();
        i = ((uintptr_t)name >> 4) & mask;
    }
    Py_INCREF(name);
    name_cache.keys[i] = name;
    name_cache.answers[i] = (uint8_t)answer;
    name_cache.count++;
    return answer;
}

// ---- values that look like secrets -----------------------------------------------------------

static inline int is_alnum(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static inline int is_upper_digit(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); }
static inline int is_token(unsigned char c) { return is_alnum(c) || c == '_' || c == '-'; }
static inline int is_token68(unsigned char c) { return is_token(c) || c == '.' || c == '~' || c == '+' || c == '/' || c == '='; }

static size_t run(const unsigned char *s, size_t n, size_t i, int (*in)(unsigned char)) {
    size_t j = i;
    while (j < n && in(s[j])) j++;
    return j - i;
}

static int starts(const unsigned char *s, size_t n, size_t i, const char *prefix) {
    size_t k = strlen(prefix);
    return i + k <= n && memcmp(s + i, prefix, k) == 0;
}

static int starts_nocase(const unsigned char *s, size_t n, size_t i, const char *prefix) {
    size_t k = strlen(prefix);
    if (i + k > n) return 0;
    for (size_t j = 0; j < k; j++) {
        unsigned char c = s[i + j];
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
        if (c != (unsigned char)prefix[j]) return 0;
    }
    return 1;
}

// Known prefixes of issued secrets, and how many token characters must follow.
static const struct { const char *prefix; size_t min; } secret_prefixes[] = {
    {"ghp_", 20}, {"gho_", 20}, {"ghu_", 20}, {"ghs_", 20}, {"ghr_", 20}, {"github_pat_", 20},
    {"glpat-", 20}, {"xoxb-", 10}, {"xoxp-", 10}, {"xoxa-", 10}, {"xoxr-", 10}, {"xoxs-", 10}, {"xapp-", 10},
    {"sk_live_", 16}, {"sk_test_", 16}, {"rk_live_", 16}, {"rk_test_", 16}, {"sk-", 20}, {"npm_", 30},
    {"AIza", 30},
};
static const char *aws_prefixes[] = {"AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "APKA", "AROA", "ASCA"};

// The shortest text any rule below matches: an "xox?-" prefix and 10 token characters. Most
// values a program holds are shorter, and are passed at once.

int pode_redact_looks_secret(const char *text, size_t n) {
    if (n < PODE_SHORTEST_SECRET) return 0;
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        int at_word = i == 0 || !is_alnum(s[i - 1]);
        switch (c) {
        case '-':
            if (starts(s, n, i, "-----BEGIN ")) {
                size_t end = i + 11;
                while (end < n && s[end] != '\n' && end < i + 80) end++;
                for (size_t j = i + 11; j + 11 <= end; j++)
                    if (memcmp(s + j, "PRIVATE KEY", 11) == 0) return 1;
            }
            break;
        case 'b': case 'B':
            if (at_word && starts_nocase(s, n, i, "bearer ") && run(s, n, i + 7, is_token68) >= 16) return 1;
            break;
        case 'e':
            // A JSON Web Token: base64url of '{"...' twice, dot-separated.
            if (at_word && starts(s, n, i, "eyJ")) {
                size_t a = run(s, n, i, is_token);
                if (a >= 10 && i + a < n && s[i + a] == '.' && starts(s, n, i + a + 1, "eyJ") && run(s, n, i + a + 1, is_token) >= 10) return 1;
            }
            break;
        default:
            break;
        }
        if (!at_word) continue;
        if (c == 'A') {
            for (size_t k = 0; k < sizeof aws_prefixes / sizeof *aws_prefixes; k++)
                if (i + 1 < n && s[i + 1] == (unsigned char)aws_prefixes[k][1] && starts(s, n, i, aws_prefixes[k]) && run(s, n, i + 4, is_upper_digit) == 16) return 1;
        }
        if (c == 'g' || c == 'x' || c == 's' || c == 'r' || c == 'n' || c == 'A') {
            for (size_t k = 0; k < sizeof secret_prefixes / sizeof *secret_prefixes; k++) {
                if ((unsigned char)secret_prefixes[k].prefix[0] != c) continue;
                size_t len = strlen(secret_prefixes[k].prefix);
                if (starts(s, n, i, secret_prefixes[k].prefix) && run(s, n, i + len, is_token) >= secret_prefixes[k].min) return 1;
            }
        }
    }
    return 0;
}

// A secret cut by the value limit still shows its start: look a little past the limit.
static inline size_t scan_length(size_t len, size_t limit) { return len < limit + 128 ? len : limit + 128; }

int pode_redact_bytes_look_secret(const char *s, size_t len, size_t limit) {
    return pode_redact_on && pode_redact_looks_secret(s, scan_length(len, limit));
}

int pode_redact_str_looks_secret(PyObject *o, size_t limit) {
    if (!pode_redact_on) return 0;
    size_t n = scan_length((size_t)PyUnicode_GET_LENGTH(o), limit);
    int kind = PyUnicode_KIND(o);
    const void *data = PyUnicode_DATA(o);
    if (kind == PyUnicode_1BYTE_KIND) return pode_redact_looks_secret((const char *)data, n);
    static unsigned char *ascii;
    static size_t ascii_cap;
    if (n > ascii_cap) {
        unsigned char *p = realloc(ascii, n);
        if (!p) return 1;  // cannot look: keep it out
        ascii = p;
        ascii_cap = n;
    }
    for (size_t i = 0; i < n; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, (Py_ssize_t)i);
        ascii[i] = ch < 0x80 ? (unsigned char)ch : 0x80;
    }
    return pode_redact_looks_secret((const char *)ascii, n);
}
