"""Which instrument families exist, and which of them reads each device of a file.

A family is a folder under ``telegraf_inputs/families/`` whose ``__init__.py``
holds a ``FAMILY = Family(...)`` declaration: its name, the Model strings it
reads, and where its driver and simulator glue are.  Families are found by
listing that folder, so adding one is adding its folder; the core names none of
them.  A family's ``__init__`` imports nothing heavy: the driver module is
imported only when a file has a device of that family.
"""

from __future__ import annotations

import functools
import importlib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from . import config
from .base import DeviceSpec, Driver
from .nodes import ConfigError, Node

log = logging.getLogger("telegraf_inputs")

#: what an unset ${NAME} in a secret becomes with --simulate (the simulators accept any key they were given)
SIMULATED_SECRET = "simulated-key"


def normalise_model(model: str) -> str:
    """A Model string as compared: letter case and runs of white space do not matter."""
    return " ".join(model.split()).upper()


class Family:
    """One instrument family: its name, the Model strings it reads, where its code is."""

    __slots__ = ("name", "title", "models", "model_pattern", "pattern_doc", "driver", "simulate", "package")

    def __init__(
        self,
        name: str,
        title: str,
        models: tuple[str, ...],
        *,
        model_pattern: str | None = None,
        pattern_doc: str = "",
        driver: str = "driver:DRIVER",
        simulate: str = "simulate:simulate",
    ) -> None:
        self.name = name  # e.g. "daq970a": the --family value and the telegraf-<name> alias
        self.title = title  # e.g. "Keysight DAQ970A / DAQ973A data acquisition system"
        self.models = models  # every Model string it reads, older spellings too
        self.model_pattern = model_pattern  # further Model strings: a regex valid in Python and JSON Schema
        self.pattern_doc = pattern_doc  # what the pattern accepts, for `telegraf-lab models`
        self.driver = driver  # module:attribute in the family's package, a Driver instance
        self.simulate = simulate  # module:function starting simulators for --simulate
        self.package = ""  # set when the family is found

    def __repr__(self) -> str:
        return f"Family({self.name!r})"

    def handles(self, model: str) -> bool:
        """True if this family reads devices of ``model``."""
        if normalise_model(model) in {normalise_model(m) for m in self.models}:
            return True
        return self.model_pattern is not None and re.fullmatch(self.model_pattern, model.strip(), re.I) is not None

    def _load(self, target: str) -> Any:
        module, _, attribute = target.partition(":")
        return getattr(importlib.import_module(f"{self.package}.{module}"), attribute)

    def load_driver(self) -> Driver:
        """The family's driver (imports its module)."""
        driver: Driver = self._load(self.driver)
        return driver

    def start_simulators(self, devices: Sequence[DeviceSpec]) -> tuple[list[DeviceSpec], Callable[[], None]]:
        """Start the family's simulators; the devices pointed at them, and a function that stops them."""
        simulate: Callable[[Sequence[DeviceSpec]], tuple[list[DeviceSpec], Callable[[], None]]] = self._load(
            self.simulate
        )
        return simulate(devices)


@functools.cache
def families() -> tuple[Family, ...]:
    """Every installed family, found by listing the families folder (sorted by name)."""
    from . import families as package

    found = []
    for folder in sorted(Path(package.__path__[0]).iterdir()):
        if not (folder / "__init__.py").is_file():
            continue
        name = f"{package.__name__}.{folder.name}"
        family = getattr(importlib.import_module(name), "FAMILY", None)
        if isinstance(family, Family):
            family.package = name
            found.append(family)
    return tuple(found)


def modules(name: str) -> list[tuple[Family, ModuleType]]:
    """Each family's module ``name`` (``probe``, ``protocol``...), for the families that have one."""
    found = []
    for family in families():
        try:
            found.append((family, importlib.import_module(f"{family.package}.{name}")))
        except ModuleNotFoundError as exc:
            if exc.name != f"{family.package}.{name}":
                raise  # the module is there, and fails to import
    return found


def family_named(name: str) -> Family | None:
    """The family called ``name`` (``smc-hrs`` and ``smc_hrs`` alike), or None."""
    wanted = name.strip().lower().replace("-", "_")
    return next((f for f in families() if f.name == wanted), None)


def family_of(model: str) -> Family | None:
    """The family that reads devices of ``model``, or None."""
    return next((f for f in families() if f.handles(model)), None)


def close_model(model: str) -> str | None:
    """The supported Model string closest to ``model`` (a typo), if one is close."""
    import difflib  # only when a Model is not supported

    known = {normalise_model(m): m for f in families() for m in f.models}
    match = difflib.get_close_matches(normalise_model(model), list(known), n=1, cutoff=0.6)
    return known[match[0]] if match else None


# -- a whole devices file ------------------------------------------------------------------------
class Group:
    """The devices of one family in a file, with the family's driver."""

    __slots__ = ("family", "driver", "devices")

    def __init__(self, family: Family, driver: Driver, devices: list[DeviceSpec]) -> None:
        self.family = family
        self.driver = driver
        self.devices = devices


class Lab:
    """A devices file as loaded for the selected families."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.groups: list[Group] = []
        self.unsupported: list[tuple[config.Entry, str | None]] = []  # with the closest supported Model
        self.problems: list[ConfigError] = []

    @property
    def devices(self) -> list[DeviceSpec]:
        return [d for g in self.groups for d in g.devices]

    def warn_unsupported(self) -> None:
        """One W! line per device whose Model no family reads."""
        for entry, close in self.unsupported:
            hint = f" (did you mean {close!r}?)" if close else ""
            log.warning(
                "%s: %s: device %r has Model %r, which no installed family reads%s; skipped "
                "(telegraf-lab models lists the supported ones)",
                self.file,
                entry.node.path,
                entry.name,
                entry.model,
                hint,
            )


def load(
    file: str | Path,
    *,
    selected: Sequence[Family] | None = None,
    simulate: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Lab:
    """Load every device of ``file`` that a selected family reads; collect every problem.

    Devices of installed families that are not selected are left alone; devices
    of no family are listed in ``unsupported``.  With ``simulate``, an unset
    ``${NAME}`` in a secret key stands in as the simulator's key (with an I! line).
    """
    lab = Lab(str(file))
    try:
        found, lab.problems = config.entries(file)
    except ConfigError as exc:
        lab.problems.append(exc)
        return lab
    chosen_families = list(selected) if selected is not None else list(families())
    chosen: list[tuple[config.Entry, Callable[[Node], Any]]] = []
    drivers: dict[str, Driver] = {}
    for entry in found:
        family = family_of(entry.model)
        if family is None:
            lab.unsupported.append((entry, close_model(entry.model)))
            continue
        if family not in chosen_families:
            continue
        driver = drivers.get(family.name) or drivers.setdefault(family.name, family.load_driver())
        chosen.append((entry, functools.partial(_parse, family, driver)))
    secrets = set().union(*(d.declaration.device_keys().secret_names() for d in drivers.values()))
    secrets |= set().union(*(d.declaration.channel_keys().secret_names() for d in drivers.values()))
    parsed, problems = config.load_entries(
        chosen, environ=environ, stand_in=_simulated_secret(secrets) if simulate else None
    )
    lab.problems += problems
    config.label_repeated([device.config for _, _, device in parsed])
    by_family: dict[str, Group] = {}
    for family, driver, device in parsed:
        by_family.setdefault(family.name, Group(family, driver, [])).devices.append(device)
    lab.groups = [by_family[f.name] for f in chosen_families if f.name in by_family]
    for group in lab.groups:
        lab.problems += group.driver.check_all(group.devices)
    lab.problems += config.series_problems(
        [(d.config, ch, names) for g in lab.groups for d in g.devices for ch, names in g.driver.fields(d)]
    )
    lab.problems.sort(key=_entry_index)  # in file order
    return lab


def _entry_index(problem: ConfigError) -> int:
    match = re.match(r"\[(\d+)\]", problem.path)
    return int(match.group(1)) if match else -1


def _parse(family: Family, driver: Driver, node: Node) -> tuple[Family, Driver, DeviceSpec]:
    return family, driver, driver.parse(node)


def _simulated_secret(secret_keys: set[str]) -> Callable[[str, Node], str | None]:
    told: set[str] = set()

    def stand_in(variable: str, node: Node) -> str | None:
        key = node.path.rsplit(".", 1)[-1]
        if key not in secret_keys:
            return None
        if variable not in told:
            told.add(variable)
            log.info("--simulate: ${%s} is not set; %s uses the simulator's own key", variable, key)
        return SIMULATED_SECRET

    return stand_in
