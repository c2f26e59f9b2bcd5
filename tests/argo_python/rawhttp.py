"""HTTP/1.1 over a plain socket, for tests that need exact bytes on the wire: HEAD without a
body, pipelining, raw request targets, keep-alive across a signal."""

from __future__ import annotations

import socket
from dataclasses import dataclass


@dataclass
class RawReply:
    status: int
    headers: dict[str, str]
    body: bytes


class RawConnection:
    """One keep-alive connection; `exchange` sends a request and reads exactly one response."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def __enter__(self) -> RawConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def send(self, method: str, target: str, *headers: str) -> None:
        lines = [f"{method} {target} HTTP/1.1", "Host: test", *headers, "", ""]
        self.sock.sendall("\r\n".join(lines).encode("latin-1"))

    def read(self, method: str = "GET") -> RawReply:
        """Read one response; a HEAD response or a 204/304 has no body, whatever it declares."""
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        status = int(status_line.split()[1])
        length = 0 if method == "HEAD" or status in (204, 304) else int(headers["content-length"])
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return RawReply(status, headers, body)

    def exchange(self, method: str, target: str, *headers: str) -> RawReply:
        self.send(method, target, *headers)
        return self.read(method)

    def closed_by_peer(self) -> bool:
        """True once the server has closed the connection and nothing is left to read."""
        return not self.buffer and self.sock.recv(1) == b""

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection mid-response")
        self.buffer += chunk
