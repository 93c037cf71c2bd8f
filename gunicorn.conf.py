"""gunicorn's settings, read from the working directory by `make run` and by the server tests."""

from __future__ import annotations

import gc
import json
import socket

from gunicorn import util

# The longest request line the API accepts (a 200-character cursor and a 100-character `q`, each
# character up to 12 bytes once percent-encoded, and the other filters) fits with room to spare; the
# default (4094) leaves almost none, and a longer line never reaches the application.
limit_request_line = 8190


def write_problem(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """What gunicorn refuses before the application sees it (a request line over the limit: 414,
    headers over the limit: 431, a malformed request: 400) is answered as problem+json, as every
    other error of the API is, not as gunicorn's HTML page."""
    body = json.dumps(
        {"type": "about:blank", "title": reason, "status": status_int, "detail": mesg}, ensure_ascii=False
    ).encode("utf-8")
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/problem+json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode("latin-1")
    util.write_nonblock(sock, head + body)


# Workers are forked from the process that reads this file, and call `util.write_error` for these.
util.write_error = write_problem


def post_worker_init(worker: object) -> None:
    """The application is loaded: its modules, schemas and compiled statements live as long as the
    worker. Frozen out of the collector's sight, a full collection no longer walks them all (about
    60 ms in the middle of some request otherwise)."""
    gc.freeze()
