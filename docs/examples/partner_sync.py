"""A partner system's incremental sync from the Shijian API (Python standard library only).

    SHIJIAN_URL=https://shijian.example SHIJIAN_CLIENT_ID=sj_... SHIJIAN_CLIENT_SECRET=... \
        python partner_sync.py entities hazards visits

For each resource it keeps the last cursor in ``sync-state.json`` and the rows in ``<resource>.jsonl`` (append;
the partner upserts by ``id``, a later line being the newer version). Run it as often as wanted: each run fetches
only what was written or changed since the last one, each version once.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

BASE = os.environ.get("SHIJIAN_URL", "http://127.0.0.1:8000").rstrip("/")
STATE = Path("sync-state.json")


def token() -> str:
    form = urllib.parse.urlencode(
        {"client_id": os.environ["SHIJIAN_CLIENT_ID"], "client_secret": os.environ["SHIJIAN_CLIENT_SECRET"]}
    ).encode()
    with urllib.request.urlopen(f"{BASE}/api/token", data=form, timeout=30) as r:
        return str(json.load(r)["access_token"])


def get(path: str, bearer: str) -> Any:
    """GET with the token; waits and retries when the rate limit answers 429."""
    while True:
        req = urllib.request.Request(f"{BASE}{path}", headers={"Authorization": f"Bearer {bearer}"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.load(r)
        except urllib.error.HTTPError as exc:
            if exc.code == 429 and "rate" in exc.read().decode():
                time.sleep(2)
                continue
            raise


def sync(resource: str, bearer: str, state: dict[str, str]) -> int:
    cursor, n = state.get(resource, ""), 0
    with Path(f"{resource}.jsonl").open("a", encoding="utf-8") as out:
        while True:
            page = get(f"/api/{resource}?limit=500&cursor={urllib.parse.quote(cursor)}", bearer)
            for item in page["items"]:
                out.write(json.dumps(item, ensure_ascii=False) + "\n")
            n += len(page["items"])
            cursor = page["next"] or cursor
            state[resource] = cursor
            STATE.write_text(json.dumps(state))  # after each page: a crash resumes where it stopped
            if not page["items"]:
                return n


def main(resources: list[str]) -> None:
    state = json.loads(STATE.read_text()) if STATE.exists() else {}
    bearer = token()
    for resource in resources:
        print(f"{resource}: {sync(resource, bearer, state)} new or changed")


if __name__ == "__main__":
    main(sys.argv[1:] or ["entities"])
