"""What both ends of the PurpleAir wire share: the API's field names, a LAN sensor's JSON keys, the key header.

Cloud API v1: ``GET /sensors/{index}`` or ``GET /sensors?fields=...&show_only=...``
with the key in the ``X-API-Key`` header; private sensors also take ``read_key``.
A sensor on the LAN answers ``GET /json?live=true`` with keys of its own
(``p_0_3_um``, ``pm2_5_cf_1_b``, ``current_temp_f``, ``DateTime``), mapped here
to the API's names.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

API_KEY_HEADER = "X-API-Key"
LAN_TIME_FORMAT = "%Y/%m/%dT%H:%M:%Sz"  # a LAN sensor's DateTime, UTC
DEFAULT_BASE_URL = "https://api.purpleair.com/v1"

# -- fields ----------------------------------------------------------------------------------------
_COUNTS = ("0.3_um_count", "0.5_um_count", "1.0_um_count", "2.5_um_count", "5.0_um_count", "10.0_um_count")
_MASSES = ("pm1.0_atm", "pm2.5_atm", "pm10.0_atm", "pm1.0_cf_1", "pm2.5_cf_1", "pm10.0_cf_1", "pm2.5_alt")
#: API fields a channel may read directly; A/B variants exist for the laser counter fields
API_FIELDS = frozenset(
    [f + s for f in _COUNTS + _MASSES + ("pm2.5", "pm1.0", "pm10.0") for s in ("", "_a", "_b")]
    + ["humidity", "temperature", "pressure", "voc", "ozone1", "confidence", "channel_flags", "rssi", "uptime"]
)
INTEGER_FIELDS = frozenset({"confidence", "channel_flags", "rssi", "uptime"})
#: LAN /json keys of channel A; channel B's end in "_b"; unsuffixed API fields are their mean
LAN_KEYS = {
    **{c: "p_" + c.replace(".", "_").replace("_count", "") for c in _COUNTS},
    "pm1.0_atm": "pm1_0_atm",
    "pm2.5_atm": "pm2_5_atm",
    "pm10.0_atm": "pm10_0_atm",
    "pm1.0_cf_1": "pm1_0_cf_1",
    "pm2.5_cf_1": "pm2_5_cf_1",
    "pm10.0_cf_1": "pm10_0_cf_1",
}
LAN_SINGLE = {"humidity": "current_humidity", "temperature": "current_temp_f", "pressure": "pressure"}


#: US EPA AQI breakpoints: (concentration low, high, index low, high); PM2.5 as revised in 2024
AQI_PM25 = (
    (0.0, 9.0, 0, 50),
    (9.1, 35.4, 51, 100),
    (35.5, 55.4, 101, 150),
    (55.5, 125.4, 151, 200),
    (125.5, 225.4, 201, 300),
    (225.5, 325.4, 301, 500),
)
AQI_PM10 = (
    (0, 54, 0, 50),
    (55, 154, 51, 100),
    (155, 254, 101, 150),
    (255, 354, 151, 200),
    (355, 424, 201, 300),
    (425, 604, 301, 500),
)


def aqi(concentration: float, table: Sequence[tuple[float, float, int, int]], digits: int) -> int:
    """US AQI: truncate the concentration (0.1 µg/m³ for PM2.5, 1 for PM10), interpolate in its band.

    Above the top breakpoint the top band's slope is continued, as AirNow does.
    """
    step = 10**digits
    c = math.floor(max(concentration, 0.0) * step) / step
    for c_lo, c_hi, i_lo, i_hi in table:
        if c <= c_hi:
            return round((i_hi - i_lo) / (c_hi - c_lo) * (c - c_lo) + i_lo)
    c_lo, c_hi, i_lo, i_hi = table[-1]
    return round((i_hi - i_lo) / (c_hi - c_lo) * (c - c_lo) + i_lo)
