"""The demo set-up as a service: a small district made ready in-process, then a second run that reuses it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest


@contextmanager
def _no_progress() -> Iterator[Any]:
    yield lambda stage, done, total: None


@pytest.mark.slow
def test_it_prepares_a_small_demo_district_once(live_db: Any, settings: Any, tmp_path: Path) -> None:
    from shijian.accounts.models import User
    from shijian.demo import DEMO_USERS, prepare
    from shijian.registry.models import Entity
    from shijian.supervision.models import Draw

    settings.HOME = str(tmp_path)
    settings.SHIJIAN_LAKE = str(tmp_path / "lake")
    said: list[str] = []
    prepare("300", 5, _no_progress, said.append)
    entities = Entity.objects.count()
    assert entities > 250
    assert set(User.objects.values_list("username", flat=True)) >= {u[0] for u in DEMO_USERS}
    assert any(s.startswith("loaded ") for s in said) and any(s.startswith("ingested ") for s in said)
    assert Draw.objects.count() == 1
    said.clear()
    prepare("300", 5, _no_progress, said.append)  # everything is there: nothing is generated or loaded again
    assert Entity.objects.count() == entities and Draw.objects.count() == 1
    assert not any(s.startswith(("loaded ", "ingested ", "generating")) for s in said)
