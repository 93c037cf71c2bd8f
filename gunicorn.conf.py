"""gunicorn's settings, read from the working directory by `make run` and by the server tests.

Requests gunicorn itself refuses before the application sees them (a request line over the limit:
414, headers over the limit: 431, a malformed request: 400) get gunicorn's own short answer, not a
problem+json body: docs/operations.md says so.

Every answer carries `Server: gunicorn`, without a version (gunicorn writes it itself, after the
application's headers, and drops a `Server` header the application sets). gunicorn has no setting to
leave it out, and changing gunicorn's internals is not worth a header that names no version: the
reverse proxy in front removes it (docs/operations.md: nginx drops it by default; `server_tokens off;`
keeps nginx's own version out).
"""

# The longest request line the API accepts (a 200-character cursor and a 100-character `q`, each
# character up to 12 bytes once percent-encoded, and the other filters) fits with room to spare; the
# default (4094) leaves almost none.
limit_request_line = 8190
