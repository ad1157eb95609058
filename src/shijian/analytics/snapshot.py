"""Dashboard figures per scope (the district, each town/street, each department), computed in bulk and stored.

Pages read one ``Snapshot`` row (a few kB of JSON), so they stay fast whatever the number of entities; the
figures are recomputed by ``refresh_all`` after each load, build, draw or class refresh (``shijian analytics
refresh``; ``make demo`` runs it), and each page says when its figures were computed.

Sources: the operational database (entities, visits and checked items, hazards and their transitions, team
memberships, risk assessments) and the lake's entity files (monthly complaints and inspection findings from every
department, ``build/by_entity``).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from shijian.core.jurisdiction import HAZARD_COLUMNS, TRANSITION_COLUMNS, coded_q
from shijian.core.stats import wilson_rate
from shijian.hazards import services as hazard_services
from shijian.hazards import workflow
from shijian.hazards.models import Hazard, Transition
from shijian.registry.display import region_name
from shijian.registry.models import Department, Entity, EntityStatus, RiskClass
from shijian.supervision.models import FINDING_OUTCOMES, TeamMember, Visit, VisitItem, VisitStatus

CLASSES = [c for c, _label in RiskClass.choices]
MONTHS = 36  # monthly series kept per scope (forecasts need two seasons)

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Scope:
    kind: str  # district (6-digit code) | town (9-digit code) | department (id)
    code: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.code}"

    @classmethod
    def parse(cls, key: str) -> Scope:
        kind, _sep, code = key.partition(":")
        shape = {"district": 6, "town": 9}
        if not (
            code.isdigit()
            and (kind == "department" or (kind in shape and len(code) == shape[kind]))
            and (kind != "department" or Department.objects.filter(pk=int(code)).exists())
        ):
            raise ValueError(
                f"unknown scope {key!r}: give district:<6 digits>, town:<9 digits> or department:<an existing id>"
            )
        return cls(kind, code)

    def label(self) -> str:
        if self.kind in {"town", "district"}:
            return region_name(self.code)
        d = Department.objects.filter(pk=int(self.code)).first()
        return d.name if d else self.code

    # Row filters of each table for this scope: the region rule of ``core.jurisdiction`` (indexed, no LIKE).
    def entities(self) -> QuerySet[Entity]:
        if self.kind == "department":
            return Entity.objects.filter(coded_q(Department.objects.get(pk=int(self.code)).region_code))
        return Entity.objects.filter(coded_q(self.code))

    def visits(self) -> QuerySet[Visit]:
        if self.kind == "department":
            return Visit.objects.filter(departments__id=int(self.code))
        return Visit.objects.filter(coded_q(self.code, "entity__"))

    def hazards(self) -> QuerySet[Hazard]:
        if self.kind == "department":
            return Hazard.objects.filter(department_id=int(self.code))
        return Hazard.objects.filter(coded_q(self.code, columns=HAZARD_COLUMNS))

    def transitions(self) -> QuerySet[Transition]:
        if self.kind == "department":
            return Transition.objects.filter(department_id=int(self.code))
        return Transition.objects.filter(coded_q(self.code, columns=TRANSITION_COLUMNS))

    def drill(self) -> dict[str, str]:
        """Query-string filters that restrict the list pages to this scope."""
        if self.kind == "town":
            return {"town": self.code}
        if self.kind == "department":
            return {"department": self.code}
        return {}


def all_scopes() -> list[Scope]:
    towns = Entity.objects.order_by().values_list("town_code", flat=True).distinct()
    districts = Entity.objects.order_by().values_list("district_code", flat=True).distinct()
    depts = Department.objects.filter(active=True).order_by("code").values_list("pk", flat=True)
    return [
        *(Scope("district", d) for d in sorted(districts)),
        *(Scope("town", t) for t in sorted(towns)),
        *(Scope("department", str(d)) for d in depts),
    ]


def months_back(today: dt.date, n: int = MONTHS) -> list[str]:
    y, m = today.year, today.month
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def _monthly(rows: Any, months: list[str]) -> list[list[Any]]:
    got = {f"{r['month']:%Y-%m}": r["n"] for r in rows if r["month"] is not None}
    return [[m, int(got.get(m, 0))] for m in months]


def _entities(scope: Scope, months: list[str]) -> dict[str, Any]:
    qs = scope.entities()
    labels = dict(EntityStatus.choices)
    by_status = {r["status"]: r["n"] for r in qs.order_by().values("status").annotate(n=Count("id"))}
    from shijian.core.codes import tables

    sections = tables.industries()
    by_section = (
        qs.order_by().values("industry_section").annotate(n=Count("id")).order_by("-n", "industry_section")[:20]
    )
    start = dt.date.fromisoformat(months[0] + "-01")
    new = (
        qs.filter(established_on__gte=start)
        .order_by()
        .annotate(month=TruncMonth("established_on"))
        .values("month")
        .annotate(n=Count("id"))
    )
    new_by_section: dict[str, list[Any]] = {}
    for r in (
        qs.filter(established_on__gte=start)
        .order_by()
        .annotate(month=TruncMonth("established_on"))
        .values("industry_section", "month")
        .annotate(n=Count("id"))
    ):
        if r["industry_section"]:
            new_by_section.setdefault(r["industry_section"], []).append(r)
    by_class = {r["risk_class"]: r["n"] for r in qs.order_by().values("risk_class").annotate(n=Count("id"))}
    out: dict[str, Any] = {
        "total": sum(by_status.values()),
        "by_status": [[s, str(labels.get(s, s)), by_status.get(s, 0)] for s in labels if by_status.get(s)],
        "by_section": [
            [
                r["industry_section"],
                sections[r["industry_section"]].name if r["industry_section"] in sections else "",
                r["n"],
            ]
            for r in by_section
        ],
        "new_by_month": _monthly(new, months),
        "new_by_section_month": {sec: _monthly(rows, months) for sec, rows in sorted(new_by_section.items())},
        "by_class": [[c, by_class.get(c, 0)] for c in CLASSES],
    }
    if scope.kind != "town":
        by_town = qs.order_by().values("town_code").annotate(n=Count("id")).order_by("-n", "town_code")
        out["by_town"] = [[r["town_code"], region_name(r["town_code"]), r["n"]] for r in by_town]
    return out


def _inspections(scope: Scope, months: list[str]) -> dict[str, Any]:
    visits = scope.visits()
    by_status = {r["status"]: r["n"] for r in visits.order_by().values("status").annotate(n=Count("id", distinct=True))}
    start = dt.date.fromisoformat(months[0] + "-01")
    done = (
        visits.filter(checked_on__gte=start)
        .order_by()
        .annotate(month=TruncMonth("checked_on"))
        .values("month")
        .annotate(n=Count("id", distinct=True))
    )
    published = (
        visits.filter(published_at__date__gte=start)
        .order_by()
        .annotate(month=TruncMonth("published_at"))
        .values("month")
        .annotate(n=Count("id", distinct=True))
    )
    done_m, pub_m = _monthly(done, months), _monthly(published, months)
    total = sum(by_status.values())
    return {
        "planned": total,
        "assigned": by_status.get(VisitStatus.ASSIGNED, 0),
        "done": by_status.get(VisitStatus.DONE, 0) + by_status.get(VisitStatus.PUBLISHED, 0),
        "published": by_status.get(VisitStatus.PUBLISHED, 0),
        "by_month": [[m, d, p] for (m, d), (_m, p) in zip(done_m, pub_m, strict=True)],
    }


def _findings(scope: Scope) -> dict[str, Any]:
    checks = VisitItem.objects.filter(visit__in=scope.visits().values("id")).exclude(outcome="")
    found = Q(outcome__in=list(FINDING_OUTCOMES))
    rows = (
        checks.order_by()
        .values("control", "visit__entity__risk_class")
        .annotate(n=Count("id"), k=Count("id", filter=found))
    )
    share = {True: [0, 0], False: [0, 0]}
    by_class: dict[str, list[int]] = {c: [0, 0] for c in CLASSES}
    for r in rows:
        share[bool(r["control"])][0] += r["n"]
        share[bool(r["control"])][1] += r["k"]
        acc = by_class.setdefault(r["visit__entity__risk_class"] or "", [0, 0])
        acc[0] += r["n"]
        acc[1] += r["k"]
    return {
        "random": wilson_rate(*share[True]),
        "targeted": wilson_rate(*share[False]),
        "by_class": [[c, *by_class[c], wilson_rate(*by_class[c])["rate"]] for c in CLASSES],
    }


def _hazards(scope: Scope, today: dt.date) -> dict[str, Any]:
    hz, tr = scope.hazards(), scope.transitions()
    group = "town_code" if scope.kind != "town" else "department"
    stats = hazard_services.dashboard(group, hz, tr, today)
    names = dict(Department.objects.values_list("pk", "name"))
    by_group = [
        [
            s.key,
            region_name(s.key) if group == "town_code" else names.get(int(s.key), s.key),
            s.open,
            s.overdue,
            s.closed,
            s.mean_days_to_rectify,
        ]
        for s in stats
    ]
    closed = sum(s.closed for s in stats)
    mean_days = round(sum((s.mean_days_to_rectify or 0) * s.closed for s in stats) / closed, 1) if closed else None
    by_grade = {
        r["grade"]: r["n"]
        for r in hz.filter(state__in=workflow.OPEN).order_by().values("grade").annotate(n=Count("id"))
    }
    return {
        "open": sum(s.open for s in stats),
        "overdue": sum(s.overdue for s in stats),
        "closed": closed,
        "mean_days_to_rectify": mean_days,
        "group": group,
        "by_group": by_group,
        "open_by_grade": sorted(by_grade.items()),
    }


def _workload(scope: Scope, since: dt.date) -> dict[str, Any]:
    members = TeamMember.objects.filter(visit__in=scope.visits().values("id"), visit__window_end__gte=since)
    rows = list(
        members.order_by()
        .values("inspector_id", "inspector__name", "inspector__department__name")
        .annotate(n=Count("visit_id", distinct=True))
        .order_by("-n", "inspector_id")
    )
    counts = [r["n"] for r in rows]
    return {
        "since": since.isoformat(),
        "inspectors": len(rows),
        "assignments": sum(counts),  # officer-visits: a joint visit counts once per officer
        "mean": round(sum(counts) / len(counts), 1) if counts else 0,
        "max": max(counts, default=0),
        "top": [[r["inspector_id"], r["inspector__name"], r["inspector__department__name"], r["n"]] for r in rows[:15]],
    }


def _risk(scope: Scope) -> dict[str, Any]:
    from shijian.risk.models import Assessment, Refresh

    latest = Refresh.objects.order_by("-as_of", "-pk").first()
    if latest is None:
        return {"refresh_as_of": None, "movement": []}
    qs = Assessment.objects.filter(refresh=latest, entity_id__in=scope.entities().values("id"))
    cells = {
        (r["previous_class"], r["risk_class"]): r["n"]
        for r in qs.order_by().values("previous_class", "risk_class").annotate(n=Count("id"))
    }
    before = ["", *CLASSES]
    return {
        "refresh_as_of": latest.as_of.isoformat(),
        "movement": [[b or "—", *[cells.get((b, a), 0) for a in CLASSES]] for b in before],
    }


LakeSeries = dict[str, dict[str, Any]]


def lake_series(lake_root: Path, months: list[str]) -> LakeSeries:
    """Monthly complaints and inspection findings from every department's records in the entity files, per scope
    key ("district:<code>", "town:<code>"): {"complaints": [[month, n], ...], "findings": [...], "by_section":
    {section: {"complaints": [...], "findings": [...]}}}; {} when there is no build."""
    import duckdb
    import pyarrow as pa

    files = sorted(str(p) for p in (lake_root / "build" / "by_entity").glob("*/*.parquet"))
    if not files:
        return {}
    ids, towns, sections = zip(
        *Entity.objects.order_by().values_list("id", "town_code", "industry_section"), strict=True
    ) or ((), (), ())
    con = duckdb.connect(config={"threads": 2})
    con.execute("SET enable_progress_bar = false")
    con.register(
        "towns",
        pa.table(
            {
                "id": pa.array(ids, pa.int64()),
                "town": pa.array(towns, pa.string()),
                "section": pa.array(sections, pa.string()),
            }
        ),
    )
    start = months[0] + "-01"
    rows = con.execute(
        f"""
        SELECT t.town, t.section, strftime(date_trunc('month', b.event_date), '%Y-%m') AS month,
               count(*) FILTER (WHERE b.record_type = 'complaint') AS complaints,
               count(*) FILTER (WHERE b.record_type = 'inspection' AND b.result NOT IN ('未发现问题', '')) AS findings
        FROM read_parquet({files!r}) b JOIN towns t ON t.id = b.entity_id
        WHERE b.event_date >= DATE '{start}' AND b.record_type IN ('complaint', 'inspection')
        GROUP BY ALL
        """
    ).fetchall()
    con.close()
    acc: dict[tuple[str, str], dict[str, dict[str, int]]] = {}
    for town, section, month, complaints, findings in rows:
        for key in (f"district:{town[:6]}", f"town:{town}"):
            for sec in ("", section or ""):
                d = acc.setdefault((key, sec), {"complaints": {}, "findings": {}})
                d["complaints"][month] = d["complaints"].get(month, 0) + complaints
                d["findings"][month] = d["findings"].get(month, 0) + findings
    out: LakeSeries = {}
    for (key, sec), d in sorted(acc.items()):
        series = {name: [[m, v.get(m, 0)] for m in months] for name, v in d.items()}
        scope = out.setdefault(key, {"by_section": {}})
        if sec:
            scope["by_section"][sec] = series
        else:
            scope.update(series)
    return out


def _previous_month(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y:04d}-{m - 1:02d}" if m > 1 else f"{y - 1:04d}-12"


def _next_month(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    return f"{y:04d}-{m + 1:02d}" if m < 12 else f"{y + 1:04d}-01"


def last_complete_month(end: dt.date | None, today: dt.date) -> str:
    """The last month the data covers to its last day; never the current month, which is still filling.

    A feed that stops on 2 November covers October, not November: its November is a fraction of a month and
    reads as a collapse if compared or fitted as a whole one."""
    before_today = _previous_month(f"{today:%Y-%m}")
    if end is None:
        return before_today
    covered = f"{end:%Y-%m}" if (end + dt.timedelta(days=1)).month != end.month else _previous_month(f"{end:%Y-%m}")
    return min(covered, before_today)


def data_ends(lake_root: Path | None) -> dict[str, str | None]:
    """The last date each monthly series has data for: the register's newest establishment date, the entity
    files' newest record."""
    end = Entity.objects.order_by().aggregate(end=Max("established_on"))["end"]
    lake_end: dt.date | None = None
    files = sorted(str(p) for p in (lake_root / "build" / "by_entity").glob("*/*.parquet")) if lake_root else []
    if files:
        import duckdb

        con = duckdb.connect()
        lake_end = con.execute(f"SELECT max(event_date) FROM read_parquet({files!r})").fetchone()[0]  # type: ignore[index]
        con.close()
    as_text = {"registrations": end, "complaints": lake_end, "findings": lake_end}
    return {k: v.isoformat() if v else None for k, v in as_text.items()}


def compute(
    scope: Scope, today: dt.date, lake: LakeSeries | None = None, ends: dict[str, str | None] | None = None
) -> dict[str, Any]:
    months = months_back(today)
    data: dict[str, Any] = {
        "scope": {"kind": scope.kind, "code": scope.code, "label": scope.label(), "drill": scope.drill()},
        "as_of": today.isoformat(),
        "months": months,
        "entities": _entities(scope, months),
        "inspections": _inspections(scope, months),
        "findings": _findings(scope),
        "hazards": _hazards(scope, today),
        "workload": _workload(scope, today - dt.timedelta(days=365)),
        "risk": _risk(scope),
    }
    series = (lake or {}).get(scope.key, {})
    data["series"] = {
        "registrations": data["entities"]["new_by_month"],
        "complaints": series.get("complaints", []),
        "findings": series.get("findings", []),
    }
    ends = ends if ends is not None else data_ends(None)
    data["data_end"] = ends
    data["complete_through"] = {
        name: last_complete_month(dt.date.fromisoformat(end) if end else None, today) for name, end in ends.items()
    }
    # Per industry section (GB/T 4754 门类), for the forecasts by industry.
    lake_sections = series.get("by_section", {})
    by_reg = data["entities"].pop("new_by_section_month")
    data["series_by_section"] = {
        sec: {
            "registrations": by_reg.get(sec, [[m, 0] for m in months]),
            "complaints": lake_sections.get(sec, {}).get("complaints", []),
            "findings": lake_sections.get(sec, {}).get("findings", []),
        }
        for sec in sorted(set(by_reg) | set(lake_sections))
    }
    return data


def store(scope: Scope, data: dict[str, Any], seconds: float) -> None:
    from shijian.analytics.models import Snapshot

    Snapshot.objects.update_or_create(
        scope=scope.key, defaults={"data": data, "computed_at": timezone.now(), "seconds": round(seconds, 3)}
    )


SERIES = ("complaints", "findings", "registrations")


def refresh_all(lake_root: Path | None, today: dt.date | None = None, progress: Progress | None = None) -> int:
    """Recompute and store every scope's figures, then fit their forecasts; returns the number of scopes."""
    from shijian.analytics.models import Snapshot

    today = today or timezone.localdate()
    lake = lake_series(lake_root, months_back(today)) if lake_root is not None else {}
    ends = data_ends(lake_root)
    scopes = all_scopes()
    for i, scope in enumerate(scopes, 1):
        t0 = time.perf_counter()
        store(scope, compute(scope, today, lake, ends), time.perf_counter() - t0)
        if progress:
            progress("scopes", i, len(scopes))
    # Every scope's three series, and each industry section's for the districts: pages never fit on view.
    snaps = {s.scope: s for s in Snapshot.objects.filter(scope__in=[sc.key for sc in scopes])}
    jobs = [(snaps[sc.key], name, "") for sc in scopes for name in SERIES]
    jobs += [
        (snaps[sc.key], name, sec)
        for sc in scopes
        if sc.kind == "district"
        for sec in snaps[sc.key].data.get("series_by_section", {})
        for name in SERIES
    ]
    fit_forecasts(jobs, progress)  # only the series whose data changed since the last refresh are refitted
    return len(scopes)


def history(data: dict[str, Any], name: str, section: str = "") -> list[list[Any]]:
    """A stored monthly series: the scope's, or one industry section's within it, up to its first incomplete
    month (kept last, as the month still filling is: the forecast leaves it out)."""
    if section:
        series = list(data.get("series_by_section", {}).get(section, {}).get(name, []))
    else:
        series = list(data["series"].get(name, []))
    through = data.get("complete_through", {}).get(name)
    if through:
        series = [row for row in series if row[0] <= _next_month(through)]
    return series


def fit_forecasts(jobs: list[tuple[Any, str, str]], progress: Progress | None = None) -> int:
    """Fit (snapshot, series, section) forecasts, on every core when there are many, and store them (replacing
    every earlier forecast of those scopes). A series whose months and counts are those its stored forecast was
    fitted on (same digest, same method) keeps that forecast: only series whose data changed are refitted.
    Returns the number of series fitted now."""
    import os
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from shijian.analytics import forecast
    from shijian.analytics.models import StoredForecast

    histories = [history(snap.data, name, sec) for snap, name, sec in jobs]
    keys = [json.dumps(h) for h in histories]
    digests = [input_digest(k) for k in keys]
    earlier = {
        (f.scope, f.series, f.section): f
        for f in StoredForecast.objects.filter(scope__in={snap.scope for snap, _n, _s in jobs})
    }
    kept: dict[str, tuple[dict[str, Any], float]] = {}
    for (snap, name, sec), digest in zip(jobs, digests, strict=True):
        old = earlier.get((snap.scope, name, sec))
        if old is not None and old.data.get("input_digest") == digest:
            kept[digest] = (dict(old.data), old.seconds)
    # Identical series are fitted once (a district-level department's series are its district's).
    distinct = [k for k in dict.fromkeys(keys) if input_digest(k) not in kept]
    todo = [json.loads(k) for k in distinct]
    workers = min(4, os.cpu_count() or 1)
    fitted: list[tuple[dict[str, Any], float]] = []
    if sum(map(forecast.fittable, todo)) >= 12 and workers > 1:  # else a pool's start costs more than it saves
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            for result in pool.map(forecast.fit_job, todo, chunksize=2):
                fitted.append(result)
                if progress:
                    progress("forecasts", len(fitted), len(todo))
    else:
        for h in todo:
            fitted.append(forecast.fit_job(h))
            if progress:
                progress("forecasts", len(fitted), len(todo))
    by_digest = dict(kept)
    for k, (data, seconds) in zip(distinct, fitted, strict=True):
        by_digest[input_digest(k)] = ({**data, "input_digest": input_digest(k)}, seconds)
    results = [by_digest[d] for d in digests]
    StoredForecast.objects.filter(scope__in={snap.scope for snap, _n, _s in jobs}).delete()
    StoredForecast.objects.bulk_create(
        [
            StoredForecast(
                scope=snap.scope, series=name, section=sec, snapshot_at=snap.computed_at, data=data, seconds=sec_
            )
            for (snap, name, sec), (data, sec_) in zip(jobs, results, strict=True)
        ],
        batch_size=500,
    )
    return len(distinct)


def input_digest(history_json: str) -> str:
    """What a stored forecast was fitted on: the series (as JSON) and the forecasting method's version."""
    import hashlib

    from shijian.analytics import forecast

    return hashlib.sha256(f"{forecast.METHOD_VERSION}\n{history_json}".encode()).hexdigest()[:32]


def stored_forecast(scope: Scope, name: str, section: str = "") -> dict[str, Any]:
    """The scope's forecast of one series (of one industry section if given) for its stored figures: fitted by
    the refresh, or now (about a second) for a combination the refresh does not fit, and kept."""
    from shijian.analytics import forecast
    from shijian.analytics.models import Snapshot, StoredForecast

    snap = Snapshot.objects.get(scope=scope.key)
    row = StoredForecast.objects.filter(
        scope=scope.key, series=name, section=section, snapshot_at=snap.computed_at
    ).first()
    if row is not None:
        return dict(row.data)
    data, seconds = forecast.fit_job(history(snap.data, name, section))
    StoredForecast.objects.update_or_create(
        scope=scope.key,
        series=name,
        section=section,
        defaults={"snapshot_at": snap.computed_at, "data": data, "seconds": seconds},
    )
    return data


def get(scope: Scope, lake_root: Path | None = None) -> tuple[dict[str, Any], Any]:
    """The stored figures of a scope (computed and stored now if it has none yet) and when they were computed."""
    from shijian.analytics.models import Snapshot

    snap = Snapshot.objects.filter(scope=scope.key).first()
    if snap is None:
        # Only for a scope that appeared since the last refresh: the database figures now (seconds at 780k
        # entities); the lake's monthly series, a scan of every record, wait for the next refresh_all.
        t0 = time.perf_counter()
        data = compute(scope, timezone.localdate())
        data["lake_pending"] = lake_root is not None
        store(scope, data, time.perf_counter() - t0)
        snap = Snapshot.objects.get(scope=scope.key)
    return snap.data, snap.computed_at
