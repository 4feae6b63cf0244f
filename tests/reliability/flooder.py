"""A client that floods PiChat's chat as a script would, from its own process (as from
another machine): ``python -m tests.reliability.flooder URL USERNAME ADDRESS_INDEX``.

It logs in from 127.0.0.x, then sends send_message frames as fast as its socket takes
them without reading an ack, and connects again each time the server cuts it off, until
it is terminated.
"""

from __future__ import annotations

import asyncio
import json
import sys

import aiohttp

from bench.common import logged_in
from bench.sioclient import SioClient, SocketIOError

FRAME = "42" + json.dumps(["send_message", {"room": "lobby", "text": "spam"}])


async def flood(url: str, username: str, address: int) -> None:
    """Flood until cancelled."""
    http = await logged_in(url, username, address)
    while True:
        client = SioClient(http, url, events=frozenset())
        try:
            await client.connect()
            while client.connected:
                for _ in range(50):
                    await client.ws.send_str(FRAME)
                await asyncio.sleep(0)
        except (SocketIOError, aiohttp.ClientError, ConnectionError):
            await asyncio.sleep(0.05)
        finally:
            await client.close()


if __name__ == "__main__":
    asyncio.run(flood(sys.argv[1], sys.argv[2], int(sys.argv[3])))
