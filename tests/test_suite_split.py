"""The rule by which the PostgreSQL run beside the SQLite one leaves tests out (tests/conftest.py): a test that
asks for the database, or is marked as reaching it another way, runs on every engine; the others run once."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import reaches_database


def test_a_test_without_the_database_runs_once(request: pytest.FixtureRequest) -> None:
    assert not reaches_database(request.node)


def test_a_test_asking_for_the_database_runs_on_every_engine(db: None, request: pytest.FixtureRequest) -> None:
    assert reaches_database(request.node)


def test_a_test_asking_for_it_through_another_fixture_runs_on_every_engine(
    world: Any, request: pytest.FixtureRequest
) -> None:
    assert reaches_database(request.node)


@pytest.mark.reaches_database
def test_a_test_marked_as_reaching_it_runs_on_every_engine(request: pytest.FixtureRequest) -> None:
    assert reaches_database(request.node)


@pytest.mark.django_db
def test_a_test_marked_for_the_database_runs_on_every_engine(request: pytest.FixtureRequest) -> None:
    assert reaches_database(request.node)
