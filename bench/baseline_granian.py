"""The bare baseline: granian's own embedded RSGI server, as documented, with the smallest RSGI
application that answers the benchmark's routes. Only bench/ uses it.

This is what argo-python ran on before its engine (src/argo_python/engine.py): the server the
lean layer is measured against, and, with granian's defaults (backpressure = the 1,024
backlog, 30 s header timeout), the flood benchmark's baseline.

Run: python bench/baseline_granian.py PORT
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from granian.constants import HTTPModes, Interfaces
from granian.server.embed import Server

HELLO = b'{"message":"Hello from argo-python!"}'
HEADERS = [("content-type", "application/json")]


def fib(n: int) -> int:
    a, b = 0, 1
    for bit in bin(n)[2:]:
        c = a * ((b << 1) - a)
        d = a * a + b * b
        a, b = (d, c + d) if bit == "1" else (c, d)
    return a


async def app(scope: Any, protocol: Any) -> None:
    path = scope.path
    if path.startswith("/fibonacci/"):
        n = int(path[len("/fibonacci/") :])
        protocol.response_bytes(200, HEADERS, b'{"n":%d,"result":%d}' % (n, fib(n)))
    elif path in ("/hello", "/healthz"):
        protocol.response_bytes(200, HEADERS, HELLO)
    else:
        protocol.response_bytes(404, HEADERS, b'{"error":"not_found"}')


async def main(port: int) -> None:
    sys.set_int_max_str_digits(0)
    server = Server(
        app,
        address="127.0.0.1",
        port=port,
        interface=Interfaces.RSGI,
        http=HTTPModes.http1,
        websockets=False,
    )
    await server.serve()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
