#!/usr/bin/env python3
"""What a stranger can send the listener, for tests/integration/test_listener_attacks.sh.

Each subcommand sends one kind of attack to 127.0.0.1:PORT and prints what came back on one
line (status codes, counts), never failing itself: the test decides. Every socket has a
timeout, so nothing here waits forever. Standard library only.

  gzip PORT PATH MEGABYTES [HEADER ...]   a gzip body that inflates to MEGABYTES of zeros
  chunked PORT PATH MEGABYTES             a chunked body of MEGABYTES of JSON-ish bytes
  headers PORT PATH COUNT                 a request with COUNT header lines
  pipeline PORT PATH COUNT                COUNT callbacks in one write on one connection
  forge PORT PATH COUNT BYTES             COUNT callbacks for new task ids, each with an
                                          output_data of empty objects about BYTES long
  objects PORT PATH MEGABYTES             one callback whose output_data is MEGABYTES of {}
"""
import gzip
import json
import re
import socket
import sys
import time
import uuid


def connect(port, timeout=30):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.settimeout(timeout)
    return s


def read_answer(s):
    """The status code of the first answer on `s` ("reset"/"closed"/"timeout" otherwise)."""
    data = b""
    try:
        while b"\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                return "closed"
            data += chunk
    except socket.timeout:
        return "timeout"
    except OSError:
        return "reset"
    return data.split(b" ", 2)[1].decode()


def request_head(path, headers, length=None):
    lines = ["POST %s HTTP/1.1" % path, "Host: 127.0.0.1", "Content-Type: application/json"]
    lines += headers
    if length is not None:
        lines.append("Content-Length: %d" % length)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def send_body(s, head, body_chunks):
    """Sends the head then the chunks; stops at the first refusal (the server closed)."""
    try:
        s.sendall(head)
        for chunk in body_chunks:
            s.sendall(chunk)
    except OSError:
        pass
    return read_answer(s)


def callback(task_id, output_data):
    return json.dumps({"task_id": task_id, "status": "success", "output_data": output_data,
                       "error": None}, separators=(",", ":")).encode()


def empty_objects(nbytes):
    return "[" + ",".join(["{}"] * max(1, nbytes // 3)) + "]"


def main():
    kind, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    args = sys.argv[4:]
    if kind == "gzip":
        body = gzip.compress(b"\0" * (int(args[0]) << 20), compresslevel=9)
        headers = ["Content-Encoding: gzip"] + args[1:]
        s = connect(port)
        print(send_body(s, request_head(path, headers, len(body)), [body]))
    elif kind == "chunked":
        total = int(args[0]) << 20
        piece = b"[" + b"0," * (65536 // 2 - 1) + b"0]"

        def chunks():
            sent = 0
            while sent < total:
                yield b"%x\r\n%s\r\n" % (len(piece), piece)
                sent += len(piece)
            yield b"0\r\n\r\n"

        s = connect(port)
        print(send_body(s, request_head(path, ["Transfer-Encoding: chunked"]), chunks()))
    elif kind == "headers":
        s = connect(port)
        head = request_head(path, ["X-%d: %d" % (i, i) for i in range(int(args[0]))], 2)
        print(send_body(s, head, [b"{}"]))
    elif kind == "pipeline":
        count = int(args[0])
        one = b""
        for _ in range(count):
            body = callback("pipelined-" + uuid.uuid4().hex, [])
            one += request_head(path, [], len(body)) + body
        s = connect(port, timeout=4)  # under the 5 s an idle connection is kept
        s.sendall(one)
        codes, data = [], b""
        try:
            while len(codes) < count:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
                codes = [m.decode() for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)]
        except OSError:
            pass
        print(" ".join(codes) if codes else "none")
    elif kind == "forge":
        count, nbytes = int(args[0]), int(args[1])
        output = json.loads(empty_objects(nbytes))
        seen = {}
        for _ in range(count):
            body = callback("forged-" + uuid.uuid4().hex, output)
            s = connect(port)
            code = send_body(s, request_head(path, [], len(body)), [body])
            s.close()
            seen[code] = seen.get(code, 0) + 1
        print(" ".join("%sx%d" % (c, n) for c, n in sorted(seen.items())))
    elif kind == "objects":
        body = ('{"task_id":"objects-%s","status":"success","output_data":%s}' % (
            uuid.uuid4().hex, empty_objects(int(args[0]) << 20))).encode()
        s = connect(port, timeout=120)
        start = time.monotonic()
        code = send_body(s, request_head(path, [], len(body)), [body])
        print("%s %.2f" % (code, time.monotonic() - start))
    else:
        sys.exit("attack.py: unknown attack " + kind)


if __name__ == "__main__":
    main()
