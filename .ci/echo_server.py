#!/usr/bin/env python3
"""A tiny upstream for proxy tests: answers every request with the raw value
of the header named by ECHO_HEADER (default X-Forwarded-Client-Cert), or
"<absent>", and the number of such header lines on the first line.

Usage: echo_server.py PORT
"""
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HEADER = os.environ.get("ECHO_HEADER", "X-Forwarded-Client-Cert")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        values = self.headers.get_all(HEADER) or []
        body = (f"{len(values)}\n" + ("\n".join(values) if values else "<absent>")).encode()
        self.send_response(200)
        self.send_header("content-type", "text/plain")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
