"""智慧运行中心 (operations centre): what needs doing today, in one screen, within the user's jurisdiction.

Today's inspections (visits whose window is open), what is overdue (visits past their window, results past their
publication deadline, hazards past their rectification deadline), draws frozen and waiting for their seed,
checked results waiting to be published, the latest ingestion loads and whether each reconciles (rows read =
accepted + quarantined + duplicates), the last build of the entity files, and the risk model's health (its
backtest and the drift of its factors at the last class refresh, ``risk/drift.py``).

Every figure is a count on indexed columns or a few small files, so the page stays fast at 780,000 entities.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.utils import timezone

from shijian.core.jurisdiction import restrict
from shijian.hazards import services as hazard_services
from shijian.hazards.models import Hazard
from shijian.lake.store import Lake
from shijian.supervision.models import Draw, DrawStatus, Visit
from shijian.supervision.services import due_q

LIST = 10  # rows shown per list; the counts say how many there are


def _loads(lake_root: Path, n: int = 15) -> dict[str, Any]:
    """The ``n`` latest committed loads (by commit time) and totals over all of them."""
    lake = Lake(lake_root)
    paths = list(lake.records.glob("source=*/load=*/load.json")) if lake.records.exists() else []
    paths.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    rows = []
    for p in paths[:n]:
        r = json.loads(p.read_text(encoding="utf-8"))
        rows.append(
            {
                "file": Path(str(r.get("file", ""))).name,
                "source": r.get("source", ""),
                "finished_at": str(r.get("finished_at", ""))[:19].replace("T", " "),
                "rows_read": int(r.get("rows_read", 0)),
                "accepted": int(r.get("accepted", 0)),
                "quarantined": int(r.get("quarantined", 0)),
                "duplicates": int(r.get("duplicates", 0)),
                "reconciles": int(r.get("rows_read", 0))
                == int(r.get("accepted", 0)) + int(r.get("quarantined", 0)) + int(r.get("duplicates", 0)),
            }
        )
    build: dict[str, Any] = {}
    report = lake.root / "build" / "build-report.json"
    if report.exists():
        b = json.loads(report.read_text(encoding="utf-8"))
        build = {
            "records": b.get("records", 0),
            "linked": sum(b.get("linked", {}).values()),
            "unlinked": b.get("unlinked", 0),
            "entities": b.get("entities_with_records", 0),
            "seconds": b.get("seconds", 0),
            "at": timezone.localtime(dt.datetime.fromtimestamp(report.stat().st_mtime, tz=dt.UTC)).strftime(
                "%Y-%m-%d %H:%M"
            ),
            "engine": b.get("engine", "duckdb"),
        }
    return {
        "count": len(paths),
        "latest": rows,
        "not_reconciled": sum(1 for r in rows if not r["reconciles"]),
        "quarantined": sum(r["quarantined"] for r in rows),
        "build": build,
    }


def _model() -> dict[str, Any]:
    from shijian.risk.models import Refresh
    from shijian.risk.platform import live_version

    live = live_version()
    out: dict[str, Any] = {"live": None, "refresh": None}
    if live is not None:
        bt = (live.metrics or {}).get("backtest") or {}
        mean = (bt.get("mean") or {}).get(live.kind) or {}
        out["live"] = {
            "pk": live.pk,
            "kind": live.kind,
            "as_of": live.as_of.isoformat(),
            "created_at": live.created_at,
            "auc": mean.get("auc"),
            "baseline_auc": ((bt.get("mean") or {}).get("past_violations") or {}).get("auc"),
            "folds": len(bt["folds"]) if isinstance(bt.get("folds"), list) else None,
            "evaluated_until": bt["folds"][-1].get("until") if bt.get("folds") else None,
            "decision": live.decision,
        }
    r = Refresh.objects.order_by("-as_of", "-pk").first()
    if r is not None:
        drift = r.drift or {}
        out["refresh"] = {
            "as_of": r.as_of.isoformat(),
            "entities": r.entities,
            "classes": r.classes,
            "drift": drift.get("factors", []),
            "worst": drift.get("worst", ""),
            "compared": bool(drift),
        }
    return out


def _review(user: Any) -> dict[str, int]:
    """What waits in linkage review, counted as the review page counts it: groups and the records they cover."""
    from django.db.models import Count, Sum

    from shijian.lake.models import LinkReview
    from shijian.lake.views import visible_reviews

    agg = (
        visible_reviews(user)
        .filter(status=LinkReview.Status.PENDING)
        .aggregate(groups=Count("id"), records=Sum("records"))
    )
    return {"groups": agg["groups"] or 0, "records": agg["records"] or 0}


def overview(user: Any, today: dt.date, lake_root: Path) -> dict[str, Any]:
    visits = restrict(Visit.objects.all(), user).select_related("entity")
    today_q = visits.filter(due_q("today", today)).order_by("window_end", "entity_key")
    late = visits.filter(due_q("late", today)).order_by("window_end", "entity_key")
    awaiting = visits.filter(due_q("unpublished", today))
    late_publication = visits.filter(due_q("publish_late", today))
    hazards = restrict(Hazard.objects.all(), user)
    overdue_hz = hazards.filter(hazard_services.overdue_q(today)).order_by("deadline", "pk")
    due_soon = hazards.filter(hazard_services.due_within_q(today, 7))
    frozen = restrict(Draw.objects.all(), user).filter(status=DrawStatus.FROZEN).order_by("frozen_at")
    return {
        "today": today,
        "tasks": {"count": today_q.count(), "rows": list(today_q[:LIST])},
        "late_visits": {"count": late.count(), "rows": list(late[:LIST])},
        "awaiting_publication": {"count": awaiting.count(), "late": late_publication.count()},
        "hazards_overdue": {"count": overdue_hz.count(), "rows": list(overdue_hz.select_related("entity")[:LIST])},
        "hazards_due_soon": due_soon.count(),
        "frozen_draws": list(frozen[:LIST]),
        "loads": _loads(lake_root),
        "review": _review(user),
        "model": _model(),
    }
