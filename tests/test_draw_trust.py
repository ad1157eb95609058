"""Trust under independent checks: nobody can steer the draw after the seed, and verify shows any attempt.

Each test plays one attack an independent checker found: staffing inputs changed after the freeze, a redraw with a
dropped candidate, a second freeze of the same batches; and the privacy of the published record.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.urls import reverse
from pytest_django import Settings

from shijian.registry.models import Entity, InspectorConflict
from shijian.supervision import record as rec
from shijian.supervision import services
from shijian.supervision.draw import full_bytes, parse_full, public_bytes, sha256_hex
from shijian.supervision.models import Draw, Plan, TeamMember, Visit
from shijian.translog import services as translog
from tests import draws
from tests.conftest import World
from tests.responses import streamed


@pytest.fixture
def plan(world: Any) -> Plan:
    return draws.make_plan(world)


@pytest.fixture
def drawn(world: Any, plan: Plan, tmp_path: Path, settings: Any) -> Draw:
    settings.HOME = tmp_path
    draws.more_entities(30)
    batch = draws.make_batch(plan, world)
    draw = draws.freeze([batch], world.users["samr"], "上证综指 2026-03-02 收盘价")
    assert draws.perform(draw, world.users["samr"], "3312.45").ok
    draw.refresh_from_db()
    return draw


def full_record(draw: Draw) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((services.draw_dir(draw.code) / services.FULL_RECORD).read_bytes())
    return record


def reader(draw: Draw, files: dict[str, bytes] | None = None) -> Any:
    folder = services.draw_dir(draw.code)
    return lambda name: (files or {}).get(name) or (folder / name).read_bytes()


def forge(record: dict[str, Any], frozen: dict[str, Any], staffing: dict[str, Any], read: Any) -> dict[str, Any]:
    """What a bureau that controls its own server could publish: a record rebuilt from changed inputs, with the
    same public value, so that it re-runs identically (the attack the old format could not see)."""
    full = {b["code"]: parse_full(read(b["candidates"]["full_file"])) for b in frozen["batches"]}
    seed_block = {k: v for k, v in record["seed"].items() if k != "seed"}
    forged, _staffed, _visits, _drawn = rec.build(
        frozen=frozen, staffing=staffing, full=full, seed_block=seed_block, drawn_at=record["drawn_at"]
    )
    forged["log"] = record["log"]
    published: dict[str, Any] = json.loads(rec.dumps(forged))
    return published


def test_it_verifies_an_honest_draw_against_the_log(drawn: Draw) -> None:
    record = full_record(drawn)
    assert rec.verify(record, reader(drawn), translog.export()) == []
    public = json.loads((services.draw_dir(drawn.code) / "record.json").read_bytes())
    assert rec.verify(public, reader(drawn), translog.export()) == []
    assert sha256_hex((services.draw_dir(drawn.code) / "record.json").read_bytes()) == drawn.record_sha256
    assert rec.dumps(public) == (services.draw_dir(drawn.code) / "record.json").read_bytes()  # RFC 8785 bytes


def test_staffing_changed_after_the_freeze_changes_nothing(
    world: World, plan: Plan, tmp_path: Path, settings: Settings
) -> None:
    """Finding 12: 13 conflicts declared, or one workload raised, after the freeze: the draw reads the snapshot."""
    settings.HOME = tmp_path
    draws.more_entities(30)
    batch = draws.make_batch(plan, world)
    draw = draws.freeze([batch], world.users["samr"])
    officer = world.depts["samr"].inspectors.order_by("cert_no").first()
    for entity in Entity.objects.all():
        InspectorConflict.objects.create(inspector=officer, entity=entity, reason="后补", declared_on=dt.date.today())
    frozen = json.loads((services.draw_dir(draw.code) / services.FROZEN_FILE).read_bytes())
    assert draws.perform(draw, world.users["samr"]).ok
    record = full_record(draw)
    assert record["staffing"] == frozen["staffing"] and record["frozen"] == frozen["frozen"]
    assert not any(cert == officer.cert_no for cert, _key in record["staffing"]["exclusions"])
    assert TeamMember.objects.filter(inspector=officer).exists()  # the late conflicts did not move him


def test_a_staffing_change_after_the_seed_is_detected(drawn: Draw) -> None:
    """Finding 12: conflicts added after the seed, everything recomputed: the frozen digest is not the logged one."""
    record = full_record(drawn)
    staffing = json.loads(json.dumps(record["staffing"]))
    visit = record["outputs"]["visits"][0]
    staffing["exclusions"] = sorted([*staffing["exclusions"], [visit["team"][0], visit["key"]]])
    staffing["officers"][0]["workload"] += 1
    frozen = dict(record["frozen"], staffing_sha256=sha256_hex(rec.canonical(staffing)))
    forged = forge(record, frozen, staffing, reader(drawn))
    problems = rec.verify(forged, reader(drawn), translog.export())
    assert any("the logged freeze says frozen_digest" in p for p in problems), problems
    # logging the changed freeze now is too late: the beacon was already public, and it is a second freeze
    forged["log"] = _log_again(forged)
    problems = rec.verify(forged, reader(drawn), translog.export())
    assert any("not before the beacon" in p for p in problems), problems
    assert any("a redraw" in p for p in problems), problems


def test_a_redraw_with_a_dropped_candidate_is_detected(drawn: Draw) -> None:
    """Finding 13: a candidate silently dropped and the draw re-run: a self-consistent record that does not verify."""
    record = full_record(drawn)
    b = record["frozen"]["batches"][0]
    cands, salts = parse_full((services.draw_dir(drawn.code) / b["candidates"]["full_file"]).read_bytes())
    dropped = [c for c in cands if c.key != record["outputs"]["entities"][b["code"]][0][0]]
    public, full = public_bytes(dropped, salts), full_bytes(dropped, salts)
    files = {b["candidates"]["file"]: public, b["candidates"]["full_file"]: full}
    batch = dict(b, candidates=rec.candidate_files(b["code"], public, full, len(dropped)))
    frozen = dict(record["frozen"], batches=[batch])
    forged = forge(record, frozen, record["staffing"], reader(drawn, files))
    assert rec.verify(forged, reader(drawn, files), None) == [
        f"the logged freeze says frozen_digest = {record['frozen_digest']!r}, "
        f"the record's inputs give {forged['frozen_digest']!r}"
    ]
    forged["log"] = _log_again(forged)
    problems = rec.verify(forged, reader(drawn, files), translog.export())
    assert any("a redraw" in p for p in problems) and any("not before the beacon" in p for p in problems)


def test_a_second_freeze_of_the_same_batch_is_detected(drawn: Draw) -> None:
    """Finding 13: a redraw under a new announcement shows on the log as a second freeze of the batches."""
    record = full_record(drawn)
    assert rec.verify(record, reader(drawn), translog.export()) == []
    translog.append("freeze", "GM2026-D09", {**rec.freeze_leaf(record["frozen"], "0" * 64), "draw": "GM2026-D09"})
    problems = rec.verify(record, reader(drawn), translog.export())
    assert any("announces another freeze of draw GM2026-D09 for batches GM2026-01: a redraw" in p for p in problems)


def _log_again(record: dict[str, Any]) -> dict[str, Any]:
    """Announce the changed freeze now that the public value is known (after the beacon time)."""
    after = dt.datetime.fromisoformat(record["frozen"]["seed_plan"]["at"]) + dt.timedelta(minutes=5)
    with time_machine.travel(after, tick=True):
        entry = translog.append("freeze", record["draw"], rec.freeze_leaf(record["frozen"], record["frozen_digest"]))
    return translog.inclusion(entry)


def test_the_public_record_names_no_certificate_nor_conflict(world: World, drawn: Draw) -> None:
    """Finding 15: certificates and officer-entity conflict pairs are not published; staff get the full record."""
    anonymous = world.client("anonymous")
    public = streamed(anonymous.get(reverse("public_draw_file", args=[drawn.code, "record.json"])))
    full = full_record(drawn)
    certs = {o["cert"] for o in full["staffing"]["officers"]}
    assert certs and not any(c.encode() in public for c in certs)
    assert b"exclusions" not in public and b"officers" not in public
    # the public candidate list shows commitments and classes only: no entity's code, drawn or not
    listed = streamed(anonymous.get(reverse("public_draw_file", args=[drawn.code, "GM2026-01.candidates.csv"])))
    assert listed.count(b"\n") == 31 and not any(
        e.uscc is not None and e.uscc.encode() in listed for e in Entity.objects.all()
    )
    name = "GM2026-01.candidates.full.csv"
    assert anonymous.get(reverse("public_draw_file", args=[drawn.code, name])).status_code == 404
    r = world.client("samr").get(reverse("draw_staff_file", args=[drawn.pk, name]))
    assert r.status_code == 200 and streamed(r).count(b"\n") == 31
    assert (
        anonymous.get(reverse("draw_staff_file", args=[drawn.pk, "record.full.json"])).status_code == 302
    )  # to the login page
    r = world.client("samr").get(reverse("draw_staff_file", args=[drawn.pk, "record.full.json"]))
    assert r.status_code == 200 and json.loads(streamed(r)) == full
    assert (
        world.client("inspector").get(reverse("draw_staff_file", args=[drawn.pk, "record.full.json"])).status_code
        == 403
    )
    log = anonymous.get(reverse("public_log")).json()
    assert log["public_key"] == translog.public_key_hex() and log["entries"][0]["leaf"]["draw"] == drawn.code


def test_the_scope_rules_are_frozen_with_the_candidates(drawn: Draw) -> None:
    """Finding 14: the batch's scope rules are in the frozen manifest, so the candidate list can be checked."""
    scope = full_record(drawn)["frozen"]["batches"][0]["scope"]
    assert scope["regions"] == ["440608004"] and scope["exclude_drawn_this_year"] is True
    assert set(scope) >= {"industries", "entity_types", "tags", "exclude_keys", "exclude_new_days"}
    assert set(scope) >= {"raise_hazard_entities", "plan_year"}
    assert Visit.objects.filter(draw=drawn).count() == 10


def test_an_entity_finds_its_own_line_with_its_receipt(world: World, drawn: Draw) -> None:
    """Finding 15: the public list hides who is on it, yet each entity can check its own line and class."""
    from typer.testing import CliRunner

    from shijian.cli import app

    anonymous = world.client("anonymous")
    record = full_record(drawn)
    drawn_keys = [v["key"] for v in record["outputs"]["visits"]]
    entity = Entity.objects.filter(region_code__startswith="440608004").exclude(uscc__in=drawn_keys).first()
    assert entity is not None and entity.uscc is not None
    r = CliRunner().invoke(app, ["draw", "receipt", drawn.code, entity.uscc])
    assert r.exit_code == 0, r.output
    salt = r.output.split("salt ")[1].split()[0]
    page = anonymous.get(reverse("public_check", args=[drawn.code]), {"key": entity.uscc, "salt": salt})
    html = page.content.decode()
    assert page.status_code == 200 and "<td>GM2026-01</td><td>B</td>" in html  # on the list, class B, not drawn
    wrong = anonymous.get(reverse("public_check", args=[drawn.code]), {"key": entity.uscc, "salt": "0" * 32})
    assert "<td>GM2026-01</td>" not in wrong.content.decode()
