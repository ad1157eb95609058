"""Full-text search over the lake's records: complaint texts, penalty reasons, inspection findings (docs/lake.md).

``tokens``: the one tokenizer (CJK bigrams, words for Latin letters and digits) both engines index and query with;
``index``: the index the build keeps (an SQLite FTS5 table, or a PostgreSQL ``tsvector`` with a GIN index);
``query``: a search with filters, restricted to the user's jurisdiction, newest first, paged by a cursor.
"""
