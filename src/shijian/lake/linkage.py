"""Probabilistic linkage (Splink, Fellegi-Sunter, on DuckDB) for records that no exact key resolved.

Only the distinct (name, address) pairs left over by the exact keys are linked, against the register. Names and
addresses are compared after removing what carries no identity (province/city/district prefixes, company-form
suffixes). The model is trained on the data itself: u-probabilities by random sampling, m-probabilities by
expectation maximisation under two blocking rules (name's first four characters; address), so no labelled
pairs are needed. Candidate pairs come from three blocking rules: the name's head, its tail, or the address.

Blocks are capped so the work grows with the number of pairs, not with its square: a head or tail key is the
shortest of 4, 6 or 8 characters that at most ``BLOCK_CAP`` register entities share (a common head such as a
chain's brand lengthens to 6, then 8 characters); an address that more than ``BLOCK_CAP`` entities share (a
market building with hundreds of stalls) blocks nothing. Each record is thus compared with at most
3 x ``BLOCK_CAP`` register entities.

Outcomes per pair: ``probabilistic`` link when the best candidate's match probability is at least ``AUTO`` and
clearly ahead of the next; a review item (top candidates) when it is at least ``REVIEW``; otherwise unlinked.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from shijian.lake.steps import CORE_ADDRESS, CORE_NAME

AUTO = 0.95
REVIEW = 0.5
BLOCK_CAP = 100
TRAIN_PAIRS = 50_000
LENGTHS = (4, 6, 8)


@dataclass
class LinkageStats:
    pairs: int = 0
    auto_linked: int = 0
    for_review: int = 0
    unmatched: int = 0
    without_block: int = 0  # pairs whose every key is shared by too many entities: left for review, unlinked
    seconds: float = 0.0


def link_pairs(
    con: duckdb.DuckDBPyConnection, pairs_table: str, entities_table: str, model: Path | None = None, train: bool = True
) -> LinkageStats:
    """Link ``pairs_table(pair_id, name_key, address_key)`` to ``entities_table(id, name_key, address_key)``.

    ``train``: learn the model from these pairs and save it to ``model`` (if given); otherwise score with the model
    saved there (an incremental build scores its new pairs with the last full build's model; none saved: no
    probabilistic links, as that build had none).

    Creates ``prob_links(pair_id, entity_id, match_probability)`` (accepted) and
    ``prob_reviews(pair_id, entity_id, match_probability, rank)`` (up to three candidates per pair to review).
    """
    import time

    t0 = time.perf_counter()
    stats = LinkageStats()
    stats.pairs = int(con.execute(f"SELECT count(*) FROM {pairs_table}").fetchone()[0])  # type: ignore[index]
    con.execute("CREATE OR REPLACE TABLE prob_links (pair_id BIGINT, entity_id BIGINT, match_probability DOUBLE)")
    con.execute(
        "CREATE OR REPLACE TABLE prob_reviews (pair_id BIGINT, entity_id BIGINT, match_probability DOUBLE, rank INT)"
    )
    n_entities = int(con.execute(f"SELECT count(*) FROM {entities_table}").fetchone()[0])  # type: ignore[index]
    if stats.pairs == 0 or n_entities < 2:
        stats.unmatched = stats.pairs
        return stats
    _prepare_and_predict(con, pairs_table, entities_table, n_entities, model, train)
    stats.without_block = int(
        con.execute(  # type: ignore[index]
            "SELECT count(*) FROM splink_left WHERE b_head IS NULL AND b_tail IS NULL AND b_addr IS NULL"
        ).fetchone()[0]
    )
    predictions = "SELECT * FROM prob_predictions"

    con.execute(f"""
        CREATE OR REPLACE TABLE prob_candidates AS
        SELECT pair_id, entity_id, match_probability,
               row_number() OVER (PARTITION BY pair_id ORDER BY match_probability DESC, entity_id) AS rank,
               lead(match_probability) OVER (PARTITION BY pair_id ORDER BY match_probability DESC, entity_id)
                   AS next_probability
        FROM ({predictions})
    """)
    con.execute(f"""
        INSERT INTO prob_links
        SELECT pair_id, entity_id, match_probability FROM prob_candidates
        WHERE rank = 1 AND match_probability >= {AUTO} AND coalesce(next_probability, 0) < {REVIEW}
    """)
    con.execute(f"""
        INSERT INTO prob_reviews
        SELECT pair_id, entity_id, match_probability, rank FROM prob_candidates
        WHERE rank <= 3 AND pair_id NOT IN (SELECT pair_id FROM prob_links)
          AND pair_id IN (SELECT pair_id FROM prob_candidates WHERE rank = 1 AND match_probability >= {REVIEW})
    """)
    stats.auto_linked = int(con.execute("SELECT count(*) FROM prob_links").fetchone()[0])  # type: ignore[index]
    stats.for_review = int(
        con.execute("SELECT count(DISTINCT pair_id) FROM prob_reviews").fetchone()[0]  # type: ignore[index]
    )
    stats.unmatched = stats.pairs - stats.auto_linked - stats.for_review
    stats.seconds = round(time.perf_counter() - t0, 2)
    return stats


def _prepare_and_predict(
    con: duckdb.DuckDBPyConnection, pairs_table: str, entities_table: str, n: int, model: Path | None, train: bool
) -> None:
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE core_left AS
        SELECT pair_id AS unique_id, {CORE_NAME.format(c="name_key")} AS name_core,
               {CORE_ADDRESS.format(c="address_key")} AS address_core
        FROM {pairs_table}
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE core_right AS
        SELECT id AS unique_id, {CORE_NAME.format(c="name_key")} AS name_core,
               {CORE_ADDRESS.format(c="address_key")} AS address_core
        FROM {entities_table}
    """)
    con.execute(f"CREATE OR REPLACE TEMP TABLE block_sizes AS {block_sizes_select('core_right')}")
    con.execute(f"CREATE OR REPLACE TABLE splink_left AS {blocked_select('core_left')} ORDER BY unique_id")
    con.execute(f"CREATE OR REPLACE TABLE splink_right AS {blocked_select('core_right')} ORDER BY unique_id")
    if train:
        predicted = _splink_predict(con, n, model)
    else:
        saved = json.loads(model.read_text(encoding="utf-8")) if model and model.exists() else None
        predicted = _splink_score(con, saved) if saved else None
    if predicted is None:  # too few comparable records to learn from: nothing is linked by probability
        predicted = (
            "SELECT NULL::VARCHAR AS pair_id, NULL::BIGINT AS entity_id, NULL::DOUBLE AS match_probability LIMIT 0"
        )
    con.execute("CREATE OR REPLACE TABLE prob_predictions AS " + predicted)


def _keys(kind: str) -> list[tuple[str, str]]:
    """(length, SQL) of each candidate key of one kind: name head or tail at each length, or the address."""
    if kind == "a":
        return [("0", "address_core")]
    fn = "left" if kind == "h" else "right"
    return [(str(n), f"{fn}(name_core, {n})") for n in LENGTHS]


def block_sizes_select(register: str) -> str:
    """How many register entities share each key (kind h/t/a, length, key)."""
    parts = [
        f"SELECT '{kind}' AS kind, {length} AS len, {expr} AS key, count(*) AS n FROM {register} GROUP BY ALL"
        for kind in ("h", "t", "a")
        for length, expr in _keys(kind)
    ]
    return " UNION ALL ".join(parts)


def blocked_select(table: str) -> str:
    """``table`` with its capped blocking keys ``b_head``, ``b_tail``, ``b_addr`` (NULL: no block)."""
    joins, cols = [], []
    for kind, col in (("h", "b_head"), ("t", "b_tail"), ("a", "b_addr")):
        cases = []
        for length, expr in _keys(kind):
            alias = f"{kind}{length}"
            joins.append(
                f"LEFT JOIN block_sizes {alias} ON {alias}.kind = '{kind}' AND {alias}.len = {length} "
                f"AND {alias}.key = {expr}"
            )
            cases.append(f"WHEN coalesce({alias}.n, 0) <= {BLOCK_CAP} THEN {expr}")
        cols.append(f"CASE WHEN coalesce({_keys(kind)[0][1]}, '') = '' THEN NULL {' '.join(cases)} END AS {col}")
    return f"SELECT {table}.*, {', '.join(cols)} FROM {table} {' '.join(joins)}"


def _splink_predict(con: duckdb.DuckDBPyConnection, n_entities: int, save: Path | None = None) -> str | None:
    """Train a model on the two tables and return SQL selecting (pair_id, entity_id, match_probability); None when
    no training rule finds a pair to learn from (a small district: those records wait in the review queue). The
    trained model is written to ``save`` (JSON), or ``save`` removed when there is none."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    from splink.internals.exceptions import EMTrainingException

    db_api = DuckDBAPI(connection=con)
    left = db_api.register("splink_left", dataset_display_name="records")
    right = db_api.register("splink_right", dataset_display_name="register")
    settings = SettingsCreator(
        link_type="link_only",
        probability_two_random_records_match=1.0 / n_entities,
        comparisons=[
            cl.JaroWinklerAtThresholds("name_core", [0.95, 0.88, 0.75]),
            cl.JaroWinklerAtThresholds("address_core", [0.95, 0.85]),
        ],
        # Capped blocks (see the module's docstring); one typo cannot break all three.
        blocking_rules_to_generate_predictions=[block_on("b_head"), block_on("b_tail"), block_on("b_addr")],
    )
    logging.getLogger("splink").setLevel(logging.ERROR)  # training notes go to the build report, not the console
    # The model learns from at most TRAIN_PAIRS pairs (a fixed pseudo-random sample: enough for a handful of
    # m- and u-probabilities), then scores every pair.
    # fetchall: Splink runs its own queries on this connection, which must hold no unfinished result.
    n_left = int(con.execute("SELECT count(*) FROM splink_left").fetchall()[0][0])
    train_left = left
    if n_left > TRAIN_PAIRS:
        con.execute(
            "CREATE OR REPLACE TABLE splink_left_train AS SELECT * FROM splink_left "
            f"ORDER BY hash(unique_id), unique_id LIMIT {TRAIN_PAIRS}"
        )
        con.execute("CREATE OR REPLACE TABLE splink_left_train AS SELECT * FROM splink_left_train ORDER BY unique_id")
        train_left = db_api.register("splink_left_train", dataset_display_name="records_sample")
    trainer = Linker([train_left, right], settings, log_level=logging.ERROR)
    # Seeded sampling and EM are reproducible only on one thread and ordered input; prediction is not order-bound.
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0]
    con.execute("SET threads = 1")
    try:
        trainer.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
        trained = 0
        for rule in ("b_head", "b_addr"):
            try:
                trainer.training.estimate_parameters_using_expectation_maximisation(block_on(rule))
                trained += 1
            except EMTrainingException:  # no pair of records agrees on this block
                continue
        if not trained:
            if save:
                save.unlink(missing_ok=True)
            return None
    finally:
        con.execute(f"SET threads = {int(threads[0]) if threads else 2}")
    model = trainer.misc.save_model_to_json()
    if save:
        save.write_text(json.dumps(model, ensure_ascii=False), encoding="utf-8")
    if train_left is not left:
        return _splink_score(con, model)
    return _predictions_select(trainer.inference.predict(threshold_match_probability=REVIEW).physical_name)


def _splink_score(con: duckdb.DuckDBPyConnection, model: dict[str, Any]) -> str:
    """Score ``splink_left`` against ``splink_right`` with a trained model (SQL of the predictions)."""
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI(connection=con)
    left = db_api.register("splink_left", dataset_display_name="records")
    right = db_api.register("splink_right", dataset_display_name="register")
    linker = Linker([left, right], model, log_level=logging.ERROR)
    return _predictions_select(linker.inference.predict(threshold_match_probability=REVIEW).physical_name)


def _predictions_select(table: str) -> str:
    # Which side is which: source_dataset names the registered table.
    return f"""
        SELECT CASE WHEN source_dataset_l = 'records' THEN unique_id_l ELSE unique_id_r END AS pair_id,
               CASE WHEN source_dataset_l = 'records' THEN unique_id_r ELSE unique_id_l END AS entity_id,
               match_probability
        FROM {table}
    """


def model_description() -> dict[str, Any]:
    return {
        "auto_link_at": AUTO,
        "review_from": REVIEW,
        "comparisons": ["name_core (Jaro-Winkler 0.95/0.88/0.75)", "address_core (Jaro-Winkler 0.95/0.85)"],
        "blocking": [
            f"name head (4/6/8 characters, at most {BLOCK_CAP} entities)",
            f"name tail (4/6/8 characters, at most {BLOCK_CAP} entities)",
            f"address (at most {BLOCK_CAP} entities)",
        ],
    }
