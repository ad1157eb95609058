"""OCR of licence photos: seeded renders (rotation, blur, perspective, glare, JPEG), read back, scored."""

from __future__ import annotations

import resource
import statistics
import time
from typing import Any

from rich.console import Console

from shijian.ocr import render
from shijian.ocr.reader import engine, read_licence


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def char_accuracy(read: str, truth: str) -> float:
    """1 - edit distance / length of the truth, floored at 0."""
    return max(0.0, 1.0 - edit_distance(read, truth) / max(1, len(truth)))


def _rate(hits: int, n: int) -> float:
    return round(hits / max(1, n), 4)


def run(n: int, seed: int, distorted: bool, console: Console) -> dict[str, Any]:
    t0 = time.perf_counter()
    samples = [render.sample(seed, i, distorted) for i in range(n)]
    render_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    engine()
    load_s = time.perf_counter() - t0
    per_image, raw_hits, hits, wrong_valid, corrected, corrected_right = [], 0, 0, 0, 0, 0
    name_acc, name_exact, rep_exact, addr_acc, none_found = [], 0, 0, [], 0
    for i, (spec, data) in enumerate(samples):
        t0 = time.perf_counter()
        f = read_licence(data)
        per_image.append(time.perf_counter() - t0)
        raw_hits += f.uscc_raw == spec.uscc
        hits += f.uscc.value == spec.uscc
        wrong_valid += bool(f.uscc.value) and f.uscc.value != spec.uscc
        corrected += f.uscc_corrected
        corrected_right += f.uscc_corrected and f.uscc.value == spec.uscc
        name_acc.append(char_accuracy(f.name.value, spec.name))
        name_exact += f.name.value == spec.name
        rep_exact += f.legal_rep.value == spec.legal_rep
        addr_acc.append(char_accuracy(f.address.value, spec.address))
        none_found += not f.found
        if (i + 1) % 25 == 0:
            console.log(f"{i + 1}/{n} read, USCC exact so far {hits}/{i + 1}")
    return {
        "images": n,
        "seed": seed,
        "distorted": distorted,
        "uscc_exact_raw": _rate(raw_hits, n),
        "uscc_exact_after_correction": _rate(hits, n),
        "uscc_valid_but_wrong": wrong_valid,
        "uscc_corrections_applied": corrected,
        "uscc_corrections_right": corrected_right,
        "name_char_accuracy": round(statistics.fmean(name_acc), 4),
        "name_exact": _rate(name_exact, n),
        "legal_rep_exact": _rate(rep_exact, n),
        "address_char_accuracy": round(statistics.fmean(addr_acc), 4),
        "no_licence_found": none_found,
        "seconds_per_image_mean": round(statistics.fmean(per_image), 3),
        "seconds_per_image_median": round(statistics.median(per_image), 3),
        "seconds_per_image_p95": round(sorted(per_image)[int(0.95 * (n - 1))], 3),
        "render_seconds_per_image": round(render_s / max(1, n), 3),
        "model_load_seconds": round(load_s, 2),
        "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
