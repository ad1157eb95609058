"""The tokenizer both engines share: every run of letters and digits, in any script, as overlapping character
pairs (bigrams); everything else (spaces, punctuation, symbols, emoji) a boundary.

A text is normalised (NFKC, lower case) and split into runs of word characters (letters and digits of any script:
Chinese, kana, Hangul, Latin, digits, mixed). A run of n characters gives its n - 1 bigrams in order, then its last
character alone; a run of one character gives that character. A query word is cut the same way into its runs (its
parts); a part of two characters or more is the phrase of its bigrams, which matches exactly the texts holding the
part as written (the same answer as ``LIKE '%part%'`` on the normalised text: "510" finds "5100", "100元" finds
"罚款5100元"); a part of one character is a prefix (the tokens that begin with it: the same answer again). Every
part of every word must be found; a word's punctuation only separates its parts. No dictionary: firm and place
names, which a word segmenter splits unpredictably, are found like any other words.

SQLite's FTS5 indexes the tokens as a string of words with positions (``indexed_text``), and checks a phrase itself.
PostgreSQL keeps them as a ``tsvector`` without positions (``tsvector_literal``: no parser, so no locale, and none of
its limits on positions), finds the candidates by its GIN index and checks each part on the normalised text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_RUNS = re.compile(r"[^\W_]+")  # letters and digits of any script
# Raised whenever the tokens change: an incremental build then builds in full (rows are removed from the SQLite
# index by the very words they were indexed with).
TOKENIZER_VERSION = "2"


def normalise(text: str) -> str:
    """NFKC and lower case: full-width letters and digits become ASCII, compatibility forms their base."""
    return unicodedata.normalize("NFKC", text).lower()


def runs(text: str) -> list[str]:
    return _RUNS.findall(normalise(text))


def _run_tokens(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)] + [run[-1]]


def tokens(text: str) -> list[str]:
    """The tokens of a text, in order (see the module's docstring)."""
    return [t for run in runs(text) for t in _run_tokens(run)]


def indexed_text(text: str) -> str:
    """The tokens as one string of words (what FTS5 indexes with its ``unicode61`` tokenizer)."""
    return " ".join(tokens(text))


def tsvector_literal(text: str) -> str:
    """The distinct tokens as a PostgreSQL ``tsvector`` literal, without positions."""
    return " ".join(f"'{t}'" for t in sorted(set(tokens(text))))


@dataclass(frozen=True)
class Phrase:
    """One part of a query word: the phrase of its bigrams, or (a single character) a prefix."""

    part: str
    tokens: tuple[str, ...]
    prefix: bool = False


def parse(query: str) -> list[Phrase]:
    """A query's parts (every part of every space-separated word must be found): empty when it has nothing a
    text can be searched for (only punctuation, symbols or emoji)."""
    out: list[Phrase] = []
    seen: set[str] = set()
    for part in runs(query):
        if part in seen:
            continue
        seen.add(part)
        if len(part) == 1:
            out.append(Phrase(part, (part,), prefix=True))
        else:
            out.append(Phrase(part, tuple(part[i : i + 2] for i in range(len(part) - 1))))
    return out


def fts5_match(phrases: list[Phrase], column: str = "tokens") -> str:
    """The FTS5 MATCH expression: every phrase in ``column`` (tokens hold only letters and digits)."""
    return " AND ".join(f'{column} : "{" ".join(p.tokens)}"{"*" if p.prefix else ""}' for p in phrases)


def tsquery_literal(phrases: list[Phrase]) -> str:
    """The PostgreSQL ``tsquery`` literal that finds the candidates: every bigram of every part (``&``), a single
    character as a prefix (``:*``). The parts themselves are then checked on the text (``query``)."""
    terms = sorted({f"'{p.tokens[0]}':*" if p.prefix else f"'{t}'" for p in phrases for t in p.tokens})
    return " & ".join(terms)
