"""This family's lab for tests/families/test_in_step.py: its simulator on its real transport, and a device
whose every channel has its own, distinct value."""

from __future__ import annotations

from tests.families.lab import TIMEOUT_S, Lab


def lab() -> Lab:
    from telegraf_inputs.families.scpi.simulator import ScpiSimulator

    sim = ScpiSimulator({"KRDG? A": "+077.100", "KRDG? B": "+004.200", "HTR? 1": "+035.00"},
                        read_termination="\r\n", write_termination="\r\n").start()  # fmt: skip
    entry = {"Device": "cryostat controller", "Model": "SCPI", "Address": f"TCPIP0::127.0.0.1::{sim.port}::SOCKET",
             "Timeout": TIMEOUT_S * 1000, "measurement": "cryostat",
             "DeviceSpecificParams": {"ReadTermination": "\r\n", "WriteTermination": "\r\n", "ErrorQuery": ""},
             "Channels": {"A": {"Query": "KRDG? A", "field-key": "tA"}, "B": {"Query": "KRDG? B", "field-key": "tB"},
                          "heater": {"Query": "HTR? 1", "field-key": "heater"}}}  # fmt: skip
    return Lab([entry], sim.faults, sim.stop, sim)
