"""Every URL pattern of the site, requested as every role, with objects inside and outside the user's jurisdiction.

The patterns come from the URL resolver, so a new URL without a rule in ``URLS`` below (or a declaration as public
in ``core.jurisdiction.PUBLIC_URLS``) fails the test. A leak is: an object of a region disjoint from the user's
answered 200 (or written), one of its names or codes in a list, export or dashboard, or a page whose figures change
when objects are added in such a region.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone

from shijian.core.codes.uscc import make
from shijian.core.jurisdiction import PUBLIC_URLS
from shijian.hazards.models import Reminder
from shijian.registry.models import Entity, Inspector
from tests.conftest import World
from tests.jurisdiction_places import PLACES, Place, _hazard, disjoint

USERS = ["leader", "samr", "inspector", "admin", "auditor", "hecheng", "hecheng_admin", "outsider"]

# The rule of each URL name: the kind of object its kwargs name (None: it names none: a list, a form, an export, a
# dashboard), the method that exercises it, and the status it answers for an object the user may act on.
# ``lists``: the page lists objects of the places (so some user must see an inside one in it).


@dataclass(frozen=True)
class Rule:
    kind: str | None = None
    method: str = "get"
    ok: int = 200
    lists: bool = False
    queries: tuple[str, ...] = ()  # query strings that name a place ({town}, {district}, {dept}, {uscc})
    shows: bool = True  # a 200 page names the object (the entity's records page is a fragment of its file)
    whole: str = ""  # why the page is the same for the whole installation (not restricted to a region)


TOWN_Q = ("town={town}",)
SCOPE_Q = ("town={town}", "district={district}", "department={dept}")
URLS: dict[str, Rule] = {
    "home": Rule(lists=False),
    "audit_list": Rule(whole="the audit trail is one hash chain per installation, read whole by auditors"),
    "audit_verify": Rule(),
    "risk_overview": Rule(),
    **{f"{k}_{a}": Rule() for k in ("entity", "department", "inspector", "item", "responsibility") for a in ("add",)},
    **{f"{k}_import": Rule() for k in ("entity", "department", "inspector", "item", "responsibility")},
    "entity_list": Rule(lists=True, queries=("town={town}", "q={uscc}", "village={village}")),
    "entity_export": Rule(lists=True, queries=("town={town}", "q={uscc}")),
    **{
        f"{k}_{a}": Rule(lists=True, queries=("region={region}",))
        for k in ("department", "inspector", "responsibility")
        for a in ("list", "export")
    },
    "item_list": Rule(lists=True),
    "item_export": Rule(lists=True),
    **{f"{k}_detail": Rule(k) for k in ("entity", "department", "inspector", "item", "responsibility")},
    **{f"{k}_edit": Rule(k) for k in ("entity", "department", "inspector", "item", "responsibility")},
    **{f"{k}_delete": Rule(k) for k in ("entity", "department", "inspector", "item", "responsibility")},
    "entity_records": Rule("entity", shows=False),
    "inspector_conflict_add": Rule("inspector"),
    "review_list": Rule(lists=True),
    "record_search": Rule(lists=True, queries=("q=后厨卫生", "town={town}", "q=后厨卫生&town={town}")),
    "review_decide": Rule("review", method="post", ok=302),
    "plan_list": Rule(lists=True),
    "plan_add": Rule(),
    "plan_detail": Rule("plan"),
    "batch_add": Rule("plan"),
    "plan_freeze": Rule("plan", ok=302),
    "batch_detail": Rule("batch"),
    "draw_detail": Rule("draw"),
    # The world's draws are made without their files, so an in-scope request finds no file (404) too; that staff get
    # the full record of their draws is tested in test_draw_trust. Here: never a 200 outside the jurisdiction.
    "draw_staff_file": Rule("draw", ok=404, shows=False),
    "task_list": Rule(lists=True),
    "visit_detail": Rule("visit"),
    "visit_print": Rule("visit"),
    "attachment_add": Rule("visit", ok=302),
    "attachment_get": Rule("attachment"),
    "publication": Rule(lists=True),
    "hazard_list": Rule(lists=True, queries=("town={town}", "department={dept}")),
    "hazard_export": Rule(lists=True, queries=("town={town}", "department={dept}")),
    "hazard_add": Rule(),
    "hazard_dashboard": Rule(lists=True),
    "reminder_list": Rule(lists=True, queries=TOWN_Q),
    "hazard_detail": Rule("hazard"),
    "hazard_from_check": Rule("check", method="post", ok=302),
    "analytics": Rule(queries=SCOPE_Q),
    "forecast": Rule(queries=SCOPE_Q),
    "operations": Rule(lists=True),
    "analytics_report": Rule(queries=SCOPE_Q),
    "user_list": Rule(lists=True),
    "user_add": Rule(),
    "user_edit": Rule("user"),
    "user_active": Rule("user", method="post", ok=302),
    "user_reset": Rule("user", method="post"),
    "user_reset_otp": Rule("user", method="post", ok=302),
    "otp_setup": Rule(whole="the user's own second factor: it names no object of any region"),
    "otp_verify": Rule(ok=302, whole="the user's own second factor: it names no object of any region"),
    "otp_recovery_codes": Rule(method="post", whole="the user's own recovery codes: no object of any region"),
    "password_change": Rule(),
    "password_change_done": Rule(),
    "search": Rule(queries=("q={uscc}",)),
    "pick_regions": Rule(queries=("under={town}", "under={district}")),
    "pick_industries": Rule(whole="GB/T 4754, the same national code table for everyone"),
    "pick_entities": Rule(queries=("q={uscc}",)),
    "audit_export": Rule(whole="the audit trail is one hash chain per installation, exported whole by auditors"),
    "job_list": Rule(lists=True),
    "schedule_list": Rule(),
    "job_detail": Rule("job"),
    "job_cancel": Rule("job", method="post", ok=302),
    # The world's jobs have written no file: an in-scope request finds none (404) too; never a 200 outside.
    "job_download": Rule("job", ok=404, shows=False),
    "notification_list": Rule(lists=True),
    "notification_read_all": Rule(method="post", ok=302),
    "notification_preferences": Rule(),
    "notification_read": Rule("notification", method="post", ok=302),
    "dataadmin_home": Rule(lists=True),
    "feed_add": Rule(),
    "feed_detail": Rule("feed"),
    "feed_mapping": Rule("feed"),
    "feed_upload": Rule("feed"),
    # An empty POST finds the feed, then is refused as malformed (no file name or size): 400, never 201 outside.
    "upload_create": Rule("feed", method="post", ok=400),
    "licence_ocr": Rule(method="post", ok=400),  # no photo: 400; a photo names no object (its match is restricted)
    "upload_detail": Rule("upload", shows=False),  # the upload's offset as JSON
    "feed_quarantine": Rule("feed"),
    "feed_reprocess": Rule("feed", method="post", ok=302),
    "department_quality": Rule("department"),
    "complaint_list": Rule(lists=True),
    "complaint_add": Rule(),
    "complaint_import": Rule(),
    "complaint_detail": Rule("complaint"),
    # the places' filings are not decided yet: an in-scope request finds no notice (404) too; never a 200 outside
    # (the signed documents themselves are tested in test_cases_documents)
    "complaint_notice": Rule("complaint", ok=404, shows=False),
    "case_decision": Rule("case", ok=404, shows=False),
    # signed documents of a visit or case: each place's visit has its notice and its case its filing form kept (a
    # stand-in file, _signed_documents), so a download answers the file; signing the kept notice again sends back
    # to the visit page (302), the filing form of a case not filed is refused with a message (302). Never a 200 or
    # a write outside (the documents themselves are tested in test_signed_documents).
    "visit_document": Rule("visit", shows=False),
    "visit_document_sign": Rule("visit", method="post", ok=302),
    "case_filing": Rule("case", shows=False),
    "case_filing_sign": Rule("case", method="post", ok=302),
    "case_list": Rule(lists=True),
    "case_add": Rule(),
    # the place's entries are not escalated: an in-scope request is refused with a message and sent back (302)
    "case_from_hazard": Rule("hazard", method="post", ok=302),
    "case_from_check": Rule("check", method="post", ok=302),
    "case_detail": Rule("case"),
    "evidence_add": Rule("case", method="post", ok=302),
    "evidence_get": Rule("evidence", shows=False),
}
# What fills each URL kwarg besides the object's pk.
EXTRA_KWARGS = {"form": "notice", "name": "record.full.json"}
OBJECT_KWARGS = {"pk", "plan_pk", "check_pk"}


# The REST API's routes: authenticated by bearer token (an API client, not a session), so they are exempt from the
# session-based probes here and tested, token, scope, jurisdiction (list, detail, cursor) and all, in
# tests/test_api.py. A new API route must be listed here (and tested there).
API_ROUTES = frozenset(
    {
        "api/",
        "api/openapi.json",
        "api/docs",
        "api/token",
        "api/entities",
        "api/entities/<entity_id>",
        "api/entities/<entity_id>/file",
        "api/entities/<entity_id>/records",
        "api/risk-classes",
        "api/draws",
        "api/draws/<draw_id>",
        "api/visits",
        "api/visits/<visit_id>",
        "api/hazards",
        "api/hazards/<hazard_id>",
        "api/loads",
        "api/loads/records",
        "api/codes/<table>",
    }
)


def all_patterns(resolver: URLResolver | None = None, prefix: str = "") -> list[tuple[str, URLPattern]]:
    """Every named pattern, recursively (the resolver's own tree, not a copy of it)."""
    out = []
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            out += all_patterns(p, prefix + str(p.pattern))
        else:
            out.append((prefix + str(p.pattern), p))
    return out


def patterns() -> list[tuple[str, URLPattern]]:
    """Every session-authenticated or public pattern (the API's token-authenticated routes aside)."""
    return [(path, p) for path, p in all_patterns() if not path.startswith("api/")]


def test_every_api_route_is_listed_as_token_authenticated() -> None:
    assert {path for path, _p in all_patterns() if path.startswith("api/")} == API_ROUTES


def _url(name: str, pattern: URLPattern, obj: Any) -> str:
    kwargs = {}
    for kw in re.findall(r"<(?:\w+:)?(\w+)>", str(pattern.pattern)):
        kwargs[kw] = obj.pk if kw in OBJECT_KWARGS else EXTRA_KWARGS[kw]
    return reverse(name, kwargs=kwargs)


def _text(response: Any) -> str:
    """What a user reads in a response: the page, or the cells of an Excel export, or the text of a PDF."""
    ctype = response.get("Content-Type", "")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if "spreadsheetml" in ctype:
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(body), read_only=True)
        return "\n".join(
            str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None
        )
    if "pdf" in ctype and body.startswith(b"%PDF-") and b"-evidence" not in body:
        from pypdf import PdfReader

        return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(body)).pages)
    return body.decode("utf-8", "replace")


def _region(world: Any, who: str) -> str:
    return str(world.users[who].region_code)


def test_every_url_has_a_rule_or_is_declared_public() -> None:
    names = {p.name for _path, p in patterns()}
    assert None not in names, "every URL pattern needs a name, for the rules of this test"
    missing = sorted(n for n in names if n is not None and n not in URLS and n not in PUBLIC_URLS)
    assert not missing, f"URLs with no jurisdiction rule in tests/test_jurisdiction_urls.py: {missing}"
    stale = sorted(n for n in {*URLS, *PUBLIC_URLS} if n not in names)
    assert not stale, f"rules for URLs that no longer exist: {stale}"


def test_anonymous_users_are_sent_to_login_except_on_public_urls(world: World, places: dict[str, Place]) -> None:
    c = world.client("anonymous")
    for name, rule in URLS.items():
        pattern = next(p for _path, p in patterns() if p.name == name)
        url = _url(name, pattern, places["hecheng"].objects[rule.kind]) if rule.kind else reverse(name)
        for method in ("get", "post"):
            r = getattr(c, method)(url)
            assert r.status_code == 302 and r["Location"].startswith(reverse("login")), (name, method, r.status_code)
    draw = places["hecheng"].objects["draw"]
    for url in (
        reverse("public_index"),
        reverse("public_draw", args=[draw.code]),
        reverse("healthz"),
        reverse("manifest"),
        reverse("service_worker"),
    ):
        r = c.get(url)
        assert r.status_code == 200, url
    r = c.get(reverse("public_results", args=["csv"]))
    assert r.status_code == 200


@pytest.mark.parametrize("who", USERS)
def test_objects_outside_the_jurisdiction_are_never_answered(world: World, places: dict[str, Place], who: str) -> None:
    c = world.client(who)
    region = _region(world, who)
    outside = [k for k, p in places.items() if disjoint(p.region, region)]
    inside = [k for k, p in places.items() if p.region.startswith(region)]
    assert outside and inside
    for _path, pattern in patterns():
        rule = URLS.get(str(pattern.name))
        if rule is None or rule.kind is None:
            continue
        name = str(pattern.name)
        for key in outside:
            if rule.kind not in places[key].objects:
                continue
            url = _url(name, pattern, places[key].objects[rule.kind])
            for method in ("get", "post"):
                r = getattr(c, method)(url)
                if r.status_code == 405 and method != rule.method:
                    continue  # refused by method before any object is looked up: nothing to leak
                assert r.status_code in (403, 404), (who, name, key, method, r.status_code)
                body = _text(r)
                assert not any(m in body for m in places[key].markers), (who, name, key, method)


def test_objects_inside_the_jurisdiction_are_answered_with_their_content(
    world: World, places: dict[str, Place]
) -> None:
    """The other half, so that a 404 for everyone cannot pass the test above: each URL with an object answers its
    ``ok`` status to some role for an object in that role's region, and a 200 page shows the object."""
    answered: set[str] = set()
    for who in USERS:
        c = world.client(who)
        region = _region(world, who)
        outside = [k for k, p in places.items() if disjoint(p.region, region)]
        for _path, pattern in patterns():
            rule = URLS.get(str(pattern.name))
            if rule is None or rule.kind is None:
                continue
            name = str(pattern.name)
            for key, place in places.items():
                if disjoint(place.region, region) or rule.kind not in place.objects:
                    continue
                inside = place.region.startswith(region)  # else a region above the user's (a district plan)
                r = getattr(c, rule.method)(_url(name, pattern, place.objects[rule.kind]))
                assert r.status_code in (rule.ok, 403, 404), (who, name, key, r.status_code)
                if r.status_code == rule.ok and inside:
                    answered.add(name)
                if r.status_code != 200:
                    continue
                body = _text(r)
                if inside and rule.shows:
                    shown = f"{key}-evidence" if rule.kind == "attachment" else None
                    assert shown in body if shown else any(m in body for m in place.markers), (who, name, key)
                for other in outside:
                    leaked = [m for m in places[other].markers if m in body]
                    assert not leaked, (who, name, key, other, leaked)
    assert answered == {n for n, r in URLS.items() if r.kind}


@pytest.mark.parametrize("who", USERS)
def test_lists_exports_and_dashboards_show_nothing_from_outside(
    world: World, places: dict[str, Place], who: str
) -> None:
    c = world.client(who)
    region = _region(world, who)
    outside = [k for k, p in places.items() if disjoint(p.region, region)]
    for name, rule in URLS.items():
        if rule.kind is not None or rule.whole:
            continue
        urls = [reverse(name)] + [
            f"{reverse(name)}?{q.format(**places[k].query)}" for q in rule.queries for k in outside
        ]
        for url in urls:
            r = c.get(url, follow=name == "home")  # the start page sends each role to its own page
            if r.status_code == 405 and rule.method == "post":
                continue  # a POST-only action, refused by method before anything is read
            if (
                getattr(r, "redirect_chain", None)
                and URLS[str(resolve(r.redirect_chain[-1][0].partition("?")[0]).url_name)].whole
            ):
                continue  # the auditor's start page is the audit log, read whole (its own rule says why)
            assert r.status_code in (200, 403, 404), (who, url, r.status_code)
            if r.status_code == 200:
                body = _text(r)
                for key in outside:
                    typed = set(places[key].query.values()) & set(url.partition("?")[2].split("=")[1:])
                    leaked = [m for m in places[key].markers if m in body and m not in typed]
                    assert not leaked, (who, url, key, leaked)


def test_every_list_shows_some_user_an_object_of_their_own(world: World, places: dict[str, Place]) -> None:
    seen: set[str] = set()
    for who in USERS:
        c = world.client(who)
        region = _region(world, who)
        own = [k for k, p in places.items() if p.region.startswith(region)]
        for name, rule in URLS.items():
            if rule.lists:
                r = c.get(reverse(name))
                assert r.status_code in (200, 403), (who, name, r.status_code)
                if r.status_code == 200 and any(m in _text(r) for k in own for m in places[k].markers):
                    seen.add(name)
    assert seen == {n for n, r in URLS.items() if r.lists}


def _pages(world: Any, who: str) -> dict[str, tuple[int, str]]:
    c = world.client(who)
    out = {}
    for name, rule in URLS.items():
        if rule.kind is None and not rule.whole and name != "audit_verify":
            r = c.get(reverse(name))
            body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", _text(r))
            body = re.sub(r"\b\d{1,2}:\d{2}(:\d{2})?\b", "", body)  # clock times (a last login) move on their own
            out[name] = (r.status_code, body)
    return out


def _more(world: Any, key: str) -> None:
    """More objects in one place: entities, an entry, a reminder, a visit."""
    region = PLACES[key] if len(PLACES[key]) == 9 else PLACES[key] + "001"
    dept = world.depts[key]
    for i in range(3):
        e = Entity.objects.create(
            uscc=make("92", region[:6], f"MB{key[:2].upper()}{i:04d}"),
            name=f"{key}新增个体户{i}",
            entity_type="individual",
            industry_code="6210",
            industry_section="H",
            region_code=region[:9] + "001",
            town_code=region[:9],
            district_code=region[:6],
            status="active",
        )
        _hazard(world, key, e, f"{key}新增问题{i}")
        Reminder.objects.create(
            entity=e,
            town_code=e.town_code,
            kind="annual_report",
            due_on=dt.date(2026, 6, 30),
            refreshed_at=timezone.now(),
        )
        Inspector.objects.create(name=f"新增{i}", department=dept, region_code=dept.region_code, cert_no=f"9{i}{key}")


@pytest.mark.parametrize(
    ("who", "elsewhere"),
    [
        ("hecheng", "yanghe"),
        ("hecheng_admin", "yanghe"),
        ("leader", "chancheng"),
        ("samr", "chancheng"),
        ("admin", "chancheng"),
        ("auditor", "chancheng"),
        ("outsider", "yanghe"),
    ],
)
def test_counts_do_not_move_when_objects_are_added_outside(
    world: World, places: dict[str, Place], who: str, elsewhere: str
) -> None:
    before = _pages(world, who)
    _more(world, elsewhere)
    from django.core.cache import cache

    cache.clear()
    after = _pages(world, who)
    changed = [name for name in before if before[name] != after[name]]
    assert not changed, (who, elsewhere, changed)
    # and the check can see a change: objects added in the user's own region move their pages
    own = next(k for k, p in PLACES.items() if p.startswith(_region(world, who)))
    _more(world, own)
    cache.clear()
    assert _pages(world, who) != after
