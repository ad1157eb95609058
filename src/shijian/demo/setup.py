"""Setting up the demo district as a service: every step is idempotent, so a second run reuses what is there.

Called by `shijian demo`; tests call `prepare` directly, without a subprocess. Needs Django set up.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

Progress = Callable[[str, int, int], None]
Say = Callable[[str], None]

DEMO_USERS: list[tuple[str, str, str, str]] = [
    # username, role, region, department code
    ("leader", "leader", "440608", ""),
    ("admin", "data_admin", "440608", "440608-SAMR"),
    ("samr", "dept_staff", "440608", "440608-SAMR"),
    ("hecheng", "dept_staff", "440608004", "440608004-SAMRS"),
    ("inspector", "inspector", "440608", "440608-SAMR"),
    ("auditor", "auditor", "440608", ""),
]
DEMO_PASSWORD = "shijian-demo-2026"


def prepare(
    scale: str,
    seed: int,
    progress: Callable[[], AbstractContextManager[Progress]],
    say: Say,
) -> None:
    """Make the demo district ready: each step runs only when its result is missing."""
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    folder = Path(settings.HOME) / "synth" / f"{scale}-seed{seed}"
    load_register(folder, scale, seed, progress, say)
    ingest_and_build(folder, progress, say)
    ensure_users()
    first_model(progress, say)
    first_draw(say)
    reminders(say)


def load_register(
    folder: Path, scale: str, seed: int, progress: Callable[[], AbstractContextManager[Progress]], say: Say
) -> None:
    from django.conf import settings

    from shijian.core.request_context import acting_as
    from shijian.registry.loader import load_district
    from shijian.registry.models import Entity
    from shijian.synth.generator import generate, resolve_scale

    if Entity.objects.exists():
        return
    with progress() as update:
        if not (folder / "manifest.json").exists():
            say(f"generating the {scale} demo district into {folder} ...")
            generate(resolve_scale(scale), seed, folder, update)
        with acting_as(None):
            result = load_district(folder, Path(settings.HOME) / "loads" / "demo", update)
    r = result["register"][0]
    say(f"loaded {r['loaded']:,} entities ({r['quarantined']} quarantined, {r['duplicates']} duplicates)")


def ingest_and_build(folder: Path, progress: Callable[[], AbstractContextManager[Progress]], say: Say) -> None:
    from django.conf import settings

    from shijian.ingest.mapping import load_mappings
    from shijian.ingest.pipeline import ingest as run_ingest
    from shijian.ingest.pipeline import summary
    from shijian.lake.build import run_build
    from shijian.lake.store import Lake

    store = Lake(Path(settings.SHIJIAN_LAKE))
    if store.has_records() or not (folder / "feeds").is_dir():
        return
    with progress() as update:
        totals = summary(run_ingest([folder], load_mappings(), store, update))
        say(
            f"ingested {totals['rows_read']:,} departmental rows: {totals['accepted']:,} records, "
            f"{totals['quarantined']:,} quarantined, {totals['duplicates']:,} duplicates"
        )
        build_report = run_build(store, update)
    say(f"built {build_report.synced:,} entity files in {build_report.total_seconds:.0f} s")


def ensure_users() -> None:
    """The demo accounts (one per role, and a town official); an inspector account is bound to an officer."""
    from shijian.accounts.models import User
    from shijian.registry.models import Department, Inspector

    for username, role, region, dept_code in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            continue
        dept = Department.objects.filter(code=dept_code).first() if dept_code else None
        user = User.objects.create_user(
            username, password=DEMO_PASSWORD, role=role, region_code=region, department=dept
        )
        if role == "inspector" and dept is not None:
            officer = Inspector.objects.filter(department=dept, active=True, user__isnull=True).first()
            if officer is not None:
                officer.user = user
                officer.save(update_fields=["user"])


def demo_authenticator_keys() -> dict[str, str]:
    """The demo users whose role requires a second factor, each with an authenticator enrolled on first use, and
    its key (base32) to type into an authenticator app, or to compute codes with ``oathtool --totp -b KEY``."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from shijian.accounts import otp
    from shijian.accounts.models import User

    keys: dict[str, str] = {}
    for username, *_ in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None or not otp.required(user):
            continue
        device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=otp.AUTHENTICATOR, confirmed=True)
        keys[username] = otp.secret_text(device).replace(" ", "")
    return keys


def first_model(progress: Callable[[], AbstractContextManager[Progress]], say: Say) -> None:
    """The first risk model of the demo district and its classes, so that the draw is stratified by real classes."""
    from django.conf import settings

    from shijian.risk import platform

    lake = Path(settings.SHIJIAN_LAKE)
    if platform.live_version() is not None or not platform.record_files(lake):
        return
    try:
        with progress() as update:
            v = platform.fit_version(lake, "gbm", user="demo", progress=update)
            r = platform.refresh(lake, progress=update)
    except platform.RiskError as exc:  # a small district can hold too few inspection findings to learn from
        say(f"risk model skipped: {exc}")
        return
    auc = v.metrics["backtest"]["mean"][v.kind]["auc"]
    say(
        f"risk model v{v.pk} ({v.kind}, backtest AUC {auc:.3f}); classes: "
        + ", ".join(f"{c} {n:,}" for c, n in r.classes.items())
    )


def first_draw(say: Say) -> None:
    """A first 双随机 plan of the demo district, frozen and drawn, so that every screen has something to show."""
    from shijian.accounts.models import User
    from shijian.core import clock
    from shijian.registry.models import Department, SpotCheckItem
    from shijian.supervision import services
    from shijian.supervision.draw import DrawError, commitment
    from shijian.supervision.models import Batch, Plan

    dept = Department.objects.filter(code="440608-SAMR").first()
    user = User.objects.filter(username="samr").first()
    items = SpotCheckItem.objects.filter(code__in=["FOOD-02", "SPEQ-01"])
    if Plan.objects.exists() or dept is None or user is None or not items.exists():
        return
    year = clock.today().year
    plan = Plan.objects.create(
        code=f"GM{year}",
        name=f"高明区{year}年度双随机联合抽查计划",
        year=year,
        level="district",
        department=dept,
        region_code="440608",
        created_by=user,
    )
    batch = Batch.objects.create(
        plan=plan,
        code=f"GM{year}-01",
        name="餐饮服务与特种设备联合抽查",
        department=dept,
        mode="stratified",
        ratios={"A": "3", "B": "5", "C": "30", "D": "80"},
        window_start=dt.date(year, 1, 1),
        window_end=dt.date(year, 12, 31),
    )
    batch.items.set(items)
    try:
        # Two officials commit to secrets at the freeze and reveal them at the draw (a beacon could not be entered
        # before its announced time, and the demo draws at once).
        secrets = ["演示：甲的秘密", "演示：乙的秘密"]
        draw = services.freeze([batch], user, "commit_reveal", commitments=[commitment(s) for s in secrets])
        result = services.perform(draw, user, secrets=secrets)
    except DrawError as exc:
        say(f"demo draw skipped: {exc}")
        return
    say(
        f"demo draw {draw.code}: {result.visits:,} joint visits"
        + (f", {len(result.infeasible)} could not be staffed" if result.infeasible else ", all staffed")
    )


def reminders(say: Say) -> None:
    from django.conf import settings

    from shijian.hazards.models import Reminder
    from shijian.hazards.services import refresh_reminders

    if not Reminder.objects.exists():
        counts = refresh_reminders(Path(settings.SHIJIAN_LAKE))
        say("compliance reminders: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
