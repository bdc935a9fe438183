"""Codes stored in the database and their Chinese labels (one place for both), and the editable
vocabulary of aliases through which imported labels are mapped to codes."""

from __future__ import annotations

import os
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from common import settings
from data_access.errors import DataAccessError

LEVEL_LABELS: dict[int, str] = {0: "区", 1: "街道", 2: "社区/村", 3: "小区", 4: "楼栋"}

KIND_LABELS: dict[str, str] = {
    "district": "区",
    "subdistrict": "街道",
    "township": "乡镇",
    "community": "社区",
    "village": "村",
    "compound": "小区",
    "natural_village": "自然村",
    "building": "楼栋",
    "village_group": "村民小组",
}

SOURCES: dict[str, str] = {
    "grid": "网格员上报",
    "app": "群众APP",
    "hotline": "12345热线",
    "petition": "信访",
    "video": "视频巡查",
    "other": "其他来源",
}

WHISTLES: dict[str, str] = {"routine": "常规哨", "key": "重点哨"}

CATEGORIES: dict[str, str] = {
    "dispute": "矛盾纠纷",
    "safety": "安全隐患",
    "order": "治安防范",
    "environment": "环境整治",
    "building": "违法建设",
    "livelihood": "民生服务",
    "other": "其他",
}

# The closed loop, in order: 上报 → 派单 → 处置 → 核查 → 办结.
STATUSES: dict[str, str] = {
    "reported": "待派单",
    "dispatched": "处置中",
    "handled": "待核查",
    "closed": "已办结",
}
LOOP_STAGES: dict[str, str] = {
    "reported_at": "上报",
    "dispatched_at": "派单",
    "handled_at": "处置",
    "verified_at": "核查",
    "closed_at": "办结",
}

SUBJECT_KINDS: dict[str, str] = {"village": "村(社区)", "enterprise": "企事业单位"}

# subject type -> (label, supervising department)
SUBJECT_TYPES: dict[str, tuple[str, str]] = {
    "village": ("行政村", "所在乡镇(街道)"),
    "community": ("社区", "所在乡镇(街道)"),
    "school": ("学校", "教育局"),
    "hospital": ("医院", "卫健委"),
    "market": ("市场", "市场发展中心"),
    "scenic": ("景区", "文广旅局"),
    "entertainment": ("娱乐场所", "文广旅局"),
    "netcafe": ("网吧", "文广旅局"),
    "mall": ("商场", "商务局"),
    "station": ("车站", "交通运输局"),
    "pharmacy": ("药店", "市场监管局"),
    "restaurant": ("餐饮店", "市场监管局"),
    "factory": ("工业企业", "工信局"),
}

TEAM_KINDS: dict[str, str] = {"fulltime": "专职巡防队", "volunteer": "志愿巡逻队", "police": "驻村民警",
                               "grid": "网格长巡查"}

DISPUTE_TYPES: dict[str, str] = {
    "marriage": "婚姻家庭",
    "neighbour": "邻里纠纷",
    "property": "物业纠纷",
    "land": "土地征迁",
    "labour": "劳资纠纷",
    "fraud": "合同诈骗",
}

MEDIATION_STATUSES: dict[str, str] = {
    "screened": "已排查",
    "mediating": "调解中",
    "settled": "调解成功",
    "failed": "调解未成",
}

CASE_TYPES: dict[str, str] = {
    "theft": "盗窃",
    "fraud": "诈骗",
    "assault": "伤害",
    "robbery": "抢劫",
    "other": "其他",
}

ROLES: dict[str, str] = {"leader": "领导", "staff": "科室人员", "display": "大屏展示", "admin": "管理员"}


# ---------------------------------------------------------------------------------------------
# The label vocabulary: how offices write categories, sources, whistle levels and statuses.
#
# ``config/vocabulary.toml`` (format in its header) lists aliases per code; the codes and their
# Chinese labels above are always understood. The importer maps every label through it; a label it
# does not know is imported under a safe default and kept verbatim (see data_access.importers).

VOCABULARY_PATH = Path(__file__).resolve().parents[1] / "config" / "vocabulary.toml"

# field -> its codes and labels; field -> Chinese name of the field
FIELDS: dict[str, dict[str, str]] = {"category": CATEGORIES, "source": SOURCES, "whistle": WHISTLES,
                                     "status": STATUSES}
FIELD_LABELS: dict[str, str] = {"category": "类别", "source": "来源", "whistle": "吹哨级别", "status": "状态"}

_IGNORED = re.compile(r"[\s\"'“”‘’「」『』《》【】()（）\[\]·・]+")


class VocabularyError(DataAccessError):
    """The vocabulary file cannot be read or contradicts itself."""


def normalize_label(label: object) -> str:
    """The form labels are compared in: NFKC (full-width → half-width), case-folded, without spaces,
    quotes, brackets and a trailing 类 — so ``１２３４５热线``, ``12345 热线`` and ``“12345热线”`` are one
    label, and so are ``治安类`` and ``治安``."""
    key = _IGNORED.sub("", unicodedata.normalize("NFKC", str(label)).casefold())
    return key[:-1] if len(key) > 1 and key.endswith("类") else key  # 治安类 = 治安


@dataclass(frozen=True)
class Vocabulary:
    """Aliases of one vocabulary file: ``aliases[field][normalized label] = code``."""

    aliases: dict[str, dict[str, str]]
    path: Path | None = None

    def code(self, field: str, label: object) -> str | None:
        """The code ``label`` stands for in ``field``, or None when the vocabulary does not know it."""
        return self.aliases[field].get(normalize_label(label))


def _builtin() -> dict[str, dict[str, str]]:
    return {f: {**{normalize_label(k): k for k in codes}, **{normalize_label(v): k for k, v in codes.items()}}
            for f, codes in FIELDS.items()}


def _parse(data: dict, where: str) -> dict[str, dict[str, str]]:
    out = _builtin()
    for field, table in data.items():
        if field not in FIELDS:
            raise VocabularyError(f"词表 {where}：未知的字段 [{field}]（可用：{'、'.join(FIELDS)}）")
        if not isinstance(table, dict):
            raise VocabularyError(f"词表 {where}：[{field}] 应为“代码 = [别名, …]”")
        for code, names in table.items():
            if code not in FIELDS[field]:
                raise VocabularyError(f"词表 {where}：[{field}] 没有代码 {code!r}（可用：{'、'.join(FIELDS[field])}）")
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise VocabularyError(f"词表 {where}：[{field}] {code} 应为字符串列表")
            for name in names:
                key = normalize_label(name)
                if not key:
                    continue
                if out[field].get(key, code) != code:
                    raise VocabularyError(f"词表 {where}：[{field}] 别名 {name!r} 同时属于 {out[field][key]} 和 {code}")
                out[field][key] = code
    return out


@lru_cache(maxsize=8)
def _load(path: str, stamp: tuple) -> Vocabulary:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise VocabularyError(f"无法读取词表 / cannot read vocabulary {path}: {exc}") from exc
    return Vocabulary(_parse(data, Path(path).name), Path(path))


def vocabulary_path() -> Path:
    """The ``VOCABULARY_FILE`` setting, else ``config/vocabulary.toml``."""
    return Path(settings.get("VOCABULARY_FILE") or VOCABULARY_PATH)


def load_vocabulary(path: str | Path | None = None) -> Vocabulary:
    """The vocabulary in ``path`` (default :func:`vocabulary_path`), re-read when the file changes; only
    the built-in codes and labels when the file does not exist."""
    p = Path(path) if path else vocabulary_path()
    if not p.exists():
        return Vocabulary(_builtin(), None)
    st = p.stat()
    return _load(str(p), (st.st_mtime_ns, st.st_size, st.st_ino))


def add_alias(field: str, label: str, code: str, path: str | Path | None = None) -> bool:
    """Write ``label`` as an alias of ``code`` into the vocabulary file, keeping its comments and layout
    (the file is replaced atomically). Returns False when the vocabulary already maps it so; raises
    :class:`VocabularyError` when it maps it to another code."""
    import tomlkit

    if field not in FIELDS or code not in FIELDS[field]:
        raise VocabularyError(f"未知的字段或代码 / unknown field or code: {field}={code}")
    p = Path(path) if path else vocabulary_path()
    known = load_vocabulary(p).code(field, label)
    if known == code:
        return False
    if known is not None:
        raise VocabularyError(f"词表中“{label}”已对应 {known}，请先在 {p.name} 中修改")
    doc = tomlkit.parse(p.read_text(encoding="utf-8")) if p.exists() else tomlkit.document()
    table = doc.setdefault(field, tomlkit.table())
    if code not in table:
        table[code] = tomlkit.array()
    table[code].append(label.strip())
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    tmp.write_text(tomlkit.dumps(doc), encoding="utf-8")
    os.replace(tmp, p)
    return True
