"""Codes stored in the database and their Chinese labels (one place for both)."""

from __future__ import annotations

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
}

WHISTLES: dict[str, str] = {"routine": "常规哨", "key": "重点哨"}

CATEGORIES: dict[str, str] = {
    "dispute": "矛盾纠纷",
    "safety": "安全隐患",
    "order": "治安防范",
    "environment": "环境整治",
    "building": "违法建设",
    "livelihood": "民生服务",
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

ZEROS: dict[str, str] = {"petition": "零上访", "accident": "零事故", "case": "零案件"}

TEAM_KINDS: dict[str, str] = {"fulltime": "专职巡防队", "volunteer": "志愿巡逻队", "police": "驻村民警"}

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

PETITION_CHANNELS: dict[str, str] = {"visit": "来访", "online": "网上信访", "letter": "来信"}

CASE_TYPES: dict[str, str] = {
    "theft": "盗窃",
    "fraud": "诈骗",
    "assault": "伤害",
    "robbery": "抢劫",
    "other": "其他",
}

ROLES: dict[str, str] = {"leader": "领导", "staff": "科室人员", "display": "大屏展示", "admin": "管理员"}
