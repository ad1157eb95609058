"""Which register entity a complaint names: the USCC if valid and registered, else the name and address compared
with the lake's own keys (``lake.steps``: NAME_KEY, then CORE_NAME + CORE_ADDRESS), each unique or nothing."""

from __future__ import annotations

import duckdb

from shijian.core.codes import uscc as uscc_codes
from shijian.lake.steps import CORE_ADDRESS, CORE_NAME, NAME_KEY
from shijian.registry.models import Entity

CANDIDATES = 500


def link(uscc: str, name: str, address: str) -> tuple[Entity | None, str]:
    """(entity, how): how is ``uscc``, ``name_address``, ``name``, ``core`` or "" (not linked)."""
    code = uscc.strip().upper()
    if code and uscc_codes.is_valid(code):
        e = Entity.objects.filter(uscc=code).first()
        if e is not None:
            return e, "uscc"
    name = name.strip()
    if len(name) < 2:
        return None, ""
    con = duckdb.connect()
    try:
        core = con.execute(f"SELECT {CORE_NAME.format(c='$n')}", {"n": name.upper()}).fetchone()
        head = str(core[0] if core else name)[:4] or name[:4]
        rows = list(Entity.objects.filter(name__contains=head).values_list("pk", "name", "address")[:CANDIDATES])
        if not rows:
            return None, ""
        con.execute("CREATE TABLE reg (id BIGINT, name VARCHAR, address VARCHAR)")
        con.executemany("INSERT INTO reg VALUES (?, ?, ?)", [(pk, n, a or "") for pk, n, a in rows])
        con.execute(
            f"""CREATE TABLE k AS SELECT id, {NAME_KEY.format(c="name")} AS name_key,
                       {NAME_KEY.format(c="address")} AS address_key FROM reg"""
        )
        con.execute(
            f"""CREATE TABLE q AS SELECT {NAME_KEY.format(c="$n")} AS name_key,
                       {NAME_KEY.format(c="$a")} AS address_key""",
            {"n": name, "a": address.strip()},
        )
        steps = (
            ("name_address", "k.name_key = q.name_key AND k.address_key = q.address_key"),
            ("name", "k.name_key = q.name_key"),
            (
                "core",
                f"{CORE_NAME.format(c='k.name_key')} = {CORE_NAME.format(c='q.name_key')} AND "
                f"{CORE_ADDRESS.format(c='k.address_key')} = {CORE_ADDRESS.format(c='q.address_key')}",
            ),
        )
        for how, cond in steps:
            found = con.execute(f"SELECT k.id FROM k, q WHERE {cond}").fetchall()
            if len(found) == 1:
                return Entity.objects.get(pk=found[0][0]), how
    finally:
        con.close()
    return None, ""
