#!/usr/bin/env python3
# httpd.py: a small HTTP/1.1 test server on a TCP port and/or a unix socket.
#
#   httpd.py [--tcp HOST:PORT] [--unix PATH] [--port-file FILE]
#
# PORT 0 picks a free port; FILE receives the TCP port (0 without --tcp)
# once every socket listens, so a test can wait for it.  SIGTERM and SIGINT
# stop it cleanly (the unix socket file is removed).
#
# Endpoints:
#   GET  /hello       200 "hello\n" with header "X-Test: yes" (HEAD too)
#   *    /echo        200, the request body back; "X-Method: <method>"
#   GET  /headers     200, the request headers as "Name: value" lines
#   GET  /status/NNN  status NNN
#   GET  /stream      200, chunked: "chunk N\n" for N in 0..4, 100 ms apart
#   GET  /slow        200 "slow\n" after 5 s
#   GET  /big         200, 1 MiB: byte i is i % 251
import argparse
import http.server
import os
import signal
import socket
import socketserver
import sys
import threading
import time

BIG = bytes(i % 251 for i in range(1 << 20))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive and chunked replies

    def log_message(self, fmt, *args):
        if os.environ.get("HTTPD_VERBOSE"):
            sys.stderr.write("httpd: " + (fmt % args) + "\n")

    def address_string(self):
        # A unix socket peer has no address.
        return self.client_address[0] if self.client_address else "unix"

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        has_body = status >= 200 and status not in (204, 304)
        if has_body:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if has_body and self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def stream(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for n in range(5):
            if n:
                time.sleep(0.1)
            data = b"chunk %d\n" % n
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def route(self):
        path = self.path.split("?")[0]
        if path == "/echo":
            body = self.read_body()
            return self.reply(200, body, [("X-Method", self.command)])
        self.read_body()  # keep the connection usable
        if path == "/hello":
            return self.reply(200, b"hello\n", [("X-Test", "yes"),
                                                ("Content-Type", "text/plain")])
        if path == "/headers":
            text = "".join("%s: %s\n" % kv for kv in self.headers.items())
            return self.reply(200, text.encode())
        if path.startswith("/status/") and path[8:].isdigit():
            status = int(path[8:])
            return self.reply(status, b"status %d\n" % status)
        if path == "/stream":
            return self.stream()
        if path == "/slow":
            time.sleep(5)
            return self.reply(200, b"slow\n")
        if path == "/big":
            return self.reply(200, BIG)
        return self.reply(404, b"not found\n")

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = route


class Quiet:
    """Peers that hang up early (cancelled or timed-out requests) are normal."""

    daemon_threads = True
    request_queue_size = 128  # tests open many connections at once

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class TCPServer(Quiet, http.server.ThreadingHTTPServer):
    pass


class TCP6Server(TCPServer):
    address_family = socket.AF_INET6


class UnixServer(Quiet, socketserver.ThreadingMixIn,
                 socketserver.UnixStreamServer):
    pass


def main():
    ap = argparse.ArgumentParser(description="HTTP server for Berth's tests")
    ap.add_argument("--tcp", help="HOST:PORT to listen on (PORT 0: any)")
    ap.add_argument("--unix", help="unix socket path to listen on")
    ap.add_argument("--port-file", help="write the TCP port here when ready")
    args = ap.parse_args()
    if not args.tcp and not args.unix:
        ap.error("give --tcp, --unix or both")

    servers, port = [], 0
    if args.tcp:
        host, _, p = args.tcp.rpartition(":")
        cls = TCP6Server if ":" in host else TCPServer
        srv = cls((host.strip("[]"), int(p)), Handler)
        port = srv.server_address[1]
        servers.append(srv)
    if args.unix:
        if os.path.exists(args.unix):
            os.unlink(args.unix)
        servers.append(UnixServer(args.unix, Handler))

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    for srv in servers:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.rename(tmp, args.port_file)  # readers never see it half-written

    while not stop.wait(1):
        pass
    for srv in servers:
        srv.shutdown()
        srv.server_close()
    if args.unix and os.path.exists(args.unix):
        os.unlink(args.unix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
