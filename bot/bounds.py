"""Is a place given as coordinates in Huế at all? A bounding box, from data/catalog/city_bounds.yml.

Every edge that accepts coordinates (the chat's shared location, the host API's, Open311's
lat/long) refuses a place outside the box with OUTSIDE_HUE; the box is coarse on purpose (see
the data file), routing decides the rest from the commune.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import yaml

from bot.settings import ROOT

OUTSIDE_HUE = (
    "Vị trí bạn gửi nằm ngoài địa bàn thành phố Huế. Trợ lý chỉ tiếp nhận phản ánh trong "
    "thành phố Huế; bạn kiểm tra lại vị trí hoặc nhập địa chỉ nhé."
)


@dataclass(frozen=True)
class Box:
    min_latitude: float
    max_latitude: float
    min_longitude: float
    max_longitude: float

    def contains(self, latitude: float, longitude: float) -> bool:
        """False also for NaN and infinities."""
        return (
            math.isfinite(latitude)
            and math.isfinite(longitude)
            and self.min_latitude <= latitude <= self.max_latitude
            and self.min_longitude <= longitude <= self.max_longitude
        )


@lru_cache(maxsize=1)
def hue_box() -> Box:
    """The city's extreme points widened by the file's margin."""
    raw = yaml.safe_load((ROOT / "data" / "catalog" / "city_bounds.yml").read_text("utf-8"))
    margin = float(raw["margin_degrees"])
    return Box(
        min_latitude=float(raw["min_latitude"]) - margin,
        max_latitude=float(raw["max_latitude"]) + margin,
        min_longitude=float(raw["min_longitude"]) - margin,
        max_longitude=float(raw["max_longitude"]) + margin,
    )


def in_hue(latitude: float, longitude: float) -> bool:
    return hue_box().contains(latitude, longitude)
