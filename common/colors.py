"""The four warning colours (and "none") as the wall, the map, the PDF and Excel draw them."""

WARNING_COLORS = {"red": "#E53935", "orange": "#FB8C00", "yellow": "#FDD835", "blue": "#1E88E5", "none": "#607D8B"}
