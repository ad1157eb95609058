/* Fast path of `shijian ingest`: one pass over a delivered CSV file's bytes that decodes (UTF-8 or GB18030),
 * splits the cells and cleans them exactly as the reference SQL path does (shijian/ingest/clean.py):
 * full-width ASCII and the ideographic space to half-width, trim of Unicode space separators, upper-case of
 * the key columns, the spreadsheet ".0" artefact. It also parses dates (the subset of strptime the mappings
 * use: %Y %m %d and literals) and amounts, and hashes each row's text for duplicate detection.
 *
 * Anything it is not sure to treat exactly like the reference path (a malformed row, a blank line, a 4-byte
 * GB18030 sequence, invalid UTF-8, a NUL byte, a non-ASCII key that upper() could change, an amount such as
 * "1e3" or "inf") makes it give up with a reason, and the caller runs the reference path on the whole file:
 * the fast path is an optimisation, never a second set of rules. The tests compare the two on messy files.
 *
 * Output is Arrow-layout buffers (int32 offsets + UTF-8 data per column) returned as bytes objects.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* GB18030 two-byte codes: lead 0x81..0xFE, trail 0x40..0xFE; 0 = not a two-byte code we decode. The table is
 * filled from Python (set_gb_table), built from the codec and checked against iconv by the tests. */
static uint16_t GB2[126 * 191];
/* Four-byte codes of the BMP, by linear index (b1-0x81)*12600 + (b2-0x30)*1260 + (b3-0x81)*10 + (b4-0x30);
 * the supplementary planes (b1 0x90..0xE3) are computed. */
#define GB4_BMP 39420
static uint16_t GB4[GB4_BMP];
static int gb_ready = 0;
/* GB2 as ready UTF-8: bytes in the low 24 bits, length in bits 24-26, bit 31 set for full-width ASCII and
 * U+3000 (already translated to the half-width byte). */
static uint32_t GB2U8[126 * 191];

static void gb_prepare(void) {
    for (int i = 0; i < 126 * 191; i++) {
        uint32_t cp = GB2[i];
        uint32_t e = 0;
        if (cp == 0) {
            e = 0;
        } else if (cp >= 0xFF01 && cp <= 0xFF5E) {
            e = (cp - 0xFEE0) | (1u << 24) | 0x80000000u;
        } else if (cp == 0x3000) {
            e = ' ' | (1u << 24) | 0x80000000u;
        } else if (cp < 0x80) {
            e = cp | (1u << 24);
        } else if (cp < 0x800) {
            e = (0xC0 | (cp >> 6)) | ((0x80 | (cp & 0x3F)) << 8) | (2u << 24);
        } else {
            e = (0xE0 | (cp >> 12)) | ((0x80 | ((cp >> 6) & 0x3F)) << 8) | ((0x80 | (cp & 0x3F)) << 16) | (3u << 24);
        }
        GB2U8[i] = e;
    }
}

typedef struct {
    char *p;
    size_t n, cap;
} buf_t;

static int buf_grow(buf_t *b, size_t extra) {
    if (b->n + extra <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 1 << 16;
    while (cap < b->n + extra) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static void buf_free(buf_t *b) {
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

/* ---- Output buffers handed to Python without a copy (writable buffer protocol), and recycled: the memory of a
 * released buffer, already faulted in, is kept for the next file instead of going back to the system. On a
 * virtual machine each fresh page costs a fault and zeroing; at 200 bytes a row that was a fifth of the ingest.
 * The pool holds at most POOL_LIMIT bytes; it is shared by threads under a mutex. */
#define POOL_SLOTS 96
#define POOL_LIMIT ((size_t)3 << 30)
static struct {
    char *p;
    size_t cap;
} pool[POOL_SLOTS];
static int pool_n = 0;
static size_t pool_bytes = 0;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;

/* The smallest pooled block of at least `need` bytes, or NULL. */
static char *pool_take(size_t need, size_t *cap) {
    pthread_mutex_lock(&pool_lock);
    int best = -1;
    for (int i = 0; i < pool_n; i++)
        if (pool[i].cap >= need && (best < 0 || pool[i].cap < pool[best].cap)) best = i;
    char *p = NULL;
    if (best >= 0) {
        p = pool[best].p;
        *cap = pool[best].cap;
        pool_bytes -= pool[best].cap;
        pool[best] = pool[--pool_n];
    }
    pthread_mutex_unlock(&pool_lock);
    return p;
}

static void pool_put(char *p, size_t cap) {
    if (!p) return;
    pthread_mutex_lock(&pool_lock);
    if (cap >= (1 << 20) && pool_n < POOL_SLOTS && pool_bytes + cap <= POOL_LIMIT) {
        pool[pool_n].p = p;
        pool[pool_n].cap = cap;
        pool_n++;
        pool_bytes += cap;
        p = NULL;
    }
    pthread_mutex_unlock(&pool_lock);
    free(p);
}

/* Grow b to hold `need` more bytes with a pooled block where one is big enough (the contents are copied). */
static int buf_reserve(buf_t *b, size_t extra) {
    if (b->n + extra <= b->cap) return 0;
    size_t cap = 0;
    char *p = pool_take(b->n + extra, &cap);
    if (!p) return buf_grow(b, extra);
    if (b->n) memcpy(p, b->p, b->n);
    free(b->p);
    b->p = p;
    b->cap = cap;
    return 0;
}

typedef struct {
    PyObject_HEAD char *p;
    Py_ssize_t n;
    size_t cap;
} OwnedBuf;

static char EMPTY[8];

static int owned_getbuffer(PyObject *self, Py_buffer *view, int flags) {
    OwnedBuf *b = (OwnedBuf *)self;
    return PyBuffer_FillInfo(view, self, b->p ? b->p : EMPTY, b->n, 0, flags);
}

static void owned_dealloc(PyObject *self) {
    OwnedBuf *b = (OwnedBuf *)self;
    pool_put(b->p, b->cap);
    Py_TYPE(self)->tp_free(self);
}

static PyBufferProcs owned_as_buffer = {owned_getbuffer, NULL};

static PyTypeObject OwnedBufType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "shijian.ingest._fastcsv.Buffer",
    .tp_basicsize = sizeof(OwnedBuf),
    .tp_dealloc = owned_dealloc,
    .tp_as_buffer = &owned_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Bytes written by the native reader (writable, recycled when released).",
};

/* A Python object owning b's bytes (b is left empty). */
static PyObject *owned_from(buf_t *b) {
    OwnedBuf *o = PyObject_New(OwnedBuf, &OwnedBufType);
    if (!o) return NULL;
    o->p = b->p;
    o->n = (Py_ssize_t)b->n;
    o->cap = b->cap;
    b->p = NULL;
    b->n = b->cap = 0;
    return (PyObject *)o;
}

/* A new owned buffer of n bytes (contents undefined), from the pool where possible. */
static PyObject *owned_new(size_t n, char **data) {
    buf_t b = {0};
    if (buf_reserve(&b, n ? n : 1) < 0) return PyErr_NoMemory();
    b.n = n;
    *data = b.p;
    PyObject *o = owned_from(&b);
    if (!o) buf_free(&b);
    return o;
}

#define FLAG_UPPER 1    /* key column: upper-case (ASCII; CJK has no case; anything else: give up) */
#define FLAG_ARTEFACT 2 /* "123.0" -> "123" */
#define FLAG_HASH 4     /* part of the row's content hash */
#define FLAG_USCC 8     /* GB 32100 check of the cleaned value, one byte per row in "uscc_ok" */

static const char USCC_CHARSET[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
static const int USCC_WEIGHTS[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
static signed char USCC_VALUE[256];

static void uscc_init(void) {
    memset(USCC_VALUE, -1, sizeof USCC_VALUE);
    for (int i = 0; i < 31; i++) USCC_VALUE[(unsigned char)USCC_CHARSET[i]] = (signed char)i;
}

/* 18 characters of the charset, positions 3-8 digits, the right check character (shijian.core.codes.uscc) */
static int uscc_valid(const unsigned char *s, size_t n) {
    if (n != 18) return 0;
    int total = 0;
    for (int i = 0; i < 18; i++) {
        int v = USCC_VALUE[s[i]];
        if (v < 0) return 0;
        if (i >= 2 && i < 8 && !(s[i] >= '0' && s[i] <= '9')) return 0;
        if (i < 17) total += v * USCC_WEIGHTS[i];
    }
    return USCC_CHARSET[(31 - total % 31) % 31] == (char)s[17];
}

typedef struct {
    const char *reason; /* set when giving up */
    long line;          /* data row (1-based) where it gave up, 0 if not row-specific */
} fail_t;

static inline uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
    return h * 0xFF51AFD7ED558CCDULL;
}

static inline int put_utf8(unsigned char *o, uint32_t cp) {
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    o[0] = (unsigned char)(0xE0 | (cp >> 12));
    o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
}

/* Length of a Unicode space separator (category Zs, what DuckDB's trim() removes) starting at s, else 0. */
static inline int zs_at(const unsigned char *s, size_t n) {
    if (n >= 1 && s[0] == ' ') return 1;
    if (n >= 2 && s[0] == 0xC2 && s[1] == 0xA0) return 2;
    if (n >= 3 && s[0] == 0xE1 && s[1] == 0x9A && s[2] == 0x80) return 3;                /* U+1680 */
    if (n >= 3 && s[0] == 0xE2 && s[1] == 0x80 && s[2] >= 0x80 && s[2] <= 0x8A) return 3; /* U+2000..200A */
    if (n >= 3 && s[0] == 0xE2 && s[1] == 0x80 && s[2] == 0xAF) return 3;                /* U+202F */
    if (n >= 3 && s[0] == 0xE2 && s[1] == 0x81 && s[2] == 0x9F) return 3;                /* U+205F */
    if (n >= 3 && s[0] == 0xE3 && s[1] == 0x80 && s[2] == 0x80) return 3;                /* U+3000 */
    return 0;
}

/* Length of a Zs character ending at s[n-1], else 0. */
static inline int zs_before(const unsigned char *s, size_t n) {
    if (n >= 1 && s[n - 1] == ' ') return 1;
    if (n >= 2 && zs_at(s + n - 2, 2) == 2) return 2;
    if (n >= 3 && zs_at(s + n - 3, 3) == 3) return 3;
    return 0;
}

/* Decode the raw cell bytes [s, s+n) into out (UTF-8), translating full-width ASCII and U+3000. Quoted cells
 * have their doubled quotes collapsed by the caller beforehand. Returns 0, or -1 with f->reason set. */
static int decode_cell(const unsigned char *s, size_t n, int gb, buf_t *out, int *fullwidth, fail_t *f) {
    if (buf_grow(out, n * 3 / 2 + 8) < 0) {
        f->reason = "out of memory";
        return -1;
    }
    unsigned char *o = (unsigned char *)out->p + out->n;
    size_t i = 0;
    while (i < n) {
        if (gb) {
            /* runs of GB18030 two-byte characters (most of a Chinese name or address): one table read and one
             * 4-byte store each (the reserve covers the byte past a character) */
            while (i + 1 < n) {
                unsigned char c = s[i], t = s[i + 1];
                if (c < 0x81 || c == 0xFF || t < 0x40 || t == 0x7F || t == 0xFF) break;
                uint32_t e = GB2U8[(c - 0x81) * 191 + (t - 0x40)];
                if (e == 0) break; /* the general path below says why */
                memcpy(o, &e, 4);
                o += (e >> 24) & 7;
                *fullwidth |= (int)(e >> 31);
                i += 2;
            }
            if (i >= n) break;
        } else {
            /* runs of CJK ideographs in UTF-8 (lead bytes E4..E9: no full-width form, no U+3000, no overlong or
             * surrogate to refuse): copied 3 bytes at a time (the reserve covers a 4-byte store) */
            while (i + 3 <= n) {
                unsigned char c = s[i];
                if (c < 0xE4 || c > 0xE9 || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80) break;
                memcpy(o, s + i, 4 <= n - i ? 4 : 3);
                o += 3;
                i += 3;
            }
            if (i >= n) break;
        }
        /* runs of ASCII without NUL, 8 bytes at a time */
        while (i + 8 <= n) {
            uint64_t v;
            memcpy(&v, s + i, 8);
            if ((v & 0x8080808080808080ULL) || ((v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL)) break;
            memcpy(o, &v, 8);
            o += 8;
            i += 8;
        }
        if (i >= n) break;
        unsigned char c = s[i];
        if (c < 0x80) {
            if (c == 0) {
                f->reason = "NUL byte";
                return -1;
            }
            *o++ = c;
            i++;
            continue;
        }
        uint32_t cp;
        if (gb) {
            if (c == 0x80 || c == 0xFF || i + 1 >= n) {
                f->reason = "byte outside GB18030 two-byte codes";
                return -1;
            }
            unsigned char t = s[i + 1];
            if (t >= 0x30 && t <= 0x39) {
                if (i + 3 >= n || s[i + 2] < 0x81 || s[i + 2] > 0xFE || s[i + 3] < 0x30 || s[i + 3] > 0x39) {
                    f->reason = "invalid GB18030 four-byte sequence";
                    return -1;
                }
                uint32_t lin = (uint32_t)(c - 0x81) * 12600 + (uint32_t)(t - 0x30) * 1260 +
                               (uint32_t)(s[i + 2] - 0x81) * 10 + (uint32_t)(s[i + 3] - 0x30);
                i += 4;
                if (lin < GB4_BMP) {
                    cp = GB4[lin];
                } else if (c >= 0x90 && c <= 0xE3) {
                    uint32_t sup = 0x10000 + (uint32_t)(c - 0x90) * 12600 + (uint32_t)(t - 0x30) * 1260 +
                                   (uint32_t)(s[i - 2] - 0x81) * 10 + (uint32_t)(s[i - 1] - 0x30);
                    if (sup > 0x10FFFF) {
                        f->reason = "invalid GB18030 four-byte sequence";
                        return -1;
                    }
                    *o++ = (unsigned char)(0xF0 | (sup >> 18));
                    *o++ = (unsigned char)(0x80 | ((sup >> 12) & 0x3F));
                    *o++ = (unsigned char)(0x80 | ((sup >> 6) & 0x3F));
                    *o++ = (unsigned char)(0x80 | (sup & 0x3F));
                    continue;
                } else {
                    cp = 0;
                }
                if (cp == 0) {
                    f->reason = "GB18030 four-byte code without a table entry";
                    return -1;
                }
            } else {
                if (t < 0x40 || t == 0x7F || t == 0xFF) {
                    f->reason = "invalid GB18030 byte";
                    return -1;
                }
                uint32_t e = GB2U8[(c - 0x81) * 191 + (t - 0x40)];
                if (e == 0) {
                    f->reason = "GB18030 code without a table entry";
                    return -1;
                }
                o[0] = (unsigned char)e;
                o[1] = (unsigned char)(e >> 8);
                o[2] = (unsigned char)(e >> 16); /* may run past a 1-2 byte character: within the reserve */
                o += (e >> 24) & 7;
                if (e & 0x80000000u) *fullwidth = 1;
                i += 2;
                continue;
            }
        } else {
            if (c >= 0xC2 && c <= 0xDF && i + 1 < n && (s[i + 1] & 0xC0) == 0x80) {
                cp = ((uint32_t)(c & 0x1F) << 6) | (s[i + 1] & 0x3F);
                i += 2;
            } else if (c >= 0xE0 && c <= 0xEF && i + 2 < n && (s[i + 1] & 0xC0) == 0x80 && (s[i + 2] & 0xC0) == 0x80) {
                if ((c == 0xE0 && s[i + 1] < 0xA0) || (c == 0xED && s[i + 1] >= 0xA0)) {
                    f->reason = "invalid UTF-8";
                    return -1;
                }
                if (!((c == 0xEF && (s[i + 1] == 0xBC || s[i + 1] == 0xBD)) || (c == 0xE3 && s[i + 1] == 0x80))) {
                    /* not full-width ASCII nor U+3000: copied as it is */
                    o[0] = c;
                    o[1] = s[i + 1];
                    o[2] = s[i + 2];
                    o += 3;
                    i += 3;
                    continue;
                }
                cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F);
                i += 3;
            } else if (c >= 0xF0 && c <= 0xF4 && i + 3 < n && (s[i + 1] & 0xC0) == 0x80 &&
                       (s[i + 2] & 0xC0) == 0x80 && (s[i + 3] & 0xC0) == 0x80) {
                cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[i + 1] & 0x3F) << 12) |
                     ((uint32_t)(s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F);
                if (cp < 0x10000 || cp > 0x10FFFF) {
                    f->reason = "invalid UTF-8";
                    return -1;
                }
                /* copy the 4 bytes as they are */
                memcpy(o, s + i, 4);
                o += 4;
                i += 4;
                continue;
            } else {
                f->reason = "invalid UTF-8";
                return -1;
            }
        }
        if (cp >= 0xFF01 && cp <= 0xFF5E) {
            *o++ = (unsigned char)(cp - 0xFEE0);
            *fullwidth = 1;
        } else if (cp == 0x3000) {
            *o++ = ' ';
            *fullwidth = 1;
        } else {
            o += put_utf8(o, cp);
        }
    }
    size_t len = (size_t)(o - ((unsigned char *)out->p + out->n));
    out->n += len;
    return 0;
}

/* Clean the cell just decoded at out[start..out->n): trim, upper-case, ".0" artefact (as clean.py). */
static int finish_cell(buf_t *out, size_t start, int fullwidth, int flags, fail_t *f) {
    unsigned char *s = (unsigned char *)out->p + start;
    size_t n = out->n - start;
    if (n && (fullwidth || s[0] == ' ' || s[n - 1] == ' ')) {
        size_t a = 0, b = n;
        int k;
        while (a < b && (k = zs_at(s + a, b - a)) > 0) a += (size_t)k;
        while (b > a && (k = zs_before(s + a, b - a)) > 0) b -= (size_t)k;
        if (a) memmove(s, s + a, b - a);
        n = b - a;
        out->n = start + n;
    }
    if (flags & FLAG_UPPER) {
        for (size_t i = 0; i < n; i++) {
            unsigned char c = s[i];
            if (c >= 'a' && c <= 'z') {
                s[i] = (unsigned char)(c - 32);
            } else if (c >= 0x80) {
                /* U+3000..U+9FFF (lead bytes E3..E9) have no case; anything else might */
                if (c >= 0xE3 && c <= 0xE9 && i + 2 < n) {
                    i += 2;
                } else {
                    f->reason = "non-ASCII key that upper() might change";
                    return -1;
                }
            }
        }
    }
    if ((flags & FLAG_ARTEFACT) && n >= 3 && s[n - 1] == '0' && s[n - 2] == '.') {
        size_t i = 0;
        while (i < n - 2 && s[i] >= '0' && s[i] <= '9') i++;
        if (i == n - 2) out->n = start + n - 2;
    }
    return 0;
}

/* The end of an unquoted cell: the first ',', '\n', '\r' or '"' at or after e (n if none); 16 bytes a step
 * where SSE2 exists (every x86-64). GB18030 and UTF-8 continuation bytes are never below 0x40: no character hides
 * one of these. */
#ifdef __SSE2__
#include <emmintrin.h>
#endif
static inline size_t scan_cell(const unsigned char *p, size_t e, size_t n) {
#ifdef __SSE2__
    const __m128i comma = _mm_set1_epi8(','), nl = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'), qt = _mm_set1_epi8('"');
    while (e + 16 <= n) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + e));
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, nl)),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, qt)));
        int bits = _mm_movemask_epi8(m);
        if (bits) return e + (size_t)__builtin_ctz((unsigned)bits);
        e += 16;
    }
#endif
    while (e < n && p[e] != ',' && p[e] != '\n' && p[e] != '\r' && p[e] != '"') e++;
    return e;
}

/* Two independent multiply lanes over 16-byte steps (a short dependency chain); equal hashes are only
 * candidates, which the caller confirms on the content. */
static inline uint64_t hash_bytes(uint64_t h, const unsigned char *s, size_t n) {
    uint64_t a = h ^ n, b = h + 0x632BE59BD9B4E019ULL;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        uint64_t v, w;
        memcpy(&v, s + i, 8);
        memcpy(&w, s + i + 8, 8);
        a = (a ^ v) * 0x9E3779B97F4A7C15ULL;
        b = (b ^ w) * 0xC2B2AE3D27D4EB4FULL;
        a ^= a >> 29;
        b ^= b >> 31;
    }
    uint64_t v = 0, w = 0;
    size_t rest = n - i;
    memcpy(&v, s + i, rest < 8 ? rest : 8);
    if (rest > 8) memcpy(&w, s + i + 8, rest - 8);
    return mix(mix(h, a ^ v), b ^ w);
}

/* parse(data, gb18030, ncols, slots, flags, nslots) -> dict | str
 * slots[c]: output column of delivered column c, or -1 (not kept); flags[k]: FLAG_* of output column k.
 * Returns {"rows", "columns": [(offsets, data)], "starts": bytes(int64 per row: byte offset in data),
 * "hash": bytes(uint64)} or a str: why the fast path gave up. */
static PyObject *parse(PyObject *self, PyObject *args) {
    Py_buffer view;
    int gb, ncols, nslots;
    PyObject *slots_obj, *flags_obj;
    if (!PyArg_ParseTuple(args, "y*iiOOi", &view, &gb, &ncols, &slots_obj, &flags_obj, &nslots)) return NULL;
    if (gb && !gb_ready) {
        PyBuffer_Release(&view);
        return PyUnicode_FromString("GB18030 table not loaded");
    }
    int *slots = calloc((size_t)ncols, sizeof(int));
    int *flags = calloc((size_t)nslots + 1, sizeof(int));
    buf_t *data = calloc((size_t)nslots + 1, sizeof(buf_t));
    buf_t *offs = calloc((size_t)nslots + 1, sizeof(buf_t));
    buf_t starts = {0}, hashes = {0}, quoted = {0}, okbuf = {0};
    PyObject *result = NULL;
    fail_t f = {NULL, 0};
    if (!slots || !flags || !data || !offs) {
        PyErr_NoMemory();
        goto done;
    }
    for (int c = 0; c < ncols; c++) {
        PyObject *v = PySequence_GetItem(slots_obj, c);
        if (!v) goto done;
        slots[c] = (int)PyLong_AsLong(v);
        Py_DECREF(v);
    }
    for (int k = 0; k < nslots; k++) {
        PyObject *v = PySequence_GetItem(flags_obj, k);
        if (!v) goto done;
        flags[k] = (int)PyLong_AsLong(v);
        Py_DECREF(v);
    }
    if (PyErr_Occurred()) goto done;

    const unsigned char *p = view.buf;
    size_t n = (size_t)view.len, pos = 0;
    long rows = 0;
    Py_BEGIN_ALLOW_THREADS;
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF && !gb) pos = 3;
    /* skip the header record (the caller read and checked it) */
    {
        int inq = 0;
        while (pos < n) {
            unsigned char c = p[pos++];
            if (c == '"') inq = !inq;
            else if (c == '\n' && !inq) break;
        }
    }
    for (int k = 0; k < nslots; k++) {
        if (buf_grow(&offs[k], 4) < 0) {
            f.reason = "out of memory";
            goto parsed;
        }
        int32_t zero = 0;
        memcpy(offs[k].p, &zero, 4);
        offs[k].n = 4;
    }
    while (pos < n) {
        if (p[pos] == '\n' || p[pos] == '\r') {
            f.reason = "blank line";
            f.line = rows + 1;
            goto parsed;
        }
        int64_t start = (int64_t)pos;
        if (buf_grow(&starts, 8) < 0 || buf_grow(&hashes, 8) < 0) {
            f.reason = "out of memory";
            goto parsed;
        }
        memcpy(starts.p + starts.n, &start, 8);
        starts.n += 8;
        if (buf_grow(&okbuf, 1) < 0) {
            f.reason = "out of memory";
            goto parsed;
        }
        okbuf.p[okbuf.n] = 0;
        uint64_t h = 0x243F6A8885A308D3ULL;
        for (int c = 0; c < ncols; c++) {
            const unsigned char *cell;
            size_t len;
            if (pos < n && p[pos] == '"') {
                /* quoted: "" inside is a literal quote */
                size_t q = pos + 1;
                quoted.n = 0;
                for (;;) {
                    const unsigned char *e = memchr(p + q, '"', n - q);
                    if (!e) {
                        f.reason = "unterminated quote";
                        f.line = rows + 1;
                        goto parsed;
                    }
                    size_t seg = (size_t)(e - (p + q));
                    size_t qe = (size_t)(e - p);
                    if (qe + 1 < n && p[qe + 1] == '"') {
                        if (buf_grow(&quoted, seg + 1) < 0) {
                            f.reason = "out of memory";
                            goto parsed;
                        }
                        memcpy(quoted.p + quoted.n, p + q, seg + 1);
                        quoted.n += seg + 1;
                        q = qe + 2;
                        continue;
                    }
                    if (quoted.n) {
                        if (buf_grow(&quoted, seg) < 0) {
                            f.reason = "out of memory";
                            goto parsed;
                        }
                        memcpy(quoted.p + quoted.n, p + q, seg);
                        quoted.n += seg;
                        cell = (const unsigned char *)quoted.p;
                        len = quoted.n;
                    } else {
                        cell = p + q;
                        len = seg;
                    }
                    pos = qe + 1;
                    break;
                }
            } else {
                size_t e = scan_cell(p, pos, n);
                if (e < n && p[e] == '"') {
                    f.reason = "quote inside an unquoted cell";
                    f.line = rows + 1;
                    goto parsed;
                }
                cell = p + pos;
                len = e - pos;
                pos = e;
            }
            /* separator */
            if (c < ncols - 1) {
                if (pos >= n || p[pos] != ',') {
                    f.reason = "too few cells";
                    f.line = rows + 1;
                    goto parsed;
                }
                pos++;
            } else {
                if (pos < n && p[pos] == '\r') pos++;
                if (pos < n && p[pos] != '\n') {
                    f.reason = p[pos] == ',' ? "too many cells" : "unexpected character after a cell";
                    f.line = rows + 1;
                    goto parsed;
                }
                if (pos < n) pos++;
            }
            int k = slots[c];
            if (k < 0) continue;
            int fw = 0;
            size_t cstart = data[k].n;
            if (decode_cell(cell, len, gb, &data[k], &fw, &f) < 0 || finish_cell(&data[k], cstart, fw, flags[k], &f) < 0) {
                f.line = rows + 1;
                goto parsed;
            }
            if (data[k].n > 0x7FFFFFF0u) {
                f.reason = "column over 2 GB";
                goto parsed;
            }
            if (flags[k] & FLAG_USCC) okbuf.p[okbuf.n] = (char)uscc_valid((unsigned char *)data[k].p + cstart, data[k].n - cstart);
            if (flags[k] & FLAG_HASH) h = hash_bytes(mix(h, (uint64_t)k), (unsigned char *)data[k].p + cstart, data[k].n - cstart);
        }
        for (int k = 0; k < nslots; k++) {
            if (buf_grow(&offs[k], 4) < 0) {
                f.reason = "out of memory";
                goto parsed;
            }
            int32_t end = (int32_t)data[k].n;
            memcpy(offs[k].p + offs[k].n, &end, 4);
            offs[k].n += 4;
        }
        memcpy(hashes.p + hashes.n, &h, 8);
        hashes.n += 8;
        okbuf.n++;
        rows++;
        if (rows == 4096 && pos < n) {
            /* room for the whole file at the rate seen so far (fewer reallocations and copies) */
            double scale = (double)(n - pos) / (double)(pos + 1) * 1.1;
            for (int k = 0; k < nslots; k++)
                if (buf_reserve(&data[k], (size_t)(data[k].n * scale)) < 0 || buf_reserve(&offs[k], (size_t)(offs[k].n * scale)) < 0) {
                    f.reason = "out of memory";
                    goto parsed;
                }
            if (buf_reserve(&starts, (size_t)(starts.n * scale)) < 0 || buf_reserve(&hashes, (size_t)(hashes.n * scale)) < 0 ||
                buf_reserve(&okbuf, (size_t)(okbuf.n * scale)) < 0) {
                f.reason = "out of memory";
                goto parsed;
            }
        }
    }
parsed:
    Py_END_ALLOW_THREADS;
    if (f.reason) {
        if (f.line) result = PyUnicode_FromFormat("%s (data row %ld)", f.reason, f.line);
        else result = PyUnicode_FromString(f.reason);
        goto done;
    }
    {
        PyObject *cols = PyList_New(nslots);
        if (!cols) goto done;
        for (int k = 0; k < nslots; k++) {
            PyObject *t = Py_BuildValue("(NN)", owned_from(&offs[k]), owned_from(&data[k]));
            if (!t) {
                Py_DECREF(cols);
                goto done;
            }
            PyList_SET_ITEM(cols, k, t);
        }
        result = Py_BuildValue("{s:l,s:N,s:N,s:N,s:N}", "rows", rows, "columns", cols, "starts", owned_from(&starts),
                               "hash", owned_from(&hashes), "uscc_ok", owned_from(&okbuf));
    }
done:
    PyBuffer_Release(&view);
    if (data)
        for (int k = 0; k < nslots; k++) buf_free(&data[k]);
    if (offs)
        for (int k = 0; k < nslots; k++) buf_free(&offs[k]);
    buf_free(&starts);
    buf_free(&hashes);
    buf_free(&quoted);
    buf_free(&okbuf);
    free(data);
    free(offs);
    free(slots);
    free(flags);
    return result;
}

static PyObject *set_gb_table(PyObject *self, PyObject *args) {
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view)) return NULL;
    if ((size_t)view.len != sizeof(GB2) + sizeof(GB4)) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "GB18030 table has the wrong size");
        return NULL;
    }
    memcpy(GB2, view.buf, sizeof(GB2));
    memcpy(GB4, (const char *)view.buf + sizeof(GB2), sizeof(GB4));
    gb_prepare();
    gb_ready = 1;
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
}

/* ---- dates: the strptime subset %Y %m %d plus literal characters, with DuckDB's rules: leading and trailing
 * white space skipped, %Y up to 4 digits, %m and %d up to 2, at least 1 digit each, no sign; the date must exist.
 */

static int is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int parse_one_date(const unsigned char *s, size_t n, const char *fmt, int32_t *out) {
    size_t i = 0;
    while (i < n && is_space(s[i])) i++;
    while (n > i && is_space(s[n - 1])) n--;
    int y = -1, m = 1, d = 1;
    for (const char *q = fmt; *q; q++) {
        if (*q == '%') {
            q++;
            int maxd = *q == 'Y' ? 4 : 2, v = 0, k = 0;
            while (k < maxd && i < n && s[i] >= '0' && s[i] <= '9') {
                v = v * 10 + (s[i] - '0');
                i++;
                k++;
            }
            if (!k) return 0;
            if (*q == 'Y') y = v;
            else if (*q == 'm') m = v;
            else d = v;
        } else {
            if (i >= n || s[i] != (unsigned char)*q) return 0;
            i++;
        }
    }
    if (i != n || y < 0 || m < 1 || m > 12 || d < 1) return 0;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int dim = mdays[m - 1] + (m == 2 && leap);
    if (d > dim) return 0;
    *out = (int32_t)days_from_civil(y, (unsigned)m, (unsigned)d);
    return 1;
}

/* dates(offsets, data, formats) -> (int32 days bytes, uint8 ok bytes): the first format that reads wins. */
static PyObject *dates(PyObject *self, PyObject *args) {
    Py_buffer ov, dv;
    PyObject *fmts;
    if (!PyArg_ParseTuple(args, "y*y*O", &ov, &dv, &fmts)) return NULL;
    Py_ssize_t nf = PySequence_Length(fmts);
    const char **fv = calloc((size_t)nf + 1, sizeof(char *));
    PyObject *result = NULL;
    for (Py_ssize_t j = 0; j < nf; j++) {
        PyObject *v = PySequence_GetItem(fmts, j);
        if (!v) goto out;
        fv[j] = PyUnicode_AsUTF8(v); /* kept alive by the sequence */
        Py_DECREF(v);
        if (!fv[j]) goto out;
    }
    {
        Py_ssize_t rows = ov.len / 4 - 1;
        const int32_t *o = ov.buf;
        const unsigned char *s = dv.buf;
        char *dpc = NULL, *kp = NULL;
        PyObject *days = owned_new((size_t)rows * 4, &dpc);
        PyObject *ok = days ? owned_new((size_t)rows, &kp) : NULL;
        if (!days || !ok) {
            Py_XDECREF(days);
            Py_XDECREF(ok);
            goto out;
        }
        int32_t *dp = (int32_t *)dpc;
        for (Py_ssize_t r = 0; r < rows; r++) {
            dp[r] = 0;
            kp[r] = 0;
            size_t len = (size_t)(o[r + 1] - o[r]);
            if (!len) continue;
            for (Py_ssize_t j = 0; j < nf; j++)
                if (parse_one_date(s + o[r], len, fv[j], &dp[r])) {
                    kp[r] = 1;
                    break;
                }
        }
        result = Py_BuildValue("(NN)", days, ok);
    }
out:
    free(fv);
    PyBuffer_Release(&ov);
    PyBuffer_Release(&dv);
    return result;
}

/* ---- amounts, as clean.py's SQL: '' -> NULL; "…万元"/"…万" -> number in 万元; "…元" -> number / 10000;
 * else number * unit. Commas removed. Status per row: 0 empty, 1 read, 2 unreadable, 3 unsure (give up). */

static const unsigned char WAN[] = {0xE4, 0xB8, 0x87}, YUAN[] = {0xE5, 0x85, 0x83};

static int ends_with3(const unsigned char *s, size_t n, const unsigned char *t) {
    return n >= 3 && s[n - 3] == t[0] && s[n - 2] == t[1] && s[n - 1] == t[2];
}

/* 1 read, 2 unreadable, 3 unsure */
static int read_number(const unsigned char *s, size_t n, double *out) {
    char tmp[64];
    size_t k = 0;
    int digits = 0, dots = 0, ascii = 1, plain = 1, foreign = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == ',') continue;
        if (c >= 0x80) {
            ascii = 0;
            continue;
        }
        if (c >= '0' && c <= '9') digits++;
        else if (c == '.') dots++;
        else if ((c == '-' || c == '+') && k == 0) {
        } else {
            plain = 0;
            /* a character no spelling of a number (1e3, 1_000, inf, nan, spaces) holds */
            if (!strchr("+-._eE \t\n\v\f\rinfatyINFATY", c)) foreign = 1;
        }
        if (k < sizeof tmp - 1) tmp[k++] = (char)c;
        else plain = 0;
    }
    if (!ascii || foreign) return 2; /* DuckDB's cast reads ASCII numbers only, the whole text */
    if (!plain || dots > 1) return 3;
    if (!digits) return 2;
    if (digits <= 15) {
        /* at most 15 digits: the integer and the power of ten are exact doubles, so one division is correctly
         * rounded, the same value strtod gives */
        static const double P10[16] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
        int64_t m = 0;
        int frac = 0, after = 0, neg = 0;
        for (size_t i = 0; i < k; i++) {
            char c = tmp[i];
            if (c == '-') neg = 1;
            else if (c == '.') after = 1;
            else if (c >= '0' && c <= '9') {
                m = m * 10 + (c - '0');
                frac += after;
            }
        }
        double v = (double)m / P10[frac];
        *out = neg ? -v : v;
        return 1;
    }
    tmp[k] = 0;
    char *end;
    *out = strtod(tmp, &end);
    return *end == 0 ? 1 : 3;
}

static PyObject *amounts(PyObject *self, PyObject *args) {
    Py_buffer ov, dv;
    double unit;
    if (!PyArg_ParseTuple(args, "y*y*d", &ov, &dv, &unit)) return NULL;
    Py_ssize_t rows = ov.len / 4 - 1;
    const int32_t *o = ov.buf;
    const unsigned char *s = dv.buf;
    char *vpc = NULL, *sp = NULL;
    PyObject *vals = owned_new((size_t)rows * 8, &vpc);
    PyObject *status = vals ? owned_new((size_t)rows, &sp) : NULL;
    if (!vals || !status) {
        Py_XDECREF(vals);
        Py_XDECREF(status);
        PyBuffer_Release(&ov);
        PyBuffer_Release(&dv);
        return NULL;
    }
    double *vp = (double *)vpc;
    for (Py_ssize_t r = 0; r < rows; r++) {
        const unsigned char *c = s + o[r];
        size_t n = (size_t)(o[r + 1] - o[r]);
        vp[r] = 0.0;
        if (!n) {
            sp[r] = 0;
            continue;
        }
        double v = 0.0;
        int st;
        if (ends_with3(c, n, WAN) || (n >= 6 && ends_with3(c, n, YUAN) && ends_with3(c, n - 3, WAN))) {
            size_t m = n; /* rtrim of every trailing 万 and 元 */
            while (ends_with3(c, m, WAN) || ends_with3(c, m, YUAN)) m -= 3;
            st = read_number(c, m, &v);
        } else if (ends_with3(c, n, YUAN)) {
            size_t m = n;
            while (ends_with3(c, m, WAN) || ends_with3(c, m, YUAN)) m -= 3;
            st = read_number(c, m, &v);
            v = v / 10000;
        } else {
            st = read_number(c, n, &v);
            v = v * unit;
        }
        sp[r] = (char)st;
        vp[r] = st == 1 ? v : 0.0;
    }
    PyBuffer_Release(&ov);
    PyBuffer_Release(&dv);
    return Py_BuildValue("(NN)", vals, status);
}

/* compact(offsets, data, keep) -> rows: keep the rows whose keep byte is non-zero, in place (Arrow int32 offsets
 * + data of a string column; the buffers must be writable). Instead of a filter's copy of every column. */
static PyObject *compact(PyObject *self, PyObject *args) {
    Py_buffer ov, dv, kv;
    if (!PyArg_ParseTuple(args, "w*w*y*", &ov, &dv, &kv)) return NULL;
    Py_ssize_t rows = ov.len / 4 - 1;
    if (rows < 0 || kv.len < rows) {
        PyBuffer_Release(&ov);
        PyBuffer_Release(&dv);
        PyBuffer_Release(&kv);
        PyErr_SetString(PyExc_ValueError, "compact: keep mask shorter than the column");
        return NULL;
    }
    int32_t *o = ov.buf;
    char *d = dv.buf;
    const char *keep = kv.buf;
    Py_ssize_t out = 0;
    int32_t end = 0;
    Py_BEGIN_ALLOW_THREADS;
    Py_ssize_t r = 0;
    while (r < rows) {
        if (!keep[r]) {
            r++;
            continue;
        }
        Py_ssize_t a = r; /* a run of kept rows: one move */
        while (r < rows && keep[r]) r++;
        int32_t from = o[a], len = o[r] - o[a];
        if (from != end) memmove(d + end, d + from, (size_t)len);
        for (Py_ssize_t i = a; i < r; i++) o[out + (i - a) + 1] = o[i + 1] - from + end;
        out += r - a;
        end += len;
    }
    o[0] = 0;
    Py_END_ALLOW_THREADS;
    PyBuffer_Release(&ov);
    PyBuffer_Release(&dv);
    PyBuffer_Release(&kv);
    return PyLong_FromSsize_t(out);
}

/* repeated(hashes, rows) -> int64 buffer: the rows (of `rows`, int64 indices into the uint64 `hashes`, in their
 * order) whose hash occurs more than once among them: the duplicate candidates, in one pass over an open-
 * addressing table instead of a sort. */
static PyObject *repeated(PyObject *self, PyObject *args) {
    Py_buffer hv, rv;
    if (!PyArg_ParseTuple(args, "y*y*", &hv, &rv)) return NULL;
    const uint64_t *h = hv.buf;
    const int64_t *rows = rv.buf;
    size_t m = (size_t)rv.len / 8, nh = (size_t)hv.len / 8;
    for (size_t j = 0; j < m; j++)
        if (rows[j] < 0 || (size_t)rows[j] >= nh) {
            PyBuffer_Release(&hv);
            PyBuffer_Release(&rv);
            PyErr_SetString(PyExc_IndexError, "repeated: row index out of range");
            return NULL;
        }
    size_t cap = 16;
    while (cap < m * 2) cap <<= 1;
    buf_t kb = {0}, cb = {0}, ob = {0};
    PyObject *result = NULL;
    if (buf_reserve(&kb, cap * 8) < 0 || buf_reserve(&cb, cap) < 0 || buf_reserve(&ob, m * 8 + 8) < 0) {
        PyErr_NoMemory();
        goto out;
    }
    Py_BEGIN_ALLOW_THREADS;
    uint64_t *key = (uint64_t *)kb.p;
    uint8_t *count = (uint8_t *)cb.p; /* 0 empty, 1 seen once, 2 more than once */
    memset(count, 0, cap);
    size_t mask = cap - 1;
#define SLOT(v) ((size_t)((v) ^ ((v) >> 29)) & mask)
    for (size_t j = 0; j < m; j++) {
        if (j + 16 < m) {
            size_t ahead = SLOT(h[rows[j + 16]]);
            __builtin_prefetch(&key[ahead]);
            __builtin_prefetch(&count[ahead]);
        }
        uint64_t v = h[rows[j]];
        size_t i = SLOT(v);
        while (count[i] && key[i] != v) i = (i + 1) & mask;
        if (!count[i]) {
            key[i] = v;
            count[i] = 1;
        } else {
            count[i] = 2;
        }
    }
    int64_t *o = (int64_t *)ob.p;
    for (size_t j = 0; j < m; j++) {
        if (j + 16 < m) __builtin_prefetch(&count[SLOT(h[rows[j + 16]])]);
        uint64_t v = h[rows[j]];
        size_t i = SLOT(v);
        while (key[i] != v) i = (i + 1) & mask;
        if (count[i] > 1) o[ob.n++] = rows[j];
    }
#undef SLOT
    ob.n *= 8;
    Py_END_ALLOW_THREADS;
    result = owned_from(&ob);
out:
    pool_put(kb.p, kb.cap);
    pool_put(cb.p, cb.cap);
    if (ob.p) buf_free(&ob);
    PyBuffer_Release(&hv);
    PyBuffer_Release(&rv);
    return result;
}

static PyObject *pool_clear(PyObject *self, PyObject *args) {
    pthread_mutex_lock(&pool_lock);
    for (int i = 0; i < pool_n; i++) free(pool[i].p);
    pool_n = 0;
    pool_bytes = 0;
    pthread_mutex_unlock(&pool_lock);
    Py_RETURN_NONE;
}

static PyObject *pool_stats(PyObject *self, PyObject *args) {
    pthread_mutex_lock(&pool_lock);
    int n = pool_n;
    size_t bytes = pool_bytes;
    pthread_mutex_unlock(&pool_lock);
    return Py_BuildValue("(in)", n, (Py_ssize_t)bytes);
}

static PyMethodDef methods[] = {
    {"repeated", repeated, METH_VARARGS, "Rows whose 64-bit hash occurs more than once among the given rows (int64)."},
    {"pool_clear", pool_clear, METH_NOARGS, "Give the kept output memory back (at the end of an ingest run)."},
    {"pool_stats", pool_stats, METH_NOARGS, "(blocks, bytes) of released output memory kept for reuse."},
    {"compact", compact, METH_VARARGS, "Keep the rows of a string column (int32 offsets, data) that a mask keeps, in place."},
    {"parse", parse, METH_VARARGS, "Decode, split and clean a CSV file's rows (see the module source)."},
    {"set_gb_table", set_gb_table, METH_VARARGS, "Load the GB18030 tables: two-byte (126*191 uint16) then four-byte BMP (39420 uint16)."},
    {"dates", dates, METH_VARARGS, "Parse dates with a list of %Y/%m/%d formats: (int32 days, uint8 ok)."},
    {"amounts", amounts, METH_VARARGS, "Parse amounts: (float64 values, uint8 status)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fastcsv", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__fastcsv(void) {
    uscc_init();
    if (PyType_Ready(&OwnedBufType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    Py_INCREF(&OwnedBufType);
    if (PyModule_AddObject(m, "Buffer", (PyObject *)&OwnedBufType) < 0) {
        Py_DECREF(&OwnedBufType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
