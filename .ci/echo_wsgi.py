"""A tiny WSGI upstream for proxy tests behind nginx's uwsgi_pass,
fastcgi_pass and scgi_pass: answers every request with the CGI variable of
the header named by ECHO_HEADER (default X-Forwarded-Client-Cert:
HTTP_X_FORWARDED_CLIENT_CERT), as a WSGI app reads it, or "<absent>".

Served by a real uWSGI (`uwsgi --socket ... --wsgi-file echo_wsgi.py`) or
by flup (`python echo_wsgi.py fastcgi|scgi PORT`).
"""
import os
import sys

HEADER = os.environ.get("ECHO_HEADER", "X-Forwarded-Client-Cert")
VAR = "HTTP_" + HEADER.upper().replace("-", "_")


def application(environ, start_response):
    value = environ.get(VAR)
    body = (f"{0 if value is None else 1}\n" + (value if value is not None else "<absent>")).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


if __name__ == "__main__":
    protocol, port = sys.argv[1], int(sys.argv[2])
    if protocol == "fastcgi":
        from flup.server.fcgi import WSGIServer
    else:
        from flup.server.scgi import WSGIServer
    WSGIServer(application, bindAddress=("127.0.0.1", port)).run()
