"""Plausible Chinese names for the generated demo district (deterministic for a seed)."""

from __future__ import annotations

import numpy as np

# 川汇区-style subdistricts: 9 urban 街道 first, then 3 rural 乡.
SUBDISTRICTS = [
    "陈州街道", "七一路街道", "荷花路街道", "人和街道", "小桥街道", "城北街道",
    "文昌街道", "金海路街道", "搬口街道", "华耀城街道", "许湾乡", "李埠口乡",
]
URBAN_SUBDISTRICTS = 9

# For the city-scale demo: the districts and counties of 周口市 (川汇区 first).
DISTRICTS = [
    ("411602", "川汇区"), ("411603", "淮阳区"), ("411621", "扶沟县"), ("411622", "西华县"),
    ("411623", "商水县"), ("411624", "沈丘县"), ("411625", "郸城县"), ("411627", "太康县"),
    ("411628", "鹿邑县"), ("411681", "项城市"),
]
_CITY_STEMS, _COUNTY_STEMS = list("临平安新永长宁丰兴和"), list("东西南北中阳城川源山")


def district(d_idx: int) -> tuple[str, str]:
    """(code, name) of the ``d_idx``-th district: 周口's ten first, then made-up counties of a province
    (``41CCNN``: ten to a city), so every code — and its last four digits, which event ids carry — is unique."""
    if d_idx < len(DISTRICTS):
        return DISTRICTS[d_idx]
    city, n = divmod(d_idx, 10)
    return f"41{16 + city:02d}{21 + n:02d}", f"{_CITY_STEMS[city % 10]}{_COUNTY_STEMS[n]}县"

_COMMUNITY_STEMS = list(
    "东风 新华 建设 和平 幸福 民主 团结 光明 胜利 解放 人民 中山 文化 育英 花园 长青 振兴 兴华 富民 "
    "安居 康乐 红旗 五一 七一 太昊 伏羲 沙河 颍河 周口 汇通 金桥 银湖 锦绣 阳光 春晖 明珠 丰收 "
    "黄淮 龙湖 荷花 清华 八一 华阳 顺河 交通 工农 新村 北关 南关 西关 东关 大庆 滨河 复兴 永安".split()
)
_SURNAMES = list("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎")
_GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红海燕晓东亮宏斌波辉鹏飞")
_VILLAGE_SUFFIX = ["庄", "楼", "寨", "营", "庄", "店", "集", "湾", "口", "屯"]
_COMPOUND_SUFFIX = ["小区", "家园", "花园", "苑", "公寓", "新村", "华府", "雅居"]


class NameMaker:
    """Hands out names unique within a district (as real ones are: two counties may each have a 新华社区);
    same seed → same names."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.used: set[str] = set()

    def next_district(self) -> None:
        """Start a new district's names (its own set: a province would exhaust one shared set)."""
        self.used.clear()

    def _unique(self, make) -> str:
        for _ in range(200):
            name = make()
            if name not in self.used:
                self.used.add(name)
                return name
        name = make() + str(len(self.used))
        self.used.add(name)
        return name

    def community(self) -> str:
        return self._unique(lambda: self.rng.choice(_COMMUNITY_STEMS) + self.rng.choice(
            ["社区", "社区", "路社区", "街社区", "里社区", "东社区", "西社区"]))

    def village(self) -> str:
        return self._unique(
            lambda: self.rng.choice(_SURNAMES) + self.rng.choice(_VILLAGE_SUFFIX) + "村")

    def compound(self, community: str) -> str:
        return self._unique(lambda: self.rng.choice(_COMMUNITY_STEMS) + self.rng.choice(_COMPOUND_SUFFIX))

    def natural_village(self) -> str:
        return self._unique(
            lambda: self.rng.choice(_SURNAMES) + self.rng.choice(["家", "小", "前", "后", "东", "西"])
            + self.rng.choice(_VILLAGE_SUFFIX))

    def person(self) -> str:
        n = 1 + (self.rng.random() < 0.6)
        return self.rng.choice(_SURNAMES) + "".join(self.rng.choice(_GIVEN, n))


EVENT_TITLES: dict[str, list[str]] = {
    "dispute": ["邻里噪音纠纷", "物业费用争议", "婚姻家庭矛盾", "宅基地边界纠纷", "拖欠农民工工资",
                "房屋租赁纠纷", "征地补偿诉求", "网购合同纠纷"],
    "safety": ["燃气管道老化", "楼道堆放杂物", "电动车违规充电", "自建房墙体裂缝", "消防通道占用",
               "危化品存放不规范", "施工围挡破损", "道路井盖缺失"],
    "order": ["可疑人员徘徊", "夜间聚众喧哗", "电信诈骗宣传", "车辆被盗线索", "流动摊贩占道"],
    "environment": ["生活垃圾未清运", "污水外溢", "违规焚烧秸秆", "绿化带损毁", "餐饮油烟扰民"],
    "building": ["违规搭建彩钢房", "私自加层", "占用绿地建房", "楼顶违建"],
    "livelihood": ["路灯不亮", "独居老人需帮扶", "低保政策咨询", "供水管道漏水", "小区停车难"],
}

KEY_DEPARTMENTS = {
    "dispute": "区司法局", "safety": "区应急管理局", "order": "区公安分局",
    "environment": "区生态环境分局", "building": "区住建局", "livelihood": "区民政局",
}
