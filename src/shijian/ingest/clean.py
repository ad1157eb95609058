"""Cleaning and validation SQL (DuckDB) over a delivered table ``raw(ord, <delivered columns>)``.

- Text: trimmed; full-width ASCII (ＡＢＣ１２３（）and the ideographic space) to half-width, gated by a regular
  expression so that the costly ``translate`` runs only on the few cells that need it; a file whose bytes hold
  no full-width character at all (``has_fullwidth``, a byte search) is only trimmed.
- USCC: normalised like text and upper-cased; validity (GB 32100 check digit) comes from ``uscc_valid``, a table
  of the file's distinct codes checked by ``shijian.ingest.uscc_vec`` (numpy), joined back.
- Dates: the mapping's formats, the file's most frequent format first (detected on a sample), so that most rows
  parse on the first try: 2019年9月1日, 20190901, 2019/09/01 ...
- Amounts: "1,200元" and "12.5万元" into 万元; bare numbers in the mapping's unit.
- Record types: mapped to canonical ones; anything else is quarantined with its value.
A row whose USCC is malformed keeps it as ``uscc_raw`` (flag ``uscc_invalid``) and is linked by its other keys;
a row with no usable key at all is quarantined, as is a row with an unreadable date or amount.
"""

from __future__ import annotations

from typing import Any

from shijian.ingest.mapping import CANONICAL_FIELDS, RECORD_TYPES, FeedMapping

FULL = "".join(chr(0xFF01 + i) for i in range(0x5E)) + "\u3000"
HALF = "".join(chr(0x21 + i) for i in range(0x5E)) + " "


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# trim() only where a cell starts or ends with a space: two cheap tests instead of a scan of every cell.
_TRIM = "WHEN starts_with(s, ' ') OR ends_with(s, ' ') THEN trim(s) ELSE s END"
MACROS = f"""
CREATE OR REPLACE MACRO hw(s) AS CASE
  WHEN s IS NULL THEN ''
  WHEN regexp_matches(s, '[\\x{{FF01}}-\\x{{FF5E}}\\x{{3000}}]')
    THEN trim(translate(s, {sql_str(FULL)}, {sql_str(HALF)}))
  {_TRIM};
CREATE OR REPLACE MACRO tr(s) AS CASE WHEN s IS NULL THEN '' {_TRIM};
"""

# UTF-8 lead bytes of U+FF00..U+FF7F and the ideographic space U+3000: a file without them needs no translation.
FULLWIDTH_BYTES = (b"\xef\xbc", b"\xef\xbd", b"\xe3\x80\x80")


def has_fullwidth(path: Any, chunk: int = 1 << 24) -> bool:
    """True if the UTF-8 file holds any full-width ASCII or ideographic space (a fast byte search)."""
    tail = b""
    with open(path, "rb") as f:
        while block := f.read(chunk):
            data = tail + block
            if any(b in data for b in FULLWIDTH_BYTES):
                return True
            tail = block[-2:]
    return False


KEY_FIELDS = {"uscc", "reg_no", "licence_no", "entity_ref"}
# Spreadsheet exports write whole numbers as 30790.0; identifiers and years lose the ".0".
FLOAT_ARTEFACT = {"record_id", "reg_no", "licence_no", "entity_ref", "event_date"}


def canonical_select(
    header_map: dict[str, str], extra_columns: list[str] | None = None, fullwidth: bool = True, source: str = "raw"
) -> str:
    """SELECT of ``source`` (columns ``ord``, ``line`` and the delivered ones) giving every canonical field as
    clean text ('' where the feed lacks it), and the unmapped columns as one JSON text ``extra`` ('' when there
    are none). ``fullwidth=False`` (the file holds no full-width character) only trims."""
    by_field = {canonical: header for header, canonical in header_map.items()}
    fn = "hw" if fullwidth else "tr"
    inner, outer = [], []
    for f in CANONICAL_FIELDS:
        if f in by_field:
            expr = f"{fn}({quote_ident(by_field[f])})"
            inner.append(f"upper({expr}) AS {f}" if f in KEY_FIELDS and f != "entity_ref" else f"{expr} AS {f}")
            if f in FLOAT_ARTEFACT:  # a cheap suffix test first: the regular expression runs on few cells
                fix = f"regexp_replace({f}, '^(\\d+)\\.0$', '\\1')"
                outer.append(f"CASE WHEN suffix({f}, '.0') THEN {fix} ELSE {f} END AS {f}")
            else:
                outer.append(f)
        else:
            outer.append(f"'' AS {f}")
    if extra_columns:
        packed = ", ".join(f"{sql_str(c)}: {quote_ident(c)}" for c in extra_columns)
        inner.append(f"to_json({{{packed}}})::VARCHAR AS extra")
    else:
        inner.append("'' AS extra")
    outer.append("extra")
    return f"SELECT ord, line, {', '.join(outer)} FROM (SELECT ord, line, {', '.join(inner)} FROM {source})"


def key_condition(keys: tuple[str, ...]) -> str:
    """SQL true when a row carries none of the mapping's entity keys (it cannot be linked: quarantine)."""
    has = {
        "uscc": "uscc_ok",
        "reg_no": "reg_no <> ''",
        "licence_no": "licence_no <> ''",
        "entity_ref": "entity_ref <> ''",
        "name_address": "(name <> '' AND address <> '')",
        "address": "address <> ''",
    }
    return "NOT (" + " OR ".join(has[k] for k in keys) + ")"


def clean_sql(mapping: FeedMapping, date_formats: list[str]) -> str:
    """SELECT over ``canon`` (canonical_select) and ``uscc_valid(uscc, ok)``."""
    date_expr = "coalesce(" + ", ".join(f"try_strptime(event_date, {sql_str(fmt)})" for fmt in date_formats) + ")::DATE"
    unit = "1.0" if mapping.amount_unit == "wan" else "0.0001"
    amount_expr = (
        "CASE WHEN amount = '' THEN NULL "
        "WHEN suffix(amount, '万元') OR suffix(amount, '万') THEN "
        "TRY_CAST(replace(rtrim(amount, '万元'), ',', '') AS DOUBLE) "
        "WHEN suffix(amount, '元') THEN TRY_CAST(replace(rtrim(amount, '元'), ',', '') AS DOUBLE) / 10000 "
        f"ELSE TRY_CAST(replace(amount, ',', '') AS DOUBLE) * {unit} END"
    )
    if mapping.record_type:
        rtype = sql_str(mapping.record_type)
    else:
        known = ", ".join(sql_str(t) for t in RECORD_TYPES)
        cases = " ".join(f"WHEN {sql_str(k)} THEN {sql_str(v)}" for k, v in mapping.record_types.items())
        rtype = (
            f"CASE record_type {cases} WHEN '' THEN NULL "
            f"ELSE (CASE WHEN record_type IN ({known}) THEN record_type END) END"
        )
    required = [f for f in mapping.required if f not in {"event_date", "amount"}]
    checks = [
        ("record_type_c IS NULL", "'unknown record type ' || record_type"),
        *[(f"{f} = ''", sql_str(f"missing {f}")) for f in required],
        *([("event_date = ''", "'missing event_date'")] if "event_date" in mapping.required else []),
        ("event_date <> '' AND event_date_c IS NULL", "'unreadable date ' || event_date"),
        ("amount <> '' AND amount_c IS NULL", "'unreadable amount ' || amount"),
        (
            key_condition(mapping.entity_keys),
            "CASE WHEN uscc <> '' THEN 'invalid USCC ' || uscc || ' and no other entity key' "
            f"ELSE 'no entity key ({', '.join(mapping.entity_keys)})' END",
        ),
    ]
    reason = "CASE " + " ".join(f"WHEN {cond} THEN {msg}" for cond, msg in checks) + " ELSE NULL END"
    return f"""
WITH c AS (
  SELECT canon.*, coalesce(uscc_valid.ok, false) AS uscc_ok,
         {rtype} AS record_type_c, {date_expr} AS event_date_c, {amount_expr} AS amount_c
  FROM canon
  LEFT JOIN uscc_valid USING (uscc)
)
SELECT
  ord,
  line,
  record_id,
  CASE WHEN uscc_ok THEN uscc END AS uscc,
  uscc AS uscc_raw,
  uscc <> '' AND NOT uscc_ok AS uscc_invalid,
  reg_no, licence_no, entity_ref, name, address,
  record_type_c AS record_type,
  event_date_c AS event_date,
  amount_c AS amount,
  result, detail, extra,
  {reason} AS reason
FROM c
"""


# What makes two accepted records the same (duplicates): every canonical field, cleaned.
CONTENT_COLUMNS = (
    "record_id, uscc_raw, reg_no, licence_no, entity_ref, name, address, record_type, event_date, amount, result, "
    "detail, extra"
)


def date_format_order(con: Any, formats: tuple[str, ...], sample_sql: str) -> list[str]:
    """The mapping's date formats, ordered by how many of a sample of the file's dates each one reads."""
    counts = []
    for i, fmt in enumerate(formats):
        row = con.execute(f"SELECT count(try_strptime(event_date, {sql_str(fmt)})) FROM ({sample_sql})").fetchone()
        counts.append((-(row[0] if row else 0), i, fmt))
    return [fmt for _n, _i, fmt in sorted(counts)]
