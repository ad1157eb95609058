"""A full-text search over the record texts: the terms, the filters (department, town, record type, dates), the
user's jurisdiction, newest first, a page at a time (the next page starts below the last id shown).

PostgreSQL: one query on ``lake_recordtext`` through ``restrict`` (the jurisdiction rule), with the ``tsquery``
on the GIN index. SQLite: the FTS5 table answers the terms and the filters together, the filters and the user's
region being index words of each row (``index.tags``), in descending id order, stopping at a page; the rows are then
read back through ``restrict`` and the same filters, so the rule that decides is the one in ``core.jurisdiction``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from shijian.core.codes.tables import districts_under
from shijian.core.jurisdiction import region_of, restrict
from shijian.core.permissions import allowed
from shijian.lake.fulltext.index import FTS, SHIFT, source_tag
from shijian.lake.fulltext.tokens import Phrase, fts5_match, parse, tsquery_literal
from shijian.lake.models import RecordText

PAGE = 20
COUNT_CAP = 10_000  # "more than 10,000": counting every match of a common word would cost more than the page
MAX_QUERY = 100
EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class Filters:
    source: str = ""
    town: str = ""
    record_type: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


@dataclass
class Page:
    rows: list[RecordText] = field(default_factory=list)
    next_before: int | None = None  # the id the next page starts below; None on the last page
    count: int = 0
    capped: bool = False  # more than COUNT_CAP matches
    searched: bool = False  # the query had something to search for


def _region_words(user: Any) -> str | None:
    """The user's region as index words (``None``: everything, for a superuser; ``""``: nothing, fail closed)."""
    if user.is_superuser:
        return None
    region = region_of(user)
    if len(region) in (2, 4):
        districts = districts_under(region)
        return " OR ".join(f"d{d}" for d in districts) if districts else ""
    prefix = {6: "d", 9: "t", 12: "v"}.get(len(region))
    return f"{prefix}{region}" if prefix else ""


def _id_range(filters: Filters) -> tuple[int, int]:
    lo = (filters.date_from - EPOCH).days << SHIFT if filters.date_from else 0
    hi = ((filters.date_to - EPOCH).days + 1) << SHIFT if filters.date_to else 1 << 62
    return max(lo, 0), hi


def _exact(filters: Filters, before: int | None) -> dict[str, Any]:
    lo, hi = _id_range(filters)
    where: dict[str, Any] = {"id__gte": lo, "id__lt": hi if before is None else min(hi, before)}
    if filters.source:
        where["source"] = filters.source
    if filters.town:
        where["town_code"] = filters.town
    if filters.record_type:
        where["record_type"] = filters.record_type
    return where


def search(user: Any, query: str, filters: Filters = Filters(), before: int | None = None, limit: int = PAGE) -> Page:
    """The texts ``user`` may see that hold every term of ``query`` (all of them when it has none), newest first."""
    phrases = parse(query[:MAX_QUERY])
    if not allowed(user, "record", "view"):
        return Page(searched=True)
    if not phrases:  # no words: the newest texts the filters leave (a town's latest complaints, say)
        return _postgres(user, phrases, filters, before, limit)
    if connection.vendor == "sqlite":
        return _sqlite(user, phrases, filters, before, limit)
    return _postgres(user, phrases, filters, before, limit)


def _page(rows: list[RecordText], limit: int, count: int) -> Page:
    more = rows[limit - 1].id if len(rows) > limit else None
    return Page(rows[:limit], more, min(count, COUNT_CAP), count > COUNT_CAP, True)


def _postgres(user: Any, phrases: list[Phrase], filters: Filters, before: int | None, limit: int) -> Page:
    qs = restrict(RecordText.objects.all(), user, "view").filter(**_exact(filters, before))
    if phrases:
        qs = qs.extra(where=["lake_recordtext.tsv @@ %s::tsquery"], params=[tsquery_literal(phrases)])
    rows = list(qs.order_by("-id")[: limit + 1])
    count = qs.order_by()[: COUNT_CAP + 1].count() if before is None else 0
    return _page(rows, limit, count)


def _sqlite(user: Any, phrases: list[Phrase], filters: Filters, before: int | None, limit: int) -> Page:
    region = _region_words(user)
    if region == "":
        return Page(searched=True)
    words = [fts5_match(phrases)]
    if region:
        words.append(f"tags : ({region})")
    town = re.sub(r"[^0-9]", "", filters.town)  # an index word: digits only, whatever the caller passed
    for value, word in ((filters.source, source_tag(filters.source)), (filters.town, f"t{town}")):
        if value:
            words.append(f"tags : {word}")
    if filters.record_type:
        words.append(f"tags : k{re.sub(r'[^a-z_]', '', filters.record_type)}")
    match = " AND ".join(words)
    lo, hi = _id_range(filters)
    upper = hi if before is None else min(hi, before)
    sql = f"SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s AND rowid >= %s AND rowid < %s"
    with connection.cursor() as cur:
        cur.execute(sql + " ORDER BY rowid DESC LIMIT %s", [match, lo, upper, limit + 1])
        ids = [r[0] for r in cur.fetchall()]
        count = 0
        if before is None:
            cur.execute(f"SELECT count(*) FROM ({sql} LIMIT %s)", [match, lo, upper, COUNT_CAP + 1])
            count = int(cur.fetchone()[0])
    qs = restrict(RecordText.objects.filter(id__in=ids), user, "view").filter(**_exact(filters, before))
    return _page(list(qs.order_by("-id")), limit, count)


def highlight(text: str, query: str) -> list[tuple[str, bool]]:
    """The text in pieces, each marked when it is one of the query's words (for ``<mark>`` in a template)."""
    words = sorted({w for w in query[:MAX_QUERY].split() if w}, key=len, reverse=True)
    if not words:
        return [(text, False)]
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in pattern.finditer(text):
        if m.start() > pos:
            out.append((text[pos : m.start()], False))
        out.append((m.group(0), True))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], False))
    return out
