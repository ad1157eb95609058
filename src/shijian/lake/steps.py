"""The build's SQL, written once (DuckDB dialect) and run on DuckDB, or on Spark after ``sqlglot`` transpilation.

Each function returns a SELECT over named views, so that an engine only has to provide the views:
``records`` (the lake's records), ``entities`` (the register's keys), and the tables these steps create.
"""

from __future__ import annotations

NAME_KEY = "regexp_replace(replace(replace(upper({c}), '（', '('), '）', ')'), '\\s+', '', 'g')"

# What carries no identity in a name or an address: province/city/district prefixes, company forms.
CORE_NAME = (
    "regexp_replace(regexp_replace({c}, '^(广东省?|佛山市|[^省市]{{1,3}}区)+', ''), "
    "'(有限责任公司|股份有限公司|有限公司|公司)$', '')"
)
CORE_ADDRESS = "regexp_replace({c}, '^(广东省)?(佛山市)?', '')"

RESULT_OK = "('未发现问题', '')"


def ent_select() -> str:
    return f"""
        SELECT id, uscc, nullif(reg_no, '') AS reg_no,
               {NAME_KEY.format(c="name")} AS name_key, {NAME_KEY.format(c="address")} AS address_key
        FROM entities
    """


KEY_TABLES: tuple[tuple[str, str], ...] = (
    ("by_uscc", "SELECT uscc, min(id) AS id FROM ent WHERE uscc IS NOT NULL GROUP BY uscc"),
    ("by_reg", "SELECT reg_no, min(id) AS id FROM ent WHERE reg_no IS NOT NULL GROUP BY reg_no HAVING count(*) = 1"),
    (
        "by_name_addr",
        "SELECT name_key, address_key, min(id) AS id FROM ent GROUP BY name_key, address_key HAVING count(*) = 1",
    ),
    ("by_name", "SELECT name_key, min(id) AS id FROM ent GROUP BY name_key HAVING count(*) = 1"),
    (
        "by_core",
        f"SELECT {CORE_NAME.format(c='name_key')} AS name_core, "
        f"{CORE_ADDRESS.format(c='address_key')} AS address_core, min(id) AS id FROM ent "
        f"GROUP BY {CORE_NAME.format(c='name_key')}, {CORE_ADDRESS.format(c='address_key')} HAVING count(*) = 1",
    ),
)


def keys_select(records: str = "records") -> str:
    """Each distinct key combination of ``records`` (a view or table with uscc, reg_no, name, address), resolved
    once by the exact rules."""
    return f"""
        WITH d AS (SELECT DISTINCT uscc, reg_no, name, address FROM {records}),
        k AS (
            SELECT uscc, reg_no AS reg_no_raw, name, address, nullif(reg_no, '') AS reg_no,
                   {NAME_KEY.format(c="name")} AS name_key, {NAME_KEY.format(c="address")} AS address_key
            FROM d
        ),
        kc AS (
            SELECT *, {CORE_NAME.format(c="name_key")} AS name_core,
                   {CORE_ADDRESS.format(c="address_key")} AS address_core
            FROM k
        )
        SELECT k.uscc, k.reg_no_raw, k.name, k.address, k.name_key, k.address_key,
               coalesce(u.id, r.id, na.id, n.id, c.id) AS entity_id,
               CASE WHEN u.id IS NOT NULL THEN 'uscc' WHEN r.id IS NOT NULL THEN 'reg_no'
                    WHEN na.id IS NOT NULL THEN 'name_address' WHEN n.id IS NOT NULL THEN 'name'
                    WHEN c.id IS NOT NULL THEN 'core_name_address' END AS link_method,
               CASE WHEN coalesce(u.id, r.id, na.id, n.id, c.id) IS NOT NULL THEN 1.0 END AS match_probability
        FROM kc k
        LEFT JOIN by_uscc u ON k.uscc = u.uscc
        LEFT JOIN by_reg r ON k.reg_no = r.reg_no
        LEFT JOIN by_name_addr na ON k.name_key = na.name_key AND k.address_key = na.address_key
        LEFT JOIN by_name n ON k.name_key = n.name_key
        LEFT JOIN by_core c ON k.name_core = c.name_core AND k.address_core = c.address_core
    """


def pending_select() -> str:
    """The distinct name + address pairs that no exact rule resolved (for decisions and the probabilistic step)."""
    return "SELECT DISTINCT name_key, address_key FROM keys_exact WHERE entity_id IS NULL"


def resolved_keys_select() -> str:
    """The exact keys, completed from ``resolved`` (officials' decisions, then probabilistic links)."""
    return """
        SELECT k.uscc, k.reg_no_raw, k.name, k.address, k.name_key, k.address_key,
               coalesce(k.entity_id, x.entity_id) AS entity_id,
               coalesce(k.link_method, x.link_method) AS link_method,
               coalesce(k.match_probability, x.match_probability) AS match_probability
        FROM keys_exact k
        LEFT JOIN resolved x ON k.entity_id IS NULL AND k.name_key = x.name_key AND k.address_key = x.address_key
    """


# A record's keys: joined on the four columns (any engine), or on their 64-bit hash where the build has checked
# that the hash tells every key combination of the lake apart (DuckDB; one number compared instead of four texts).
RECORD_JOIN = """
    JOIN keys k ON k.uscc IS NOT DISTINCT FROM r.uscc AND k.reg_no_raw = r.reg_no
               AND k.name = r.name AND k.address = r.address
"""
RECORD_JOIN_HASHED = "JOIN keys k ON k.key_hash = hash(r.uscc, r.reg_no, r.name, r.address)"
KEY_HASH = "hash(uscc, reg_no_raw, name, address)"


def record_join(hashed: bool) -> str:
    return RECORD_JOIN_HASHED if hashed else RECORD_JOIN


# The records' columns each linked record keeps in the entities' files (besides its link).
RECORD_COLUMNS = (
    "source",
    "record_type",
    "event_date",
    "amount",
    "result",
    "detail",
    "record_id",
    "name",
    "file",
    "line",
)


def _linked_columns(buckets: int, hashed: bool) -> str:
    key_hash = ", k.key_hash" if hashed else ""
    record = ", ".join(f"r.{c}" for c in RECORD_COLUMNS)
    return f"k.entity_id, k.entity_id % {buckets} AS bucket, k.link_method, k.match_probability, {record}{key_hash}"


def linked_select(buckets: int, hashed: bool = False) -> str:
    """Linked records with their entity and bucket; with ``hashed``, also the key combination's hash, by which an
    incremental build finds the records whose link a register change moves."""
    return f"""
        SELECT {_linked_columns(buckets, hashed)}
        FROM records r {record_join(hashed)}
        WHERE k.entity_id IS NOT NULL
    """


def records_linked_select(
    buckets: int, record_columns: list[str], hashed: bool = False, records: str = "records"
) -> str:
    """Every record, linked or not, in one pass (the DuckDB build's): ``linked_select``'s columns, then each other
    column of ``record_columns`` (the records' own) for the unlinked rows only, null where linked. The linked rows
    go to the entities' files and the unlinked ones, with their columns as the records have them, to the review's
    file: the lake is read and joined to the keys once, not twice. ``records`` names the records' view."""
    others = "".join(
        f", CASE WHEN k.entity_id IS NULL THEN r.{c} END AS {c}" for c in record_columns if c not in RECORD_COLUMNS
    )
    return f"""
        SELECT {_linked_columns(buckets, hashed)}{others}
        FROM {records} r {record_join(hashed)}
    """


def unlinked_select(hashed: bool = False) -> str:
    return f"SELECT r.* FROM records r {record_join(hashed)} WHERE k.entity_id IS NULL"


def aggregate_select() -> str:
    """One row per entity: the 一户一档 aggregates, over the view ``by_entity``."""
    return f"""
        SELECT entity_id,
               count(*) AS records,
               count(DISTINCT source) AS departments,
               min(event_date) AS first_record_on,
               max(event_date) AS last_record_on,
               count(*) FILTER (WHERE record_type = 'inspection') AS inspections,
               count(*) FILTER (WHERE record_type = 'inspection' AND result NOT IN {RESULT_OK}) AS inspections_failed,
               count(*) FILTER (WHERE record_type = 'penalty') AS penalties,
               coalesce(sum(amount) FILTER (WHERE record_type = 'penalty'), 0) AS penalty_amount,
               count(*) FILTER (WHERE record_type = 'complaint') AS complaints,
               count(*) FILTER (WHERE record_type = 'licence' AND result IN ('有效', '')) AS licences,
               count(*) FILTER (WHERE record_type = 'licence' AND result NOT IN ('有效', '')) AS licences_expired,
               count(*) FILTER (WHERE record_type = 'abnormal' AND result <> '已移出') AS abnormal_listings,
               count(*) FILTER (WHERE record_type = 'annual_report' AND result IN ('逾期公示', '未公示'))
                   AS annual_reports_late,
               count(*) FILTER (WHERE record_type = 'litigation') AS litigation,
               -- the latest grade; on one day, the greater (the same in any engine and any scan order)
               coalesce(arg_max(result, CAST(event_date AS VARCHAR) || result) FILTER (WHERE record_type = 'tax'), '')
                   AS tax_grade,
               max(event_date) FILTER (WHERE record_type = 'tax') AS tax_on
        FROM by_entity
        GROUP BY entity_id
    """


def counts_select() -> str:
    return """
        SELECT entity_id, 'type' AS kind, record_type AS key, count(*) AS n FROM by_entity
        GROUP BY entity_id, record_type
        UNION ALL
        SELECT entity_id, 'source' AS kind, source AS key, count(*) AS n FROM by_entity GROUP BY entity_id, source
    """


def unlinked_groups_select(hashed: bool = False, records: str = "records") -> str:
    """Unlinked records counted per name + address and department (the review queue's evidence). ``records`` may
    name a view of the unlinked records alone (the DuckDB build reads its ``unlinked.parquet``, not the lake)."""
    return f"""
        SELECT k.name_key, k.address_key, r.source, count(*) AS records, min(r.name) AS name,
               min(r.address) AS address
        FROM {records} r {record_join(hashed)}
        WHERE k.entity_id IS NULL AND k.name_key <> ''
        GROUP BY k.name_key, k.address_key, r.source
    """
