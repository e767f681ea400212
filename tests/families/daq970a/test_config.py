"""devices.json loading: older files load unchanged; broken files fail with file + JSON path."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from telegraf_inputs.config import ConfigError, Node, expand_environment
from telegraf_inputs.families.daq970a.driver import DaqDevice, channel_commands
from tests.helpers import OLDER_FILE, ROOT, load_devices, parse_lines, run_once

OLDER = OLDER_FILE
SCHEMA = json.loads((ROOT / "telegraf_inputs" / "schema" / "devices.schema.json").read_text())


def load(path: Path, names=None) -> list[DaqDevice]:
    return load_devices("daq970a", path, names)  # type: ignore[return-value]


def good_device(**changes):
    device = {
        "Device": "daq",
        "Model": "Keysight DAQ970A",
        "Address": "TCPIP0::127.0.0.1::5025::SOCKET",
        "measurement": "temperature",
        "Channels": {"101": {"DeviceChannel": 101, "Type": "TEMPT", "tags": {"sensor": "a"}}},
    }
    device.update(changes)
    return device


def test_older_logger_file_loads_unchanged() -> None:
    devices = load(OLDER)
    assert [d.name for d in devices] == ["Keysight DAQ973A multimeter 1", "Keysight DAQ973A multimeter 2"]
    first, second = devices
    assert first.timeout_ms == 60000 and first.visa_idn.startswith("Keysight Technologies,DAQ973A")
    assert first.connection == second.connection  # same Address -> one shared connection
    assert [ch.number for ch in first.channels] == [101, 102]
    assert channel_commands(first.channels[0]) == ["CONF:VOLT:DC 5,(@101)", "VOLT:DC:NPLC 10,(@101)"]
    assert channel_commands(first.channels[1]) == ["CONF:VOLT:AC 0.1,(@102)"]
    # TEMPT is a type T thermocouple; AveragingTime does not touch non-DCV channels
    assert channel_commands(second.channels[0]) == ["CONF:TEMP TC,T,(@103)", "UNIT:TEMP C,(@103)"]
    assert second.cmd_on_init == ("*RST",)
    assert second.channels[1].config.converter is not None
    assert second.channels[1].config.converter(1100.0) == pytest.approx(-245.9 + 0.2359 * 1100)
    assert second.config.tags == {"room": "B12"}


def test_older_logger_file_and_examples_validate_against_the_schema() -> None:
    for path in (OLDER, ROOT / "devices.example.json"):
        jsonschema.validate(json.loads(path.read_text()), SCHEMA)


def test_device_selection(tmp_path: Path) -> None:
    result = run_once(["--config", str(OLDER), "--simulate", "--device", "Keysight DAQ973A multimeter 2"])
    assert result.returncode == 0
    assert {line["tags"]["device"] for line in parse_lines(result.stdout)} == {"Keysight DAQ973A multimeter 2"}
    result = run_once(["--config", str(OLDER), "--device", "nope"])
    assert result.returncode == 2 and "--device 'nope' is not a device read here" in result.stderr


def test_averaging_time_becomes_dcv_aperture(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(
        json.dumps(
            [
                good_device(
                    AveragingTime=0.2,
                    Channels={
                        "a": {"DeviceChannel": 101, "Type": "DCV", "tags": {"sensor": "a"}},
                        "b": {
                            "DeviceChannel": 102,
                            "Type": "DCV",
                            "DeviceSpecificParams": {"NPLC": 1},
                            "tags": {"sensor": "b"},
                        },
                    },
                )
            ]
        )
    )
    a, b = load(path)[0].channels
    assert channel_commands(a) == ["CONF:VOLT:DC (@101)", "VOLT:DC:APER 0.2,(@101)"]
    assert channel_commands(b) == ["CONF:VOLT:DC (@102)", "VOLT:DC:NPLC 1,(@102)"]


BROKEN = [
    ("not a list", {"Device": "x"}, "(top level)", "expected a list of device objects, found an object"),
    ("no name", [{"Model": "Keysight DAQ970A"}], "[0]", "required key 'Device' is missing"),
    (
        "bad type",
        [good_device(Channels={"103": {"DeviceChannel": 103, "Type": "TEMPX"}})],
        "[0].Channels.103.Type",
        "'TEMPX' is not allowed; use one of: DCV, ACV, DCI",
    ),
    ("typo key", [good_device(Timout=100)], "[0].Timout", "unknown key 'Timout'; did you mean 'Timeout'?"),
    (
        "channel typo",
        [good_device(Channels={"101": {"DeviceChannel": 101, "Type": "DCV", "Multipler": 2}})],
        "[0].Channels.101.Multipler",
        "did you mean 'Multiplier'?",
    ),
    (
        "string multiplier",
        [good_device(Channels={"101": {"DeviceChannel": 101, "Type": "DCV", "Multiplier": "2"}})],
        "[0].Channels.101.Multiplier",
        "expected a number, found a string",
    ),
    (
        "bad channel",
        [good_device(Channels={"x": {"DeviceChannel": 450, "Type": "DCV"}})],
        "[0].Channels.x.DeviceChannel",
        "450 is outside the allowed range 101..399",
    ),
    (
        "nplc on acv",
        [good_device(Channels={"101": {"DeviceChannel": 101, "Type": "ACV", "DeviceSpecificParams": {"NPLC": 10}}})],
        "[0].Channels.101.DeviceSpecificParams.NPLC",
        "NPLC is not available for Type 'ACV'",
    ),
    (
        "range on temp",
        [good_device(Channels={"101": {"DeviceChannel": 101, "Type": "TEMPK", "DeviceSpecificParams": {"Range": 10}}})],
        "[0].Channels.101.DeviceSpecificParams.Range",
        "a temperature channel has no range",
    ),
    (
        "converter",
        [
            good_device(
                Channels={
                    "101": {
                        "DeviceChannel": 101,
                        "Type": "DCV",
                        "Converter": {"Type": "polynomial", "Coefficients": {"a": 1}},
                    }
                }
            )
        ],
        "[0].Channels.101.Converter.Coefficients.a",
        "coefficient keys are exponents 0, 1, 2, ...; found 'a'",
    ),
    (
        "same name, same channel",
        [good_device(), good_device()],
        "[1].Channels.101.DeviceChannel",
        "is also configured by device 'daq' at [0]",
    ),
    (
        "duplicate channel",
        [
            good_device(
                Channels={
                    "a": {"DeviceChannel": 101, "Type": "DCV", "tags": {"s": "1"}},
                    "b": {"DeviceChannel": 101, "Type": "DCV", "tags": {"s": "2"}},
                }
            )
        ],
        "[0].Channels.b.DeviceChannel",
        "DeviceChannel 101 is already used by channel 'a'",
    ),
    (
        "shared channel",
        [good_device(), good_device(Device="other")],
        "[1].Channels.101.DeviceChannel",
        "is also configured by device 'daq'",
    ),
    (
        "same series",
        [
            good_device(
                Channels={"a": {"DeviceChannel": 101, "Type": "DCV"}, "b": {"DeviceChannel": 102, "Type": "DCV"}}
            )
        ],
        "[0].Channels.b",
        "writes the same field 'value' with the same tags as channel 'a'",
    ),
    ("bad tag", [good_device(tags={"room": "ends\\"})], "[0].tags.room", "backslash at its end"),
    (
        "missing env",
        [good_device(Address="${NO_SUCH_VARIABLE_X}")],
        "[0].Address",
        "environment variable NO_SUCH_VARIABLE_X is not set",
    ),
    (
        "nplc and aperture",
        [
            good_device(
                Channels={
                    "101": {"DeviceChannel": 101, "Type": "DCV", "DeviceSpecificParams": {"NPLC": 1, "Aperture": 0.1}}
                }
            )
        ],
        "[0].Channels.101.DeviceSpecificParams.Aperture",
        "give NPLC or Aperture, not both",
    ),
    ("no channels", [good_device(Channels={})], "[0].Channels", "no channels; a device needs at least one"),
    (
        "odd key",
        [good_device(Channels={"0.3(CF)": {"DeviceChannel": 101, "Type": "DCV", "Unit": "V"}})],
        '[0].Channels["0.3(CF)"].Unit',
        "unknown key 'Unit'",
    ),
]


@pytest.mark.parametrize("content,path,message", [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_config_names_file_path_and_problem(tmp_path: Path, content, path: str, message: str) -> None:
    file = tmp_path / "devices.json"
    file.write_text(json.dumps(content))
    with pytest.raises(ConfigError) as info:
        load(file)
    text = str(info.value)
    assert text.startswith(f"{file}: {path}: "), text
    assert message in text, text


def test_duplicate_json_keys_are_an_error(tmp_path: Path) -> None:
    file = tmp_path / "devices.json"
    file.write_text(
        '[{"Device": "d", "Model": "Keysight DAQ970A", "Address": "a", "Channels": {'
        '"101": {"DeviceChannel": 101, "Type": "DCV"}, "101": {"DeviceChannel": 102, "Type": "DCV"}}}]'
    )
    with pytest.raises(ConfigError, match=r"\[0\]\.Channels\.101: key '101' appears more than once"):
        load(file)


def test_json_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    file = tmp_path / "devices.json"
    file.write_text('[\n  {"Device": "d",}\n]')
    with pytest.raises(ConfigError, match=r"devices.json: \(top level\): invalid JSON at line 2, column 18"):
        load(file)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load(tmp_path / "absent.json")


def test_environment_variables_are_substituted(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DAQ_HOST", "10.1.2.3")
    file = tmp_path / "devices.json"
    file.write_text(json.dumps([good_device(Address="TCPIP0::${DAQ_HOST}::5025::SOCKET")]))
    assert load(file)[0].address == "TCPIP0::10.1.2.3::5025::SOCKET"


@given(
    st.dictionaries(
        st.from_regex(r"[A-Z_][A-Z0-9_]{0,8}", fullmatch=True),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=10),
        max_size=4,
    ),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="$"), max_size=10),
)
def test_environment_expansion_replaces_exactly_the_references(environ, plain) -> None:
    names = sorted(environ)
    template = plain + "".join("${" + n + "}" + plain for n in names)
    expected = plain + "".join(environ[n] + plain for n in names)
    assert expand_environment(Node({"k": [template]}, "", "f"), environ) == {"k": [expected]}


@pytest.mark.parametrize(
    "content,path,message",
    [
        b[1:]
        for b in BROKEN
        if b[0]
        in (
            "not a list",
            "no name",
            "bad type",
            "typo key",
            "channel typo",
            "string multiplier",
            "bad channel",
            "converter",
            "no channels",
            "odd key",
        )
    ],
    ids=lambda v: str(v)[:20],
)
def test_schema_rejects_what_the_loader_rejects(content, path: str, message: str) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(content, SCHEMA)
