#!/usr/bin/env python3
"""A fake Optexity service for refusal tests: answers every request with one fixed answer.

    fake_service.py STATUS BODY LOG

Listens on a free 127.0.0.1 port and prints it on stdout. Every request is answered STATUS with
BODY (application/json), and one line "METHOD PATH x-api-key=yes|no" is appended to LOG, so a
test can count the requests that reached it. Standard library only.
"""

import http.server
import os
import sys


def main():
    status, body, log = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            has_key = "yes" if self.headers.get("x-api-key") else "no"
            os.write(fd, f"{self.command} {self.path} x-api-key={has_key}\n".encode())
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = answer
        do_POST = answer

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
