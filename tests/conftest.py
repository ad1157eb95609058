"""One shared world of named people and places (Healthchecks-style), on the real database."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import pytest
from django.test import Client

PASSWORD = "correct-horse-battery-9"


def _postgres_unreachable() -> str:
    url = os.environ.get("SHIJIAN_DATABASE_URL", "")
    if not url.startswith("postgres"):
        return ""
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 5432
    try:
        with socket.create_connection((host, port), timeout=2):
            return ""
    except OSError as exc:
        return f"PostgreSQL not reachable at {host}:{port} ({exc}); PostgreSQL run skipped"


_travel: Any = None


def pytest_configure(config: Any) -> None:
    """SHIJIAN_TEST_NOW=ISO-INSTANT runs the whole suite on a clock started at that instant (time-machine, ticking).

    CI runs the SQLite suite at 23:30 UTC, when the UTC date is a day behind Beijing's, so a business date taken
    from UTC instead of Asia/Shanghai fails a test whatever the hour the suite really runs.
    """
    global _travel
    at = os.environ.get("SHIJIAN_TEST_NOW", "")
    if at:
        import time_machine

        _travel = time_machine.travel(at, tick=True)
        _travel.start()


def pytest_unconfigure(config: Any) -> None:
    if _travel is not None:
        _travel.stop()


# The fixtures through which a test reaches the suite's database; pytest-django refuses database access to a
# test that has none of them, so such a test runs the same whatever the database.
DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"}
)


def reaches_database(item: Any) -> bool:
    """Whether a collected test can depend on the database engine: it asks for the database, or it is marked as
    reaching it another way (``reaches_database``: a process of its own on the suite's engine)."""
    return bool(DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))) or any(
        item.get_closest_marker(name) is not None for name in ("django_db", "reaches_database")
    )


ENGINES = ("sqlite", "postgresql")


def one_engine(item: Any) -> str:
    """The engine a test marked ``one_engine(ENGINE, reason=...)`` runs on when `make test` runs both, or ""."""
    marker = item.get_closest_marker("one_engine")
    if marker is None:
        return ""
    engine = marker.args[0] if marker.args else ""
    if engine not in ENGINES or not marker.kwargs.get("reason"):
        raise pytest.UsageError(f"{item.nodeid}: one_engine needs an engine of {ENGINES} and a reason")
    return str(engine)


def runs_in(item: Any, run: str) -> bool:
    """Whether a test runs in this run of `make test` (``run``: SHIJIAN_TEST_RUN): "" runs every test; beside the
    SQLite run, the PostgreSQL run leaves out the tests that cannot reach the database; a test marked
    ``one_engine`` runs only in its engine's run."""
    if not run:
        return True
    engine = one_engine(item)
    if engine:
        return engine == run
    return run == "sqlite" or reaches_database(item)


_LEFT_OUT: list[int] = []


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    reason = _postgres_unreachable()
    if reason:
        marker = pytest.mark.skip(reason=reason)
        for item in items:
            item.add_marker(marker)
    # `make test` runs the suite on SQLite and on PostgreSQL at once; each run leaves out what the other runs.
    run = os.environ.get("SHIJIAN_TEST_RUN", "")
    if run not in ("", *ENGINES):
        raise pytest.UsageError(f"SHIJIAN_TEST_RUN must be empty or one of {ENGINES}, not {run!r}")
    kept: list[Any] = []
    left: list[Any] = []
    for item in items:
        (kept if runs_in(item, run) else left).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept
        _LEFT_OUT.append(len(left))


def pytest_report_header(config: Any) -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    clock = f"; clock started at {os.environ['SHIJIAN_TEST_NOW']}" if os.environ.get("SHIJIAN_TEST_NOW") else ""
    return f"shijian database: {str(db['ENGINE']).rsplit('.', 1)[-1]} {db.get('HOST', '')} {db['NAME']}{clock}"


def pytest_report_collectionfinish(config: Any, start_path: Any, items: list[Any]) -> str:
    if not _LEFT_OUT:
        return ""
    other = "PostgreSQL" if os.environ.get("SHIJIAN_TEST_RUN") == "sqlite" else "SQLite"
    return (
        f"SHIJIAN_TEST_RUN={os.environ.get('SHIJIAN_TEST_RUN')}: {_LEFT_OUT[0]} tests are left out (deselected); "
        f"they run in the {other} run"
    )


_client_login = Client._login  # type: ignore[attr-defined]  # private; not in django-stubs


def _login_with_second_factor(self: Client, user: Any, backend: str | None = None) -> None:
    """In the suite, the test client's ``login`` and ``force_login`` stand for a whole sign-in: both factors
    (tests/otp.py). Tests of the second factor itself sign in through the login form."""
    from tests.otp import pass_second_factor

    _client_login(self, user, backend)
    pass_second_factor(self, user)


Client._login = _login_with_second_factor  # type: ignore[attr-defined]  # private; not in django-stubs

pytest_plugins = ["tests.browser", "tests.jurisdiction_places"]  # the browser fixture; the URL-map test's places


@dataclass
class World:
    district: str
    hecheng: str
    yanghe: str
    depts: dict[str, Any]
    entities: dict[str, Any]
    items: dict[str, Any]
    inspectors: dict[str, Any]
    users: dict[str, Any]

    def client(self, who: str) -> Client:
        c = Client()
        if who != "anonymous":
            c.force_login(self.users[who])
        return c


@pytest.fixture
def world(db: Any) -> World:
    from shijian.accounts.models import User
    from shijian.registry.models import (
        Department,
        Entity,
        Inspector,
        ItemCategory,
        Responsibility,
        SpotCheckItem,
        Tag,
    )

    food = ItemCategory.objects.create(code="FOOD", name="食品安全")
    reg = ItemCategory.objects.create(code="REG", name="登记事项")
    Tag.objects.create(code="catering", name="餐饮服务")
    d = {
        "samr": Department.objects.create(
            code="440608-SAMR", name="高明区市场监督管理局", level="district", region_code="440608"
        ),
        "hecheng": Department.objects.create(
            code="440608004-SAMRS", name="荷城市场监督管理所", level="town", region_code="440608004"
        ),
        "yanghe": Department.objects.create(
            code="440608106-SAMRS", name="杨和市场监督管理所", level="town", region_code="440608106"
        ),
        "chancheng": Department.objects.create(
            code="440604-SAMR", name="禅城区市场监督管理局", level="district", region_code="440604"
        ),
    }

    def entity(name: str, uscc: str | None, region: str, legal_rep: str = "张三丰") -> Entity:
        return Entity.objects.create(
            uscc=uscc,
            reg_no="",
            name=name,
            entity_type="llc",
            industry_code="6210",
            industry_section="H",
            region_code=region,
            town_code=region[:9],
            district_code=region[:6],
            address="人民路1号",
            legal_rep=legal_rep,
            status="active",
            source="test",
        )

    from shijian.core.codes.uscc import make

    e = {
        "hecheng": entity("佛山市荷城餐饮有限公司", make("91", "440608", "MA000001"), "440608004001"),
        "yanghe": entity("佛山市杨和餐饮有限公司", make("91", "440608", "MA000002"), "440608106201"),
        "chancheng": entity("佛山市禅城餐饮有限公司", make("91", "440604", "MA000003"), "440604001001"),
    }
    item_food = SpotCheckItem.objects.create(code="FOOD-02", name="餐饮服务提供者监督检查", category=food, kind="key")
    item_food.departments.set([d["samr"], d["hecheng"]])
    item_reg = SpotCheckItem.objects.create(
        code="REG-01", name="企业公示信息情况检查", category=reg, kind="general", ratio_cap=3
    )
    item_reg.departments.set([d["samr"]])
    item_other = SpotCheckItem.objects.create(code="CH-01", name="禅城专项检查", category=reg, kind="general")
    item_other.departments.set([d["chancheng"]])
    Responsibility.objects.create(department=d["samr"], item=item_food, region_code="440608")
    Responsibility.objects.create(department=d["hecheng"], item=item_food, region_code="440608004")
    Responsibility.objects.create(department=d["yanghe"], item=item_food, region_code="440608106")
    Responsibility.objects.create(department=d["chancheng"], item=item_other, region_code="440604")
    i = {
        "samr": Inspector.objects.create(name="李执法", department=d["samr"], region_code="440608", cert_no="44000001"),
        "hecheng": Inspector.objects.create(
            name="陈检查", department=d["hecheng"], region_code="440608004", cert_no="44000002"
        ),
        "yanghe": Inspector.objects.create(
            name="黄检查", department=d["yanghe"], region_code="440608106", cert_no="44000003"
        ),
        "chancheng": Inspector.objects.create(
            name="周检查", department=d["chancheng"], region_code="440604", cert_no="44000004"
        ),
    }
    for insp in i.values():
        insp.qualifications.set([food])

    def user(username: str, role: str, region: str, dept: Any) -> User:
        return User.objects.create_user(username, password=PASSWORD, role=role, region_code=region, department=dept)

    u = {
        "leader": user("leader", "leader", "440608", None),
        "admin": user("admin", "data_admin", "440608", d["samr"]),
        "samr": user("samr", "dept_staff", "440608", d["samr"]),
        "hecheng": user("hecheng", "dept_staff", "440608004", d["hecheng"]),
        "hecheng_admin": user("hecheng_admin", "data_admin", "440608004", d["hecheng"]),
        "yanghe": user("yanghe", "dept_staff", "440608106", d["yanghe"]),
        "yanghe_admin": user("yanghe_admin", "data_admin", "440608106", d["yanghe"]),
        "inspector": user("inspector", "inspector", "440608", d["samr"]),
        "auditor": user("auditor", "auditor", "440608", None),
        "outsider": user("outsider", "data_admin", "440604", d["chancheng"]),
    }
    return World(
        "440608", "440608004", "440608106", d, e, {"food": item_food, "reg": item_reg, "other": item_other}, i, u
    )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Tests create many users; production keeps Django's default (PBKDF2) hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache() -> Any:
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _audit_trigger_sql(create: bool) -> list[str]:
    import importlib

    from django.db import connection

    m = importlib.import_module("shijian.core.migrations.0002_audit_append_only")
    if connection.vendor == "postgresql":
        return list(m.POSTGRES if create else m.POSTGRES_DROP)
    return list(m.SQLITE if create else m.SQLITE_DROP)


_TRIGGERS_LIFTED: list[bool] = []


@pytest.fixture(autouse=True)
def _audit_triggers_restored(django_db_blocker: Any) -> None:
    """After a transactional test lifted them for its flush, the append-only triggers come back."""
    if _TRIGGERS_LIFTED:
        from django.db import connection

        with django_db_blocker.unblock(), connection.cursor() as cur:
            for sql in _audit_trigger_sql(create=False) + _audit_trigger_sql(create=True):
                cur.execute(sql)
        _TRIGGERS_LIFTED.clear()


@pytest.fixture
def _audit_triggers_lifted(transactional_db: Any) -> Any:
    """Torn down before the flush, which must empty the audit table too (its triggers refuse DELETE)."""
    yield
    from django.db import connection

    with connection.cursor() as cur:
        for sql in _audit_trigger_sql(create=False):
            cur.execute(sql)
    _TRIGGERS_LIFTED.append(True)


@pytest.fixture
def live_db(transactional_db: Any, _audit_triggers_lifted: Any) -> None:
    """A committed database (for a live server in another thread); list it before ``world``."""


@pytest.fixture(autouse=True)
def _jobs_run_at_once() -> Any:
    """Jobs run in the caller (Huey's immediate mode) unless a test starts a real worker."""
    from shijian.jobs.queue import huey

    huey.immediate = True
    yield
    huey.flush()
