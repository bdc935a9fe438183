"""The four warning colours (and "none") as the wall, the map, the PDF and Excel draw them."""

WARNING_COLORS = {"red": "#E53935", "orange": "#FB8C00", "yellow": "#FDD835", "blue": "#1E88E5", "none": "#607D8B"}
# their names in legends and reports, in the same order (worst first)
WARNING_LABELS = {"red": "红色预警", "orange": "橙色预警", "yellow": "黄色预警", "blue": "蓝色预警", "none": "正常"}
