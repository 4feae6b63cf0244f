"""This machine on the LAN: its host name and IPv4 addresses, what people type to reach it."""

from __future__ import annotations

import fcntl
import socket
import struct

SIOCGIFADDR = 0x8915  # Linux ioctl: an interface's IPv4 address


def lan_addresses() -> list[str]:
    """The IPv4 addresses of this machine's interfaces, LAN ones first, loopback last."""
    addresses = set()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for _, name in socket.if_nameindex():
            request = struct.pack("256s", name.encode()[:15])
            try:
                packed = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, request)[20:24]
            except OSError:
                continue
            addresses.add(socket.inet_ntoa(packed))
    return sorted(addresses, key=lambda a: (a.startswith("127."), a)) or ["127.0.0.1"]


def host_name() -> str:
    """This machine's short host name (what `<host>.local` is made of)."""
    return socket.gethostname().split(".")[0]


def listening_addresses(host: str) -> list[str]:
    """Where people can reach a server bound to `host`: every LAN address for a wildcard."""
    return lan_addresses() if host in ("0.0.0.0", "::") else [host]  # noqa: S104 (a comparison)
