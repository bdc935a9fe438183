"""考评 ranking: a documented, configurable score of units built from the indicators of the other pages."""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from data_access.filters import Period, Scope, Unit
from data_access.queries import warnings
from data_access.queries.patrol import coverage_by_child
from data_access.queries.units import children

CONFIG = Path(__file__).resolve().parents[2] / "config" / "ranking.toml"


def load_indicators(path: str | Path | None = None) -> list[dict]:
    """The indicators of config/ranking.toml: metric, label, better (higher|lower), weight."""
    items = tomllib.loads(Path(path or CONFIG).read_text(encoding="utf-8"))["indicators"]
    for it in items:
        if it.get("better") not in ("higher", "lower") or float(it.get("weight", 0)) < 0:
            raise ValueError(f"考评配置错误 / bad ranking indicator: {it}")
    return items


def score(metrics: pd.DataFrame, indicators: list[dict]) -> pd.DataFrame:
    """Pure: add one ``<metric>_score`` column (0–100) per indicator, ``score`` (weighted mean) and ``rank``
    (1 = best; ties share the better rank). A missing value scores 0 on that indicator; an indicator
    missing for every unit (e.g. 三零 before any month was judged) is left out and the other
    weights are scaled up, so scores stay on the same 0–100 scale (its ``_score`` column is NaN)."""
    out = metrics.copy()
    present = [i for i in indicators if out[i["metric"]].astype(float).notna().any()]
    for ind in indicators:
        if ind not in present:
            out[f"{ind['metric']}_score"] = float("nan")
    total_w = sum(float(i["weight"]) for i in present) or 1.0
    out["score"] = 0.0
    for ind in present:
        v = out[ind["metric"]].astype(float)
        lo, hi = v.min(), v.max()
        s = pd.Series(100.0, index=v.index) if hi == lo else (v - lo) / (hi - lo) * 100
        if ind["better"] == "lower" and hi != lo:
            s = 100 - s
        s = s.fillna(0.0)
        out[f"{ind['metric']}_score"] = s.round(1)
        out["score"] += s * float(ind["weight"]) / total_w
    out["score"] = out["score"].round(1)
    out["rank"] = out["score"].rank(ascending=False, method="min").astype(int)
    return out.sort_values(["rank", "code"], ignore_index=True)


def _metrics(engine, scope, unit, period, as_of) -> pd.DataFrame:
    m = warnings.unit_metrics(engine, scope, unit, period, as_of=as_of)
    cov = coverage_by_child(engine, scope, unit, period)[["code", "coverage"]].rename(
        columns={"coverage": "patrol_coverage"})
    pop = children(engine, scope, unit)[["code", "population"]]
    m = m.merge(cov, on="code", how="left").merge(pop, on="code", how="left")
    m["compliance"] = 1 - m["broken_share"]
    m["petitions_per_10k"] = m["petitions"] / m["population"].where(m["population"] > 0) * 10_000
    return m


def ranking(engine: Engine, scope: Scope, unit: Unit, period: Period, *, as_of: datetime) -> pd.DataFrame:
    """The children of ``unit`` ranked for ``period``, with the change vs the previous period (up to the
    same date while ``period`` is still running at ``as_of``).

    Columns: rank, code, name, score (0–100), rank_prev, rank_change (+ = moved up), the indicator
    values (closure_rate, overdue_share, compliance, patrol_coverage, petitions_per_10k) and their
    ``*_score`` columns.
    """
    indicators = load_indicators()
    cur = score(_metrics(engine, scope, unit, period, as_of), indicators)
    prev = score(_metrics(engine, scope, unit, period.comparable_previous(as_of.date()), as_of), indicators)
    cur["rank_prev"] = cur["code"].map(dict(zip(prev["code"], prev["rank"])))
    cur["rank_change"] = cur["rank_prev"] - cur["rank"]
    keep = ["rank", "code", "name", "score", "rank_prev", "rank_change"] + [i["metric"] for i in indicators] + \
        [f"{i['metric']}_score" for i in indicators]
    return cur[keep]

