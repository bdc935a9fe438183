"""Tests for the four-colour warning engine: rules, roll-up, configuration, and the queries feeding it."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from data_access.filters import Scope, parse_period
from data_access.queries import units as un
from data_access.queries import warnings as w

from .conftest import DATA_AS_OF

RULES = w.Rules(rules=(
    w.Rule("closure", "办结率", "closure_rate", "below", (("red", 0.90), ("orange", 0.95), ("yellow", 0.98)),
           "办结率 {value:.1%}，低于{level}线 {threshold:.0%}", min_reported=20),
    w.Rule("overdue", "超期", "overdue_open", "above", (("red", 10), ("orange", 5), ("blue", 1)),
           "超期未办结 {value:.0f} 件（{level}）"),
), red_share=0.5, downgrade_steps=1)


def test_evaluate_hand_computed():
    """Each row gets the most severe level of any rule and a reason per triggered rule."""
    m = pd.DataFrame([
        {"code": "a", "reported": 100, "closure_rate": 0.85, "overdue_open": 0},   # closure red
        {"code": "b", "reported": 100, "closure_rate": 0.97, "overdue_open": 6},    # yellow + orange → orange
        {"code": "c", "reported": 100, "closure_rate": 0.99, "overdue_open": 1},    # blue
        {"code": "d", "reported": 5, "closure_rate": 0.10, "overdue_open": 0},      # too few events: none
        {"code": "e", "reported": 0, "closure_rate": math.nan, "overdue_open": 0},  # no data: none
    ])
    out = w.evaluate(m, RULES).set_index("code")
    assert out["color"].to_dict() == {"a": "red", "b": "orange", "c": "blue", "d": "none", "e": "none"}
    assert out.loc["a", "reasons"] == ["办结率 85.0%，低于红色线 90%"]
    assert out.loc["b", "reasons"] == ["超期未办结 6 件（橙色）", "办结率 97.0%，低于黄色线 98%"]
    assert out.loc["b", "color_label"] == "橙色" and out.loc["e", "color_label"] == "正常"


def test_threshold_edges():
    """'below' is strict (<), 'above' is inclusive (>=)."""
    m = pd.DataFrame([{"reported": 50, "closure_rate": 0.90, "overdue_open": 10},
                      {"reported": 50, "closure_rate": 0.8999, "overdue_open": 9}])
    out = w.evaluate(m, RULES)
    assert out["color"].tolist() == ["red", "red"]
    assert out["reasons"][0] == ["超期未办结 10 件（红色）", "办结率 90.0%，低于橙色线 95%"]
    assert out["reasons"][1][0].startswith("办结率 90.0%，低于红色线")


@pytest.mark.parametrize("own,children,expected", [
    ("none", ["red", "none", "none", "none"], "orange"),      # worst child red, downgraded one step
    ("none", ["red", "red", "none", "none"], "red"),          # half red ≥ red_share 0.5
    ("yellow", ["orange", "blue"], "yellow"),                 # orange → yellow; own yellow stays
    ("red", ["none", "none"], "red"),                         # own colour never lowered
    ("none", ["blue", "blue"], "none"),                       # blue downgraded to none
    ("none", [], "none"),
])
def test_roll_up(own, children, expected):
    kids = pd.Series(children, dtype=object)
    names = pd.Series([f"u{i}" for i in range(len(children))], dtype=object)
    color, reasons = w.roll_up(own, [], kids, names, RULES)
    assert color == expected
    if "red" in children:
        assert any("红色预警" in r and "u0" in r for r in reasons)


def test_shipped_rules_parse():
    rules = w.load_rules()
    assert {r.metric for r in rules.rules} >= {"due_closure_rate", "overdue_open_share", "key_open", "broken_share"}
    assert all(r.thresholds for r in rules.rules)


def test_bad_rules_file_is_a_clear_error(tmp_path):
    p = tmp_path / "r.toml"
    p.write_text('[[rules]]\nid = "x"\nmetric = "closure_rate"\ndirection = "sideways"\nred = 1\nreason = ""\n',
                 encoding="utf-8")
    with pytest.raises(ValueError, match="预警规则配置错误.*x"):
        w.load_rules(p)


def test_unit_metrics_match_event_kpis(tiny_engine):
    """The rule inputs per child equal the event KPIs of each child (both engines)."""
    from data_access.queries import events as ev

    root = un.home_unit(tiny_engine, Scope.all())
    p = parse_period("2026-09")
    m = w.unit_metrics(tiny_engine, Scope.all(), root, p, as_of=DATA_AS_OF).set_index("code")
    kids = ev.child_event_kpis(tiny_engine, Scope.all(), root, p, as_of=DATA_AS_OF).set_index("code")
    assert m["reported"].to_dict() == kids["reported"].to_dict()
    assert m["overdue_open"].to_dict() == kids["overdue_open"].to_dict()


def test_child_warnings_and_unit_warning(tiny_engine):
    """Every child gets a colour and, when coloured, a reason; the parent is at least as severe as
    its worst child minus one step."""
    root = un.home_unit(tiny_engine, Scope.all())
    res = w.unit_warning(tiny_engine, Scope.all(), root, parse_period("2026-09"), as_of=DATA_AS_OF)
    kids = res["children"]
    assert len(kids) == len(un.children(tiny_engine, Scope.all(), root))
    assert set(kids["color"]) <= set(w.SEVERITY)
    assert all(r for c, r in zip(kids["color"], kids["reasons"]) if c != "none")
    assert w.SEVERITY[res["color"]] >= kids["severity"].max() - 1
    assert list(kids["severity"]) == sorted(kids["severity"], reverse=True)
