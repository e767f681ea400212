"""What both ends of the rp-lockbox SCPI link share.

Text over TCP port 5000, CR LF after every message and reply.  The server
answers a query with one line and says nothing to a command it rejects.

The PID trap: the older logger's ``PID`` key gives the input first, then the
output (``"12"``: input 1, output 2), and is sent as ``PID:IN1:OUT2:...``;
the lock box's own README and web interface name that same controller
``PID21``, output first.  ``pid_query`` and ``readme_name`` are the one place
that maps between them.
"""

from __future__ import annotations

from ...vocabulary import Kind, Slot, Vocabulary

END = "\r\n"
DEFAULT_PORT = 5000
#: the channel Types: the query of each ({n} the fast analog channel, {i}/{o} the PID's input/output), and
#: what its reply holds
VOCABULARY = Vocabulary(
    Kind("FastAnalogIn", "ANALOG:IN{n}:VOLT?", "a fast analog input's voltage"),
    Kind("FastAnalogOut", "ANALOG:OUT{n}:VOLT?", "a fast analog output's voltage"),
    Kind("GlobalGain", "PID:IN{i}:OUT{o}:KG?", "a PID's overall gain"),
    Kind("PGain", "PID:IN{i}:OUT{o}:KP?", "its proportional gain"),
    Kind("IGain", "PID:IN{i}:OUT{o}:KI?", "its integral gain"),
    Kind("IIGain", "PID:IN{i}:OUT{o}:KII?", "its double-integral gain"),
    Kind("DGain", "PID:IN{i}:OUT{o}:KD?", "its derivative gain"),
    Kind("Setpoint", "PID:IN{i}:OUT{o}:SETP?", "its set point"),
    Kind("Hold", "PID:IN{i}:OUT{o}:HOLD?", "its integrator held", field="boolean"),
    Kind("Relock", "PID:IN{i}:OUT{o}:REL?", "its relock on", field="boolean"),
    Kind("Inverted", "PID:IN{i}:OUT{o}:INV?", "its sign inverted", field="boolean"),
    slots={
        "n": Slot("DeviceChannel", "[12]", example="2"),
        "i": Slot("PIDInput", "[12]", example="1"),
        "o": Slot("PIDOutput", "[12]", example="2"),
    },
)


def pid_query(template: str, pid_input: int, pid_output: int) -> str:
    return template.format(i=pid_input, o=pid_output, n="")


def readme_name(pid_input: int, pid_output: int) -> str:
    """The lock box README's and web interface's name of the PID from ``pid_input`` to ``pid_output``."""
    return f"PID{pid_output}{pid_input}"


def parse_boolean(text: str) -> bool | None:
    upper = text.strip().upper()
    return {"ON": True, "1": True, "OFF": False, "0": False}.get(upper)
