"""A feed's mapping: the TOML file in ``SHIJIAN_MAPPINGS`` that the mapping editor writes and ``shijian ingest
--mapping`` reads (one file per feed, named after the feed's code, which is also its lake source)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.db import transaction

from shijian.core.audit import Action, record
from shijian.dataadmin.models import Feed
from shijian.ingest.mapping import FeedMapping, parse_mapping

SUFFIXES = (".csv", ".xlsx", ".txt")


def globs(slug: str) -> tuple[str, ...]:
    """The files a feed's mapping claims: those delivered into its folder (``inbox/<slug>/`` here, any folder named
    after the feed for the CLI)."""
    return tuple(f"{slug}/*{suffix}" for suffix in SUFFIXES)


def default_mapping(feed: Feed) -> FeedMapping:
    return FeedMapping(
        name=feed.name, path=str(feed.mapping_path), files=globs(feed.slug), source=feed.slug, record_type="other"
    )


def has_mapping(feed: Feed) -> bool:
    return feed.mapping_path.is_file()


def current_mapping(feed: Feed) -> FeedMapping:
    """The saved mapping (as the CLI would read it), or a starting point when none was saved yet."""
    path = feed.mapping_path
    if path.is_file():
        return parse_mapping(path.read_text(encoding="utf-8"), str(path))
    return default_mapping(feed)


def bind(feed: Feed, mapping: FeedMapping) -> FeedMapping:
    """The mapping with what the feed fixes: its files, its lake source and its file's path."""
    from dataclasses import replace

    return replace(mapping, path=str(feed.mapping_path), files=globs(feed.slug), source=feed.slug)


def save_mapping(feed: Feed, mapping: FeedMapping, user: Any = None) -> Path:
    """Write the feed's TOML (atomically: beside it, then renamed) after reading it back as the CLI will; audited
    with the text before and after."""
    from shijian.ingest.mapping import mapping_to_toml

    mapping = bind(feed, mapping)
    text = mapping_to_toml(mapping, comment=f"{feed.department.name} · {feed.name}\nWritten by the mapping editor.")
    if parse_mapping(text, mapping.path) != mapping:  # the file must say exactly what was edited
        raise RuntimeError(f"the mapping of feed {feed.slug} does not read back as written")
    path = feed.mapping_path
    before = path.read_text(encoding="utf-8") if path.is_file() else ""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    part.write_text(text, encoding="utf-8")
    with transaction.atomic():
        record(
            Action.UPDATE,
            object_type="feed_mapping",
            object_id=str(feed.pk),
            object_repr=f"{feed.slug}.toml",
            before={"toml": before},
            after={"toml": text},
            actor=user,
        )
        os.replace(part, path)
    return path
