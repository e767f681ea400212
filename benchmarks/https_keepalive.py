"""Part 9: PurpleAir over HTTPS on 127.0.0.1, kept alive."""

from __future__ import annotations

import datetime
import os

from common import API_KEY
from common import CONFIGS
from common import PA
from common import Checks
from common import Execd
from common import Rig
from common import Table
from common import lines_at_least
from common import median
from common import ms
from common import pa_entry
from common import write_config

# --------------------------------------------------------------------------- 9. HTTPS: keep-alive


def self_signed_certificate(folder: str) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, made here (files in ``folder``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_file, key_file = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    with open(cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_file, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))  # fmt: skip
    return cert_file, key_file


def bench_https(rig: Rig, gathers: int, checks: Checks) -> Table:
    """PurpleAir over HTTPS: one kept-alive connection against a new connection (and TLS handshake) per gather."""
    cert, key = self_signed_certificate(CONFIGS.name)
    env = {**os.environ, "REQUESTS_CA_BUNDLE": cert}  # the executable trusts the certificate made here
    env.pop("HTTPS_PROXY", None), env.pop("https_proxy", None)
    sensors = [1001, 1002, 1003]
    runs: dict[str, Execd] = {}
    names = {"keep-alive (one connection)": "https-keep", "a new connection per gather": "https-close"}
    for label, sim in names.items():
        api = rig("purpleair", name=sim, api_key=API_KEY, sensors=sensors, tls=[cert, key],
                  keep_alive=label.startswith("keep"))  # fmt: skip
        channels = {f"s{i}": (i, "pm2.5_atm") for i in sensors}
        config = write_config([pa_entry("air", channels, DeviceSpecificParams={"BaseURL": api["base_url"]})])
        runs[label] = Execd(PA, config, env=env)
    walls: dict[str, list[float]] = {label: [] for label in runs}
    cpus: dict[str, list[float]] = {label: [] for label in runs}
    try:
        for i in range(gathers + 3):
            for label, exe in runs.items():  # in turn, so that both see the same machine
                g = exe.gather(lines_at_least(len(sensors)), timeout=20)
                if i >= 3:
                    walls[label].append(g.wall_s)
                    cpus[label].append(g.cpu_s)
        connections = {label: rig("connections", name=names[label]) for label in runs}
    finally:
        for exe in runs.values():
            exe.close()
    table = Table(
        f"9. PurpleAir over HTTPS on 127.0.0.1 (self-signed certificate, 3 sensors): {gathers} gathers",
        ["connection", "wall/gather median ms", "CPU/gather median ms", "connections opened"],
    )
    for label in runs:
        table.rows.append([label, ms(median(walls[label])), ms(median(cpus[label])), str(connections[label])])
    keep, new = runs
    cpu_ratio = median(cpus[new]) / median(cpus[keep])
    table.rows.append(
        ["ratio new / keep-alive", f"{median(walls[new]) / median(walls[keep]):.2f}", f"{cpu_ratio:.2f}", ""]
    )
    checks.add("https: one connection kept alive through every gather", connections[keep] == 1, str(connections[keep]))
    return table
