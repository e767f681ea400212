"""Command line shared by every executable (telegraf-daq970a, ...)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from . import __version__, config, runtime
from .devices.base import DeviceSpec, Driver

EPILOG = """\
modes:
  (default)   execd mode, for Telegraf's [[inputs.execd]]: every line read on
              stdin starts one gather, and so do SIGHUP, SIGUSR1 and SIGUSR2;
              stdin closed (Telegraf stopping), SIGTERM or SIGINT -> exit 0.
  --once      one gather printed to stdout, then exit: 0 if every selected
              device was read, 1 if any failed, 2 for a bad config.
  --interval  also gather every S seconds on its own (Telegraf signal = "none").

Output is InfluxDB line protocol on stdout; logs go to stderr with Telegraf's
level prefixes (E! W! I! D!).

examples:
  {prog} --config devices.json --simulate --once   try it without hardware
  {prog} --config devices.json --once -v           read the real devices once
  {prog} --config /etc/telegraf/devices.json       run under Telegraf
"""


def build_parser(driver: Driver) -> argparse.ArgumentParser:
    """The argument parser of ``telegraf-<driver.name>``."""
    prog = f"telegraf-{driver.name.replace('_', '-')}"
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(
            f"Telegraf execd input for {' / '.join(driver.models)}: reads the devices of that model "
            "listed in a devices.json file and prints InfluxDB line protocol."
        ),
        epilog=EPILOG.format(prog=prog),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config",
        "-c",
        required=True,
        type=Path,
        metavar="FILE",
        help="devices.json: a JSON list of device entries (other models in it are skipped)",
    )
    parser.add_argument(
        "--device",
        "-d",
        action="append",
        metavar="NAME",
        help='read only the device with this "Device" name (repeatable)',
    )
    parser.add_argument("--once", action="store_true", help="gather once, print, exit")
    parser.add_argument(
        "--simulate",
        action="store_true",
        help="read built-in simulators instead of the configured addresses (no hardware needed)",
    )
    parser.add_argument(
        "--interval",
        type=float,
        metavar="S",
        help='gather every S seconds on its own (with Telegraf\'s signal = "none")',
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging (D! lines)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def load_devices(driver: Driver, path: Path, names: Sequence[str] | None) -> list[DeviceSpec]:
    """Load and check this driver's devices; raise ConfigError on any problem."""
    devices: list[DeviceSpec] = config.load(path, driver.handles, driver.parse)
    if not devices:
        raise config.ConfigError(
            str(path), "", f"no device has a Model this executable reads ({', '.join(driver.models)})"
        )
    driver.check_all(devices)
    if names:
        known = {d.name: d for d in devices}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise config.ConfigError(
                str(path),
                "",
                f"--device {unknown[0]!r} is not a device of this model here; known: {', '.join(map(repr, known))}",
            )
        devices = [known[n] for n in dict.fromkeys(names)]
    return devices


def main(driver: Driver, argv: Sequence[str] | None = None) -> NoReturn:
    """Parse arguments, load the config, run the executable and exit with its status."""
    try:
        args = build_parser(driver).parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error argparse has already printed
        runtime.leave(exc.code if isinstance(exc.code, int) else 2, hand_over=True)
    # Only execd mode runs under Telegraf's execd; --once (by hand, or Telegraf's exec) exits at once.
    runtime.leave(run(driver, args), hand_over=not args.once)


def run(driver: Driver, args: argparse.Namespace) -> int:
    """Run the executable as the parsed arguments say; its exit status."""
    runtime.setup_logging(args.verbose)
    if args.interval is not None and args.interval <= 0:
        runtime.log.error("--interval must be a positive number of seconds")
        return 2
    try:
        devices = load_devices(driver, args.config, args.device)
    except config.ConfigError as exc:
        runtime.log.error("configuration error: %s", exc)
        return 2
    if args.simulate:
        devices, _stop = driver.simulate(devices)
        runtime.log.info("simulating %d device(s) with the built-in simulator", len(devices))
    runtime.log.debug("reading %s", ", ".join(repr(d.name) for d in devices))
    for device in devices:
        if (plan := driver.plan(device)) is not None:
            runtime.log.debug("%s: %s", device.name, plan)
    return runtime.main_loop(driver, devices, once=args.once, interval=args.interval)


def daq970a(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point of telegraf-daq970a."""
    from .devices.keysight_daq970a import Daq970aDriver

    main(Daq970aDriver(), argv)


def smc_hrs(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point of telegraf-smc-hrs."""
    from .devices.smc_hrs import SmcHrsDriver

    main(SmcHrsDriver(), argv)


def purpleair(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point of telegraf-purpleair."""
    from .devices.purpleair import PurpleAirDriver

    main(PurpleAirDriver(), argv)


if __name__ == "__main__":  # pragma: no cover
    daq970a()
