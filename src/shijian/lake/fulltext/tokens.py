"""The tokenizer both engines share: Chinese text as overlapping character pairs (bigrams), Latin letters and
digits as whole words, everything else a boundary.

A text is normalised (NFKC, lower case) and split into runs of Chinese characters and runs of letters or digits.
A Chinese run of n characters gives its n - 1 bigrams in order, then its last character alone; a run of one
character gives that character. So a query of two characters or more is the phrase of its bigrams (the bigrams
of a run, next to each other, in order), and a query of one character is a prefix: the tokens that begin with it,
which are the bigrams it starts and the lone last characters. No dictionary: names of firms and places, which a
word segmenter splits unpredictably, are found like any other text.

Positions matter (a phrase must appear in order), so the tokens are handed to each engine as a string of words
separated by spaces (SQLite FTS5, ``unicode61``) or as a ``tsvector`` literal with positions (PostgreSQL, which
parses nothing: the result does not depend on the database's locale).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_RUNS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[0-9a-z]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
MAX_QUERY_TERMS = 8  # words of a query, each a phrase; all must match


def _runs(text: str) -> list[str]:
    return _RUNS.findall(unicodedata.normalize("NFKC", text).lower())


def tokens(text: str) -> list[str]:
    """The tokens of a text, in order (see the module's docstring)."""
    out: list[str] = []
    for run in _runs(text):
        if _CJK.match(run) and len(run) > 1:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
            out.append(run[-1])
        else:
            out.append(run)
    return out


def indexed_text(text: str) -> str:
    """The tokens as one string of words (what FTS5 indexes with its ``unicode61`` tokenizer)."""
    return " ".join(tokens(text))


def tsvector_literal(text: str) -> str:
    """The tokens as a PostgreSQL ``tsvector`` literal with positions (1-based; PostgreSQL keeps up to 16383)."""
    return " ".join(f"'{t}':{min(i, 16383)}" for i, t in enumerate(tokens(text), start=1))


@dataclass(frozen=True)
class Phrase:
    """One query term: a phrase of tokens, or (a single character) a prefix."""

    tokens: tuple[str, ...]
    prefix: bool = False


def parse(query: str) -> list[Phrase]:
    """A query's terms (separated by spaces; each must be found): empty when it has nothing to search for."""
    out: list[Phrase] = []
    for word in query.split()[:MAX_QUERY_TERMS]:
        for run in _runs(word):
            if _CJK.match(run) and len(run) == 1:
                out.append(Phrase((run,), prefix=True))
            elif _CJK.match(run):
                out.append(Phrase(tuple(run[i : i + 2] for i in range(len(run) - 1))))
            else:
                out.append(Phrase((run,)))
    return out


def fts5_match(phrases: list[Phrase], column: str = "tokens") -> str:
    """The FTS5 MATCH expression: every phrase in ``column`` (tokens hold only letters, digits and CJK)."""
    parts = []
    for p in phrases:
        body = '"' + " ".join(p.tokens) + '"'
        parts.append(f"{column} : {body}{'*' if p.prefix else ''}")
    return " AND ".join(parts)


def tsquery_literal(phrases: list[Phrase]) -> str:
    """The PostgreSQL ``tsquery`` literal: each phrase with ``<->``, a prefix with ``:*``, all joined by ``&``."""
    parts = []
    for p in phrases:
        if p.prefix:
            parts.append(f"'{p.tokens[0]}':*")
        else:
            parts.append("(" + " <-> ".join(f"'{t}'" for t in p.tokens) + ")")
    return " & ".join(parts)
