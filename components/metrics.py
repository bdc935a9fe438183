"""Figures of the metric catalogue (data_access.queries.catalogue) as tiles and as one table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from common.fmt import pct
from data_access.queries.catalogue import METRICS, metric

from .kpi import Tile


def metric_tile(key: str, result: dict, foot: str = "", foot_class: str = "") -> Tile:
    """The tile of catalogue metric ``key``, its value picked from ``result`` (its query function's dict)."""
    m = metric(key)
    return Tile(m.tile_key, m.tile_label, m.format(m.pick(result)), "" if m.is_rate else m.unit, foot, foot_class)


def metric_frame(values: dict[str, float], targets: dict[str, float]) -> pd.DataFrame:
    """Every metric of the catalogue with its value: columns key, 指标, 本期, 单位, 目标, 口径."""
    return pd.DataFrame([{"key": m.key, "指标": m.label, "本期": m.format(values.get(m.key)),
                          "单位": "" if m.is_rate else m.unit,
                          "目标": f"≥{pct(targets[m.target], 0)}" if m.target in targets else "",
                          "口径": m.definition} for m in METRICS])


def metric_table(values: dict[str, float], targets: dict[str, float]) -> None:
    """The whole catalogue as a table (label, value, unit, target, definition), in catalogue order."""
    st.dataframe(metric_frame(values, targets).drop(columns="key"), hide_index=True, key="metric_catalogue")
