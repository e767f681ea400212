"""The command line: ``telegraf-lab run | check | models | schema``, and the per-family aliases.

``telegraf-daq970a ARGS`` is ``telegraf-lab run --family daq970a ARGS`` (likewise for
every family), so configs deployed with the per-family executables keep working.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from . import __version__, registry, runtime
from .base import DeviceSpec, Driver

RUN_EPILOG = """\
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


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a positive, finite number of seconds")
    return value


def add_run_arguments(parser: argparse.ArgumentParser, *, with_family: bool) -> None:
    """The options of ``telegraf-lab run`` (and of the per-family aliases, which fix --family)."""
    parser.add_argument(
        "--config",
        "-c",
        required=True,
        type=Path,
        metavar="FILE",
        help="devices file: a JSON or YAML (.yaml, .yml) list of device entries (models no family reads are skipped)",
    )
    if with_family:
        parser.add_argument(
            "--family",
            "-f",
            action="append",
            metavar="NAME",
            help="read only the devices of this family (repeatable; telegraf-lab models lists them)",
        )
    parser.add_argument(
        "--device",
        "-d",
        action="append",
        metavar="NAME",
        help='read only the device with this "Device" name (repeatable)',
    )
    parser.add_argument(
        "--host",
        metavar="NAME",
        help="read only the devices whose Host is NAME (letter case aside), and those with no Host; "
        "auto: this machine's host name. One devices file then serves every host of the lab",
    )
    parser.add_argument("--once", action="store_true", help="gather once, print, exit")
    parser.add_argument(
        "--format",
        choices=("influx", "table"),
        default="influx",
        help="with --once: influx (line protocol, the default) or table (device, channel, field, value, unit, "
        "error: for reading at the bench)",
    )
    parser.add_argument(
        "--simulate",
        action="store_true",
        help="read built-in simulators instead of the configured addresses (no hardware, no secrets needed)",
    )
    parser.add_argument(
        "--interval",
        type=_interval,
        metavar="S",
        help='gather every S seconds on its own (with Telegraf\'s signal = "none")',
    )
    parser.add_argument(
        "--health",
        action="store_true",
        help="also write one lab_device line per device and gather: up, read_seconds, consecutive_failures, "
        "error (a reason code), message; for dashboards and deadman checks (off: the older logger's schema)",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging (D! lines)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``telegraf-lab``."""
    parser = argparse.ArgumentParser(
        prog="telegraf-lab",
        description="Telegraf execd inputs for laboratory instruments: read the devices of a devices file "
        "and print InfluxDB line protocol.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="read the devices (under Telegraf's [[inputs.execd]], or --once by hand)",
        description="Read every device of the file whose Model an installed family reads, all in one process, "
        "each connection in parallel.",
        epilog=RUN_EPILOG.format(prog="telegraf-lab run"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_run_arguments(run, with_family=True)
    check = commands.add_parser(
        "check", help="check a devices file and report every problem in it", description="Load and check FILE."
    )
    check.add_argument("file", type=Path, metavar="FILE")
    check.add_argument("--hosts", metavar="A,B,...", help="the lab's hosts: report a device whose Host is none of them")
    commands.add_parser("models", help="list every supported Model string with its family")
    migrate = commands.add_parser(
        "migrate",
        help="print a Telegraf configuration for the older logger's config.ini",
        description="Read the older logger's config.ini and print a complete Telegraf configuration that reads its "
        "devices file with telegraf-lab and writes to the same InfluxDB (the token goes in Telegraf's environment).",
    )
    migrate.add_argument("ini", type=Path, metavar="CONFIG_INI")
    commands.add_parser("schema", help="print the JSON Schema of devices files (for editors)")
    watch = commands.add_parser(
        "watch",
        help="show every device's readings as a live table in the terminal (Ctrl-C to stop)",
        description="Read the devices every --interval seconds (default 2) and show the latest readings as a table, "
        "refreshed in place: device, channel, field, value, unit, the reading's age and a failing device's reason.",
    )
    add_run_arguments(watch, with_family=True)
    discover = commands.add_parser(
        "discover",
        help="list the serial ports and USB instruments; with --probe, identify instruments and print their entries",
        description="Without --probe nothing is sent: the serial ports (stable /dev/serial/by-id names, USB IDs, "
        "serial numbers) and USB VISA resources are listed, with the families each probably is. --probe asks each "
        "named target each candidate family's read-only identification question and prints devices-file entries "
        "for what answered.",
    )
    discover.add_argument(
        "--probe", nargs="+", metavar="TARGET",
        help="serial ports (/dev/ttyUSB0, COM3, socket://host:port), host:port (TCP) or http://host to ask",
    )  # fmt: skip
    discover.add_argument(
        "--family", action="append", metavar="NAME", default=[],
        help="ask only this family's question (repeatable); e.g. for an APT cube on a port without USB IDs",
    )  # fmt: skip
    discover.add_argument("--yaml", action="store_true", help="print the entries as YAML instead of JSON")
    discover.add_argument("--verbose", "-v", action="store_true", help="show each question and reply (D! lines)")
    template = commands.add_parser(
        "template",
        help="print an InfluxDB 2.x template for the lab: dashboards, device health, deadman and alarm checks",
        description="Print, as JSON, an InfluxDB 2.x template (for influx apply -f or /api/v2/templates/apply) "
        "generated from the devices file: a bucket, a dashboard per measurement, a device-health dashboard, a "
        "deadman check per device (run with --health), threshold checks for the alarm flags instruments report "
        'and for each channel\'s "Alarm": {"above": ..., "below": ...}.',
    )
    template.add_argument("--config", "-c", type=Path, required=True, metavar="FILE", help="the devices file")
    template.add_argument("--bucket", default="lab", help="the bucket the lab writes to (default: lab)")
    template.add_argument("--no-bucket", action="store_true", help="the bucket exists: leave it out of the template")
    template.add_argument("--every", default="1m", metavar="DURATION", help="how often the checks run (default 1m)")
    template.add_argument(
        "--dead-after", default="5m", metavar="DURATION", help="a device not read whole this long is crit (5m)"
    )
    template.add_argument("--notify", metavar="URL", help="also send every crit to this URL (an HTTP endpoint)")
    return parser


def alias_parser(family: registry.Family) -> argparse.ArgumentParser:
    """The argument parser of ``telegraf-<family>``: ``telegraf-lab run --family <family>``."""
    prog = f"telegraf-{family.name.replace('_', '-')}"
    parser = argparse.ArgumentParser(
        prog=prog,
        description=f"Telegraf execd input for the {family.title}: reads the devices of that family listed in a "
        f"devices file and prints InfluxDB line protocol. The same as telegraf-lab run --family {family.name}.",
        epilog=RUN_EPILOG.format(prog=prog),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_run_arguments(parser, with_family=False)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


# -- run ------------------------------------------------------------------------------------------
def select_families(names: Sequence[str] | None) -> list[registry.Family] | str:
    """The families named (all when none is); an error message for an unknown name."""
    if not names:
        return list(registry.families())
    chosen = []
    for name in names:
        family = registry.family_named(name)
        if family is None:
            known = ", ".join(f.name for f in registry.families())
            return f"--family {name!r} is not an installed family; known: {known}"
        if family not in chosen:
            chosen.append(family)
    return chosen


def run(args: argparse.Namespace) -> int:
    """Run as the parsed arguments say; the exit status."""
    runtime.setup_logging(args.verbose)
    prepared = prepare(args)
    if isinstance(prepared, int):
        return prepared
    if args.format == "table" and not args.once:
        runtime.log.error("--format table is for --once (telegraf-lab watch shows the table live)")
        return 2
    return runtime.main_loop(prepared, once=args.once, interval=args.interval, health=args.health,
                             table=args.format == "table")  # fmt: skip


def prepare(args: argparse.Namespace) -> list[tuple[Driver, Sequence[DeviceSpec]]] | int:
    """The drivers and devices the arguments select (simulators started for --simulate); an exit status if none."""
    chosen = select_families(getattr(args, "family", None))
    if isinstance(chosen, str):
        runtime.log.error("%s", chosen)
        return 2
    lab = registry.load(args.config, selected=chosen, simulate=args.simulate)
    lab.warn_unsupported()
    if lab.problems:
        for problem in lab.problems:
            runtime.log.error("configuration error: %s", problem)
        return 2
    groups = [(g.family, g.driver, g.devices) for g in lab.groups]
    if args.device:
        known = {d.name for d in lab.devices}
        unknown = [n for n in args.device if n not in known]
        if unknown:
            runtime.log.error(
                "configuration error: %s: --device %r is not a device read here; known: %s",
                lab.file,
                unknown[0],
                ", ".join(map(repr, sorted(known))) or "none",
            )
            return 2
        wanted = set(args.device)
        groups = [(f, drv, [d for d in devs if d.name in wanted]) for f, drv, devs in groups]
        groups = [g for g in groups if g[2]]
    if args.host:
        host = this_host() if args.host.strip().lower() == "auto" else args.host.strip()
        runtime.log.debug("--host %s: reading the devices of %r and those with no Host", args.host, host)
        groups = [(f, drv, [d for d in devs if d.config.host is None or d.config.host.lower() == host.lower()])
                  for f, drv, devs in groups]  # fmt: skip
        groups = [g for g in groups if g[2]]
        if not groups:
            runtime.log.warning("no device of %s is for host %r (nor without a Host); nothing to read", lab.file, host)
            return 0 if not args.once else 1
    if not groups:
        models = ", ".join(m for f in chosen for m in f.models)
        runtime.log.error(
            "configuration error: %s: (top level): no device has a Model read here (%s)", lab.file, models
        )
        return 2
    run_groups: list[tuple[Driver, Sequence[DeviceSpec]]] = []
    for family, driver, devices in groups:
        if args.simulate:
            devices, _stop = family.start_simulators(devices)
            runtime.log.info("simulating %d %s device(s) with the built-in simulator", len(devices), family.name)
        run_groups.append((driver, devices))
        for device in devices:
            runtime.log.debug("reading %s (%s)", device.label, family.name)
            if (plan := driver.plan(device)) is not None:
                runtime.log.debug("%s: %s", device.label, plan)
    return run_groups


def _run_and_leave(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> NoReturn:
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error argparse has already printed
        runtime.leave(exc.code if isinstance(exc.code, int) else 2, hand_over=True)
    # Only execd mode runs under Telegraf's execd; --once (by hand, or Telegraf's exec) exits at once.
    runtime.leave(run(args), hand_over=not args.once)


# -- check, models, schema ------------------------------------------------------------------------
def this_host() -> str:
    """This machine's host name, as ``--host auto`` reads it (without its domain)."""
    import socket

    return socket.gethostname().split(".")[0]


def check(file: Path, hosts: str | None = None) -> int:
    """Report every problem of ``file`` (stderr), or a one-line summary (stdout); the exit status.

    With ``hosts`` (comma-separated), a ``Host`` that is none of them is a problem too: no ``--host`` would read it.
    """
    runtime.setup_logging(False)
    lab = registry.load(file)
    lab.warn_unsupported()
    if hosts is not None:
        known = {h.strip().lower() for h in hosts.split(",") if h.strip()}
        for device in lab.devices:
            host = device.config.host
            if host is not None and host.lower() not in known:
                message = f"Host {host!r} is none of --hosts {hosts}: no telegraf-lab run --host reads it"
                lab.problems.append(device.config.node.error(message, "Host"))
    for problem in lab.problems:
        print(problem, file=sys.stderr)
    if lab.problems:
        print(f"{file}: {len(lab.problems)} problem(s)", file=sys.stderr)
        return 2
    counts = ", ".join(f"{g.family.name}: {len(g.devices)}" for g in lab.groups) or "none"
    skipped = f"; {len(lab.unsupported)} skipped (Model not supported)" if lab.unsupported else ""
    print(f"{file}: OK, {len(lab.devices)} device(s) ({counts}){skipped}")
    return 0


def models() -> int:
    """Print every supported Model string with its family."""
    rows = [(m, f.name) for f in registry.families() for m in (*f.models, *([f.pattern_doc] if f.pattern_doc else []))]
    width = max(len(model) for model, _ in rows)
    for model, family in rows:
        print(f"{model:<{width}}  {family}")
    return 0


def migrate(ini: Path) -> int:
    """Print the Telegraf configuration for the older logger's config.ini."""
    from .migrate import main as print_config

    return print_config(ini)


def schema() -> int:
    """Print the JSON Schema of devices files."""
    from .schema import build_schema

    print(json.dumps(build_schema(), indent=2, ensure_ascii=False))
    return 0


def discover(args: argparse.Namespace) -> int:
    """List what is plugged in; with --probe, print entries for what answered (exit 1 if nothing did)."""
    from . import discover as finder

    runtime.setup_logging(args.verbose)
    if not args.probe:
        ports = finder.serial_ports()
        print("serial ports:" if ports else "serial ports: none found")
        for port in ports:
            guess = f"  probably: {', '.join(port['probably'])}" if port["probably"] else ""
            details = ", ".join(f"{k} {port[k]}" for k in ("usb", "serial_number", "manufacturer", "description")
                                if port[k])  # fmt: skip
            print(f"  {port['stable'] or port['port']}  ({port['port']}{'; ' + details if details else ''}){guess}")
        resources = finder.usb_resources()
        print("USB instruments (VISA):" if resources else "USB instruments (VISA): none found")
        for resource in resources:
            print(f"  {resource}")
        print("ask them what they are: telegraf-lab discover --probe PORT ... (LAN instruments: --probe host:port)")
        return 0
    unknown = [n for n in args.family if registry.family_named(n) is None]
    if unknown:
        runtime.log.error("--family %r is not an installed family", unknown[0])
        return 2
    families = [f.name for n in args.family if (f := registry.family_named(n)) is not None]
    found, silent = finder.probe_targets(args.probe, families)
    for line in silent:
        runtime.log.warning("nothing identified at %s", line)
    entries = [f.entry for f in found]
    if args.yaml:
        from ruamel.yaml import YAML

        yaml = YAML()
        yaml.default_flow_style = False
        yaml.dump(entries, sys.stdout)
    else:
        print(json.dumps(entries, indent=2, ensure_ascii=False))
    return 0 if found else 1


def watch(args: argparse.Namespace) -> int:
    """The live table (rich, an optional extra: pip install 'telegraf-lab-inputs[watch]')."""
    runtime.setup_logging(args.verbose)
    try:
        from .watch import watch as show
    except ImportError as exc:
        runtime.log.error("telegraf-lab watch needs rich (%s): pip install 'telegraf-lab-inputs[watch]'", exc)
        return 2
    prepared = prepare(args)
    if isinstance(prepared, int):
        return prepared
    return show(prepared, args.interval or 2.0)


def template(args: argparse.Namespace) -> int:
    """Print the InfluxDB template of the devices file."""
    from . import template as templates

    runtime.setup_logging(False)
    logging.getLogger("telegraf_inputs").setLevel(logging.WARNING)
    lab = registry.load(args.config, simulate=True)  # a template needs no secret: an unset one stands in
    lab.warn_unsupported()
    if lab.problems:
        for problem in lab.problems:
            runtime.log.error("configuration error: %s", problem)
        return 2
    if args.notify and not re.fullmatch(r"https?://[^\s]+", args.notify):
        runtime.log.error("--notify %r is not an http:// or https:// URL", args.notify)
        return 2
    try:
        resources = templates.build([(g.driver, g.devices) for g in lab.groups], bucket=args.bucket,
                                    with_bucket=not args.no_bucket, every=args.every, dead_after=args.dead_after,
                                    notify=args.notify)  # fmt: skip
    except ValueError as exc:
        runtime.log.error("%s", exc)
        return 2
    print(json.dumps(resources, indent=2, ensure_ascii=False))
    return 0


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point of telegraf-lab."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["run"]:
        _run_and_leave(build_parser(), arguments)
    args = build_parser().parse_args(arguments)
    commands = {
        "check": lambda: check(args.file, args.hosts),
        "models": models,
        "schema": schema,
        "migrate": lambda: migrate(args.ini),
        "template": lambda: template(args),
        "watch": lambda: watch(args),
        "discover": lambda: discover(args),
    }
    code = commands[args.command]()
    sys.stdout.flush()
    runtime.leave(code, hand_over=False)


def family_of_command(command: str) -> registry.Family | None:
    """The family of a per-family command: ``telegraf-smc-hrs`` (``.exe``, ``-script.py`` on Windows) -> smc_hrs."""
    name = Path(command).name
    for suffix in (".exe", "-script.py", ".py"):
        name = name.removesuffix(suffix)
    return registry.family_named(name.removeprefix("telegraf-")) if name.startswith("telegraf-") else None


def family_alias(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point of every telegraf-<family> command: telegraf-lab run --family <family>."""
    family = family_of_command(sys.argv[0])
    if family is None:
        runtime.setup_logging(False)
        runtime.log.error("%s is not the command of an installed family; use telegraf-lab run", sys.argv[0])
        runtime.leave(2, hand_over=False)
    parser = alias_parser(family)
    parser.set_defaults(family=[family.name])
    _run_and_leave(parser, argv)


if __name__ == "__main__":  # pragma: no cover
    main()
