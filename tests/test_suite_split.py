"""The rule by which `make test`'s two runs share the suite (tests/conftest.py, SHIJIAN_TEST_RUN): a test that
asks for the database, or is marked as reaching it another way, runs on every engine; the others run once, on
SQLite; a test marked ``one_engine`` runs only on its engine; one run alone runs every test."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import reaches_database, runs_in

RUNS = ("", "sqlite", "postgresql")


def _runs(request: pytest.FixtureRequest) -> tuple[bool, ...]:
    return tuple(runs_in(request.node, run) for run in RUNS)


def test_a_test_without_the_database_runs_once(request: pytest.FixtureRequest) -> None:
    assert not reaches_database(request.node)
    assert _runs(request) == (True, True, False)


def test_a_test_asking_for_the_database_runs_on_every_engine(db: None, request: pytest.FixtureRequest) -> None:
    assert reaches_database(request.node)
    assert _runs(request) == (True, True, True)


def test_a_test_asking_for_it_through_another_fixture_runs_on_every_engine(
    world: Any, request: pytest.FixtureRequest
) -> None:
    assert reaches_database(request.node)
    assert _runs(request) == (True, True, True)


@pytest.mark.reaches_database
def test_a_test_marked_as_reaching_it_runs_on_every_engine(request: pytest.FixtureRequest) -> None:
    assert reaches_database(request.node)
    assert _runs(request) == (True, True, True)


@pytest.mark.django_db
def test_a_test_marked_for_the_database_runs_on_every_engine(request: pytest.FixtureRequest) -> None:
    assert reaches_database(request.node)
    assert _runs(request) == (True, True, True)


@pytest.mark.one_engine("postgresql", reason="the rule's own test")
def test_a_test_marked_for_one_engine_runs_on_that_one_alone(db: None, request: pytest.FixtureRequest) -> None:
    assert _runs(request) == (True, False, True)


@pytest.mark.one_engine("sqlite", reason="the rule's own test")
def test_a_test_without_the_database_marked_for_sqlite_still_runs_once(request: pytest.FixtureRequest) -> None:
    assert _runs(request) == (True, True, False)


class _Marked:
    """A collected test as the rule sees it: its marks (a real item with a bad mark would stop the collection)."""

    fixturenames = ("db",)

    def __init__(self, mark: pytest.MarkDecorator) -> None:
        self.nodeid = "tests/x.py::test_x"
        self.mark = mark.mark

    def get_closest_marker(self, name: str) -> Any:
        return self.mark if self.mark.name == name else None


@pytest.mark.parametrize(
    "mark",
    [pytest.mark.one_engine("mysql", reason="an engine the suite does not run"), pytest.mark.one_engine("sqlite")],
)
def test_a_mark_without_a_known_engine_or_a_reason_is_refused(mark: pytest.MarkDecorator) -> None:
    with pytest.raises(pytest.UsageError, match="one_engine needs an engine"):
        runs_in(_Marked(mark), "sqlite")
    assert runs_in(_Marked(mark), "")
    assert runs_in(_Marked(pytest.mark.one_engine("sqlite", reason="known")), "sqlite")
