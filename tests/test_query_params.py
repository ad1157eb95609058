"""No query value is a server error: every GET page, every query parameter name the code reads, random values.

Unicode digits (``isdigit()`` is true for ``²`` but ``int()`` refuses it), numbers past 64 bits, empty and junk values
go to every GET URL of the URL map, as a user who may see the page. A malformed value is a 400 with a message.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SRC = Path(__file__).resolve().parent.parent / "src" / "shijian"
SKIP = {"logout", "set_language"}  # POST-only
ROLES = ("leader", "admin", "auditor", "inspector", "samr")


def _patterns(resolver: Any = None, prefix: str = "") -> list[tuple[str, URLPattern]]:
    out: list[tuple[str, URLPattern]] = []
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            out += _patterns(p, prefix + str(p.pattern))
        else:
            out.append((prefix + str(p.pattern), p))
    return out


def parameter_names() -> list[str]:
    """Every query parameter name the code reads: ``GET.get("x")``, list filters, and name tuples it loops over."""
    names: set[str] = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        names |= set(re.findall(r"GET\.get(?:list)?\(\s*[\"'](\w+)[\"']", text))
        names |= set(re.findall(r"\bFilter\(\s*[\"'](\w+)[\"']", text))
        names |= set(re.findall(r"\bint_param\(\s*request,\s*[\"'](\w+)[\"']", text))
        for group in re.findall(r"^FILTERS = \(([^)]*)\)", text, flags=re.M):
            names |= set(re.findall(r"[\"'](\w+)[\"']", group))
    return sorted(names)


def test_the_parameter_scan_finds_the_known_names() -> None:
    names = parameter_names()
    for known in ("page", "department", "due_within", "town", "q", "sort", "limit", "month"):
        assert known in names


def _path_for(world: Any, route: str, name: str) -> str:
    from shijian.registry.models import Responsibility

    pks = {
        "entity": world.entities["hecheng"].pk,
        "department": world.depts["samr"].pk,
        "inspector": world.inspectors["samr"].pk,
        "item": world.items["food"].pk,
        "responsibility": Responsibility.objects.order_by("pk").first().pk,  # type: ignore[union-attr]
    }
    pk = pks.get(name.split("_", 1)[0], 1)
    path = re.sub(r"<int:\w+>", str(pk), route)
    path = re.sub(r"<str:form>", "notice", path)
    path = re.sub(r"<str:fmt>", "csv", path)
    return "/" + re.sub(r"<str:\w+>", "x", path)


@pytest.fixture
def get_pages(world: Any) -> list[tuple[str, Any]]:
    """Each GET page with the client of the first role that is not refused it (403) on a plain request."""
    clients = {}
    for role in ROLES:
        clients[role] = Client(raise_request_exception=False)
        clients[role].force_login(world.users[role])
    pages: list[tuple[str, Any]] = []
    for route, pattern in _patterns():
        if pattern.name in SKIP:
            continue
        path = _path_for(world, route, pattern.name or "")
        for role in ROLES:
            status = clients[role].get(path).status_code
            assert status < 500, (path, role, status)
            if status not in (403, 405):
                pages.append((path, clients[role]))
                break
    assert len(pages) > 40
    return pages


JUNK = st.one_of(
    st.sampled_from(
        ["", " ", "²", "٣", "１２", "0", "-1", "1e9", "1.5", "NaN", "x", "\x00", "%", "9" * 30, "-" + "9" * 30]
    ),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.text(alphabet=st.characters(categories=["Nd", "No", "Nl"]), min_size=1, max_size=20),
    st.text(max_size=30),
)


@settings(
    max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_no_query_value_is_a_server_error(get_pages: list[tuple[str, Any]], data: Any) -> None:
    path, client = data.draw(st.sampled_from(get_pages))
    params = data.draw(st.dictionaries(st.sampled_from(parameter_names()), JUNK, min_size=1, max_size=3))
    r = client.get(path, params)
    assert r.status_code < 500, (path, params, r.status_code)


def test_the_audited_values_are_never_a_server_error(get_pages: list[tuple[str, Any]]) -> None:
    """The values from the audit, in every parameter at once, on every page; a malformed one is a 400."""
    failures = []
    for value in ("²", "9" * 30, "-1", "\x00"):
        params = dict.fromkeys(parameter_names(), value)
        for path, client in get_pages:
            status = client.get(path, params).status_code
            if status >= 500:
                failures.append((path, value, status))
    assert not failures, failures


def test_a_malformed_value_is_a_400_with_a_chinese_message(world: Any) -> None:
    from django.urls import reverse

    c = world.client("leader")
    for url in (reverse("hazard_list") + "?department=²", reverse("inspector_list") + "?department=" + "9" * 30):
        r = c.get(url)
        assert r.status_code == 400, url
        assert "“department”必须是整数" in r.content.decode()
    r = c.get(reverse("hazard_list") + "?due_within=400")
    assert r.status_code == 400 and "必须在 1 到 366 之间" in r.content.decode()
