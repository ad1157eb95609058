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
from shijian.lake.fulltext.index import FTS, PG_TAG, SHIFT, day_key, source_tag
from shijian.lake.fulltext.tokens import Phrase, fts5_match, parse, tsquery_literal
from shijian.lake.models import RecordText

PAGE = 20
COUNT_CAP = 10_000  # "more than 10,000": counting every match of a common word would cost more than the page
COUNT_BUDGET_MS = 100  # PostgreSQL: a total that takes longer to count is not given (the page is)
MAX_QUERY = 100


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
    counted: bool = True  # False: more matches than a page, not counted within the time budget (PostgreSQL)
    unsearchable: bool = False  # the words hold no letter or digit (punctuation, emoji): nothing to find
    too_long: bool = False  # more than MAX_QUERY characters: refused, not cut


def tag_groups(user: Any, filters: Filters) -> list[list[str]] | None:
    """The index words a text row must hold for ``user`` and ``filters``: groups that must all match, each a list of
    alternatives (``index.tags`` wrote them). ``None``: the user sees nothing (no region: fail closed). An index form
    of ``core.jurisdiction``'s rule and of the filters; the rows found are checked by ``restrict`` all the same."""
    groups: list[list[str]] = []
    if not user.is_superuser:
        region = region_of(user)
        if len(region) in (2, 4):
            groups.append([f"d{d}" for d in districts_under(region)])
        elif len(region) in (6, 9, 12):
            groups.append([{6: "d", 9: "t", 12: "v"}[len(region)] + region])
        else:
            return None
        if not groups[0]:
            return None
    if filters.town:
        groups.append(["t" + re.sub(r"[^0-9]", "", filters.town)])  # digits only, whatever the caller passed
    if filters.source:
        groups.append([source_tag(filters.source)])
    if filters.record_type:
        groups.append(["k" + re.sub(r"[^a-z_]", "", filters.record_type)])
    return groups


def _id_range(filters: Filters) -> tuple[int, int]:
    lo = day_key(filters.date_from) << SHIFT if filters.date_from else 0
    hi = (day_key(filters.date_to) + 1) << SHIFT if filters.date_to else 1 << 62
    return lo, hi


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
    """The texts ``user`` may see that hold every part of every word of ``query`` (all texts when it has no word),
    newest first. A query with words but nothing searchable in them (punctuation, emoji) finds nothing, and one
    longer than MAX_QUERY characters is refused (``Page.unsearchable``, ``Page.too_long``)."""
    query = query.strip()
    if len(query) > MAX_QUERY:  # refused whole: a word cut off or dropped would find texts it should not
        return Page(searched=True, too_long=True)
    phrases = parse(query)
    if not allowed(user, "record", "view") or (filters.town and not re.fullmatch(r"[0-9]{1,12}", filters.town)):
        return Page(searched=True)
    if query and not phrases:
        return Page(searched=True, unsearchable=True)
    if not phrases:  # no words: the newest texts the filters leave (a town's latest complaints, say)
        return _browse(user, filters, before, limit)
    if connection.vendor == "sqlite":
        return _sqlite(user, phrases, filters, before, limit)
    return _postgres(user, phrases, filters, before, limit)


def _page(rows: list[RecordText], limit: int, count: int | None) -> Page:
    more = rows[limit - 1].id if len(rows) > limit else None
    if count is None:  # not counted in time: more than a page, no total
        return Page(rows[:limit], more, 0, False, True, counted=False)
    return Page(rows[:limit], more, min(count, COUNT_CAP), count > COUNT_CAP, True)


def _browse(user: Any, filters: Filters, before: int | None, limit: int) -> Page:
    """Without words, on either engine: the table's indexes (primary key, town, department) and ``restrict``."""
    qs = restrict(RecordText.objects.all(), user, "view").filter(**_exact(filters, before))
    rows = list(qs.order_by("-id")[: limit + 1])
    if before is not None or len(rows) <= limit:
        return _page(rows, limit, 0 if before is not None else len(rows))
    if connection.vendor == "postgresql":
        return _page(rows, limit, _bounded_count(qs))
    return _page(rows, limit, qs.order_by()[: COUNT_CAP + 1].count())


def _postgres(user: Any, phrases: list[Phrase], filters: Filters, before: int | None, limit: int) -> Page:
    groups = tag_groups(user, filters)
    if groups is None:
        return Page(searched=True)
    qs = restrict(RecordText.objects.all(), user, "view").filter(**_exact(filters, before))
    if phrases or groups:
        # the words and the filters in one tsquery: the GIN index intersects them (tags are lexemes of each row)
        terms = [tsquery_literal(phrases)] if phrases else []
        terms += ["(" + " | ".join(f"'{PG_TAG}{w}'" for w in group) + ")" for group in groups]
        # the index finds texts holding every bigram; each part is then checked in the normalised text
        where = ["lake_recordtext.tsv @@ %s::tsquery"]
        where += ["strpos(lower(normalize(lake_recordtext.text, NFKC)), %s) > 0"] * len(phrases)
        qs = qs.extra(where=where, params=[" & ".join(terms), *(p.part for p in phrases)])
    rows = list(qs.order_by("-id")[: limit + 1])
    if before is not None:
        return _page(rows, limit, 0)
    if len(rows) <= limit:
        return _page(rows, limit, len(rows))
    return _page(rows, limit, _bounded_count(qs))


def _bounded_count(qs: Any) -> int | None:
    """Up to COUNT_CAP + 1 matches, counted within COUNT_BUDGET_MS; ``None`` when counting would take longer (a
    word in a million texts: the page is still the newest 20, only its total is not worth the wait)."""
    from django.db import DatabaseError, transaction

    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(f"SET LOCAL statement_timeout = {COUNT_BUDGET_MS}")
        try:
            with transaction.atomic():
                return int(qs.order_by()[: COUNT_CAP + 1].count())
        except DatabaseError:
            return None


def _sqlite(user: Any, phrases: list[Phrase], filters: Filters, before: int | None, limit: int) -> Page:
    groups = tag_groups(user, filters)
    if groups is None:
        return Page(searched=True)
    words = [fts5_match(phrases)] + ["tags : (" + " OR ".join(group) + ")" for group in groups]
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
