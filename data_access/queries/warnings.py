"""Four-colour warning engine (四色预警): explainable, configurable rules rolled up the hierarchy.

Rules live in ``config/warning_rules.toml`` (see its header for the format). The engine is two
pure functions — :func:`evaluate` (rules on a metrics frame) and :func:`roll_up` (children's
colours into a parent's) — plus the queries that feed them. The same engine feeds the map,
the overview and the PDF.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, func, select

from data_access.db.connection import connect
from data_access.db.schema import events, petitions, units
from data_access.filters import Period, Scope, Unit, _apply_scope
from data_access.queries import events as ev
from data_access.queries.sanling import compliance_by_child

RULES_PATH = Path(__file__).resolve().parents[2] / "config" / "warning_rules.toml"
LEVELS = ("red", "orange", "yellow", "blue")  # most severe first
SEVERITY = {"red": 4, "orange": 3, "yellow": 2, "blue": 1, "none": 0}
LABELS = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色", "none": "正常"}


@dataclass(frozen=True)
class Rule:
    id: str
    label: str
    metric: str
    direction: str  # below | above
    thresholds: tuple[tuple[str, float], ...]  # (level, threshold), most severe first
    reason: str
    min_reported: int = 0
    min_petitions: int = 0


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...]
    red_share: float = 0.25
    downgrade_steps: int = 1


def load_rules(path: str | Path | None = None) -> Rules:
    """Parse the rules file; raises ValueError with the rule id on a malformed rule."""
    data = tomllib.loads(Path(path or RULES_PATH).read_text(encoding="utf-8"))
    out = []
    for r in data.get("rules", []):
        try:
            if r["direction"] not in ("below", "above"):
                raise ValueError(f"direction must be below|above, not {r['direction']!r}")
            th = tuple((lv, float(r[lv])) for lv in LEVELS if lv in r)
            if not th:
                raise ValueError("no thresholds (red/orange/yellow/blue)")
            out.append(Rule(r["id"], r.get("label", r["id"]), r["metric"], r["direction"], th, r["reason"],
                            int(r.get("min_reported", 0)), int(r.get("min_petitions", 0))))
        except (KeyError, ValueError) as exc:
            raise ValueError(f"预警规则配置错误 / bad warning rule {r.get('id', '?')}: {exc}") from exc
    roll = data.get("rollup", {})
    return Rules(tuple(out), float(roll.get("red_share", 0.25)), int(roll.get("downgrade_steps", 1)))


def _rule_level(rule: Rule, row: dict) -> tuple[str, float] | None:
    value = row.get(rule.metric)
    if value is None or pd.isna(value):
        return None
    if rule.min_reported and row.get("reported", 0) < rule.min_reported:
        return None
    if rule.min_petitions and row.get("petitions", 0) < rule.min_petitions:
        return None
    for level, threshold in rule.thresholds:
        if (value < threshold) if rule.direction == "below" else (value >= threshold):
            return level, threshold
    return None


def evaluate(metrics: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """Apply ``rules`` to each row of ``metrics`` (pure).

    Adds columns ``color`` (red|orange|yellow|blue|none), ``color_label`` (红色…正常),
    ``reasons`` (list of Chinese sentences, most severe first) and ``severity`` (4…0).
    """
    colors, reasons = [], []
    for row in metrics.to_dict("records"):
        hits = []
        for rule in rules.rules:
            got = _rule_level(rule, row)
            if got:
                level, threshold = got
                text = rule.reason.format(**{**row, "value": row[rule.metric], "threshold": threshold,
                                             "level": LABELS[level]})
                hits.append((SEVERITY[level], level, text))
        hits.sort(key=lambda h: -h[0])
        colors.append(hits[0][1] if hits else "none")
        reasons.append([h[2] for h in hits])
    out = metrics.copy()
    out["color"] = colors
    out["color_label"] = [LABELS[c] for c in colors]
    out["reasons"] = reasons
    out["severity"] = [SEVERITY[c] for c in colors]
    return out


def roll_up(own_color: str, own_reasons: list[str], child_colors: pd.Series, child_names: pd.Series,
            rules: Rules) -> tuple[str, list[str]]:
    """A parent's colour from its own colour and its children's (pure).

    Rule: the parent is at least ``downgrade_steps`` levels below its worst child, and red when
    at least ``red_share`` of its children are red. Returns (colour, reasons).
    """
    color, reasons = own_color, list(own_reasons)
    if len(child_colors):
        sev = child_colors.map(SEVERITY)
        worst = int(sev.max())
        n_red = int((child_colors == "red").sum())
        if n_red and n_red / len(child_colors) >= rules.red_share:
            inherited = 4
        else:
            inherited = max(0, worst - rules.downgrade_steps) if worst > 0 else 0
        if inherited > SEVERITY[color]:
            color = {v: k for k, v in SEVERITY.items()}[inherited]
        for level in LEVELS:
            names = child_names[child_colors == level].tolist()
            if names and SEVERITY[level] >= 2:
                shown = "、".join(names[:3]) + ("等" if len(names) > 3 else "")
                reasons.append(f"下辖 {len(names)} 个单位{LABELS[level]}预警（{shown}）")
    return color, reasons


def unit_metrics(engine: Engine, scope: Scope, unit: Unit, period: Period, level: int | None = None, *,
                 as_of: datetime) -> pd.DataFrame:
    """The rule inputs for every unit at ``level`` (default: the children) under ``unit``.

    Columns: code, name, parent_code, reported, closed, closure_rate, due (events whose deadline has
    passed or that are closed), due_closure_rate (1 − overdue_open / due), overdue, overdue_open,
    overdue_share, overdue_open_share, key, key_open, subjects, broken_zeros (三零 subjects not
    compliant in the month 三零 compliance reads: sanling.latest_judged_month), broken_share, petitions, petitions_prev,
    petition_growth (ratio − 1, NaN without base).
    """
    lvl = unit.level + 1 if level is None else level
    cols = ["code", "name", "parent_code", "reported", "closed", "closure_rate", "due", "due_closure_rate",
            "overdue", "overdue_open",
            "overdue_share", "overdue_open_share", "key", "key_open", "subjects", "broken_zeros", "broken_share",
            "petitions", "petitions_prev", "petition_growth"]
    if lvl > 4 or lvl <= unit.level:
        return pd.DataFrame(columns=cols)
    gcol = events.c[f"l{lvl}_code"]
    figures = ev._grouped(engine, scope, unit, period, None, as_of, gcol, ev.event_rollup.c.unit_code, lvl, None)
    figures = figures.rename(columns={"grp": "code"})
    names_q = _apply_scope(select(units.c.code, units.c.name, units.c.parent_code).where(units.c.level == lvl),
                           units, scope, unit)
    key_q = ev._open_overdue_query([gcol, func.count()], scope, unit, period, None, None) \
        .where(events.c.whistle == "key").group_by(gcol)
    open_q = ev._open_overdue_query([gcol, func.count()], scope, unit, period, None, None).group_by(gcol)
    pcol = petitions.c[f"l{lvl}_code"]

    def pet_q(p: Period):
        return _apply_scope(select(pcol, func.count()).where(petitions.c.received_at >= p.start_dt,
                                                             petitions.c.received_at < p.end_dt),
                            petitions, scope, unit).group_by(pcol)

    with connect(engine) as conn:
        df = pd.DataFrame(conn.execute(names_q).all(), columns=["code", "name", "parent_code"])
        key_open = dict(conn.execute(key_q).all())
        open_all = dict(conn.execute(open_q).all())
        pet = dict(conn.execute(pet_q(period)).all())
        pet_prev = dict(conn.execute(pet_q(period.comparable_previous(as_of.date()))).all())
    zeros = compliance_by_child(engine, scope, unit, period, lvl)
    broken = {c: (b, n) for c, b, n in zip(zeros["code"], zeros["noncompliant"], zeros["subjects"])}
    df = df.merge(figures, on="code", how="left")
    for c in ("reported", "closed", "overdue", "overdue_open", "key"):
        df[c] = df[c].fillna(0).astype("int64")
    df["closure_rate"] = df["closed"] / df["reported"].where(df["reported"] > 0)
    # Judge closure only on events already due: work still inside its time limit is not late.
    df["not_due"] = df["code"].map(open_all).fillna(0).astype("int64") - df["overdue_open"]
    df["due"] = df["reported"] - df["not_due"]
    df["due_closure_rate"] = 1 - df["overdue_open"] / df["due"].where(df["due"] > 0)
    df["overdue_share"] = df["overdue"] / df["reported"].where(df["reported"] > 0)
    df["key_open"] = df["code"].map(key_open).fillna(0).astype("int64")
    df["broken_zeros"] = df["code"].map(lambda c: broken.get(c, (0, 0))[0]).astype("int64")
    df["subjects"] = df["code"].map(lambda c: broken.get(c, (0, 0))[1]).astype("int64")
    df["broken_share"] = df["broken_zeros"] / df["subjects"].where(df["subjects"] > 0)
    df["overdue_open_share"] = df["overdue_open"] / df["reported"].where(df["reported"] > 0)
    df["petitions"] = df["code"].map(pet).fillna(0).astype("int64")
    df["petitions_prev"] = df["code"].map(pet_prev).fillna(0).astype("int64")
    df["petition_growth"] = df["petitions"] / df["petitions_prev"].where(df["petitions_prev"] > 0) - 1
    return df[cols].sort_values("code", ignore_index=True)


def child_warnings(engine: Engine, scope: Scope, unit: Unit, period: Period, rules: Rules | None = None, *,
                   as_of: datetime) -> pd.DataFrame:
    """Children of ``unit`` with metrics, colour and reasons (own rules rolled up with their own
    children's), worst first. Columns: those of :func:`unit_metrics` plus color, color_label,
    reasons, severity."""
    rules = rules or load_rules()
    kids = evaluate(unit_metrics(engine, scope, unit, period, as_of=as_of), rules)
    if kids.empty:
        return kids
    if unit.level + 2 <= 4:
        grand = evaluate(unit_metrics(engine, scope, unit, period, level=unit.level + 2, as_of=as_of), rules)
        by_parent = {p: g for p, g in grand.groupby("parent_code")}
        rolled = []
        for row in kids.itertuples(index=False):
            g = by_parent.get(row.code)
            if g is None:
                rolled.append((row.color, row.reasons))
            else:
                rolled.append(roll_up(row.color, row.reasons, g["color"], g["name"], rules))
        kids["color"] = [c for c, _ in rolled]
        kids["reasons"] = [r for _, r in rolled]
        kids["color_label"] = kids["color"].map(LABELS)
        kids["severity"] = kids["color"].map(SEVERITY)
    return kids.sort_values(["severity", "closure_rate"], ascending=[False, True], ignore_index=True)


_SUMMED = ("reported", "closed", "due", "overdue", "overdue_open", "key", "key_open", "subjects", "broken_zeros",
           "petitions",
           "petitions_prev")


def unit_warning(engine: Engine, scope: Scope, unit: Unit, period: Period, rules: Rules | None = None, *,
                 as_of: datetime) -> dict:
    """The unit's own colour: its rules on its own figures, rolled up with its children's colours.

    Returns {"color", "color_label", "reasons" (list[str]), "children" (DataFrame of child_warnings)}.
    """
    rules = rules or load_rules()
    if unit.level == 0:
        own = unit_metrics(engine, scope, unit, period, level=1, as_of=as_of)
        agg = own[list(_SUMMED)].sum().to_dict()
    else:
        # The unit's row among its parent's children. The scope still applies (both filters, see
        # _apply_scope), so for a staff user whose scope is this very unit the parent yields exactly it.
        parent = Unit(unit.parent_code, "", unit.level - 1, None, "", unit.ancestors[: unit.level] + (None,) * 5)
        rows = unit_metrics(engine, scope, parent if unit.within(scope) else unit, period, level=unit.level,
                            as_of=as_of)
        rows = rows[rows["code"] == unit.code]
        agg = rows.iloc[0].to_dict() if len(rows) else {}
    row = {**{k: 0 for k in _SUMMED}, **agg}
    nan = float("nan")
    row["closure_rate"] = row["closed"] / row["reported"] if row["reported"] else nan
    row["due_closure_rate"] = 1 - row["overdue_open"] / row["due"] if row["due"] else nan
    row["overdue_share"] = row["overdue"] / row["reported"] if row["reported"] else nan
    row["overdue_open_share"] = row["overdue_open"] / row["reported"] if row["reported"] else nan
    row["broken_share"] = row["broken_zeros"] / row["subjects"] if row["subjects"] else nan
    row["petition_growth"] = row["petitions"] / row["petitions_prev"] - 1 if row["petitions_prev"] else float("nan")
    own = evaluate(pd.DataFrame([row]), rules).iloc[0]
    kids = child_warnings(engine, scope, unit, period, rules, as_of=as_of)
    color, reasons = own["color"], list(own["reasons"])
    if not kids.empty:
        color, reasons = roll_up(color, reasons, kids["color"], kids["name"], rules)
    return {"color": color, "color_label": LABELS[color], "reasons": reasons, "children": kids}
