"""What both ends of the PurpleAir wire share: the API's field names, a LAN sensor's JSON keys, the key header.

Cloud API v1: ``GET /sensors/{index}`` or ``GET /sensors?fields=...&show_only=...``
with the key in the ``X-API-Key`` header; private sensors also take ``read_key``.
A sensor on the LAN answers ``GET /json?live=true`` with keys of its own
(``p_0_3_um``, ``pm2_5_cf_1_b``, ``current_temp_f``, ``DateTime``), mapped here
to the API's names.
"""

from __future__ import annotations

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
