#!/usr/bin/env python3
"""permessage-deflate against the real gateway binary, with an independent client.

Python `websockets` (which offers permessage-deflate by default) receives the real frame shapes
compressed and a plain client the same frames uncompressed; a decompression bomb (a few KB that
inflate past the 64 KiB message limit) is refused with 1009, many times over, with the gateway's
memory flat; invalid DEFLATE data gets 1007. Exits non-zero on the first failed check.

Usage: scripts/compression_interop.py [gateway binary]   (default .build/debug/hiveops-gateway)
"""

import asyncio
import base64
import json
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import urllib.request
import zlib

import websockets

BINARY = sys.argv[1] if len(sys.argv) > 1 else ".build/debug/hiveops-gateway"
TOPICS = "agents,alerts,system"


def check(condition, message):
    if not condition:
        raise SystemExit(f"compression interop: FAILED: {message}")


def start_gateway():
    process = subprocess.Popen([BINARY, "--port", "0"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    for line in process.stderr:
        match = re.search(r"address=http://127\.0\.0\.1:(\d+)", line)
        if match and "hiveops-gateway ready" in line:
            # Keep draining its log, so that it never blocks on a full pipe.
            threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()
            return process, int(match.group(1))
    raise SystemExit("compression interop: the gateway did not report ready")


def post(port, topic, message_type, data):
    url = f"http://127.0.0.1:{port}/api/dashboard/websocket/broadcast?subscription={topic}&message_type={message_type}"
    request = urllib.request.Request(url, data=json.dumps(data).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        check(response.status == 200, f"broadcast answered {response.status}")


def metric(port, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
    raise SystemExit(f"compression interop: no metric {name}")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# The frame shapes HiveOps sends, with realistic sizes.
FLEET = {"agents": [
    {"id": f"agent-{i}", "name": f"worker-{i}", "status": "idle" if i % 7 == 0 else "active",
     "current_task": {"id": f"task-{1000 + i}", "title": "Index the repository and summarise changes", "progress": (i * 13) % 100},
     "capabilities": ["python", "swift", "review"], "load": (i % 10) / 10, "last_heartbeat": f"2026-12-02T14:0{i % 10}:00.000Z"}
    for i in range(60)
]}
SYSTEM = {"cpu_percent": 41.5, "memory_percent": 63.2, "active_agents": 57, "queued_tasks": 12,
          "components": {name: {"status": "healthy", "latency_ms": 3.1} for name in ["redis", "postgres", "orchestrator", "scheduler"]}}
ALERT = {"alerts": [{"id": "disk-full", "severity": "critical", "message": "Disk usage above 95% on worker-12",
                     "source": "monitor", "timestamp": "2026-12-02T14:00:00.000Z"}]}
SHAPES = [("agents", "agent_update", FLEET), ("system", "system_event", SYSTEM), ("alerts", "critical_alert", ALERT)]


async def receive(ws, wanted):
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        if frame["type"] == wanted:
            return frame


async def interop(port):
    url = f"ws://127.0.0.1:{port}/api/dashboard/ws/dashboard?subscriptions={TOPICS}"
    async with websockets.connect(url) as compressed, websockets.connect(url, compression=None) as plain:
        answer = compressed.response.headers.get("Sec-WebSocket-Extensions", "")
        check(answer.startswith("permessage-deflate") and "server_no_context_takeover" in answer, f"answer {answer!r}")
        check("Sec-WebSocket-Extensions" not in plain.response.headers, "the plain client got an extension")
        for ws in (compressed, plain):
            await receive(ws, "dashboard_initialized")
        # websockets compresses what it sends: the gateway inflates it.
        await compressed.send(json.dumps({"type": "subscribe", "subscriptions": ["tasks"]}))
        updated = await receive(compressed, "subscription_updated")
        check("tasks" in updated["subscriptions"], f"subscribe through deflate: {updated}")
        before = metric(port, "hiveops_ws_compression_bytes_after_total")
        for topic, message_type, data in SHAPES:
            post(port, topic, message_type, data)
            got = await receive(compressed, message_type)
            reference = await receive(plain, message_type)
            check(got == reference, f"{message_type}: compressed {got} != plain {reference}")
        sent = metric(port, "hiveops_ws_compression_bytes_after_total") - before
        check(sent > 0, "nothing was counted as sent compressed")
        ratio = metric(port, "hiveops_ws_compression_bytes_after_total") / metric(port, "hiveops_ws_compression_bytes_before_total")
        check(ratio < 0.5, f"compressed/uncompressed bytes {ratio:.2f}")
        print(f"compression interop: websockets {websockets.__version__} got {len(SHAPES)} frame shapes compressed, "
              f"equal to a plain client's; wire/uncompressed {ratio:.2f}")


def raw_handshake(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /api/dashboard/ws/dashboard HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                  "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        check(chunk, "handshake cut")
        head += chunk
    check(b" 101 " in head.split(b"\r\n")[0] and b"permessage-deflate" in head, f"handshake: {head[:200]!r}")
    return sock, head.split(b"\r\n\r\n", 1)[1]


def compressed_frame(payload):
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    header = bytes([0xC1])  # FIN, RSV1, text
    length = len(payload)
    if length < 126:
        header += bytes([0x80 | length])
    elif length < 65536:
        header += bytes([0x80 | 126]) + struct.pack("!H", length)
    else:
        header += bytes([0x80 | 127]) + struct.pack("!Q", length)
    return header + mask + masked


def close_code(sock, pending):
    """Reads frames until a close frame; returns its code."""
    buffer = pending
    while True:
        while len(buffer) >= 2:
            opcode, length = buffer[0] & 0x0F, buffer[1] & 0x7F
            offset = 2
            if length == 126:
                length, offset = struct.unpack("!H", buffer[2:4])[0], 4
            elif length == 127:
                length, offset = struct.unpack("!Q", buffer[2:10])[0], 10
            if len(buffer) < offset + length:
                break
            payload, buffer = buffer[offset:offset + length], buffer[offset + length:]
            if opcode == 0x8:
                return struct.unpack("!H", payload[:2])[0]
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buffer += chunk


def deflate_raw(data):
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return (compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]


def bombs(port, pid):
    bomb = deflate_raw(b" " * (4 << 20))  # 4 MiB of spaces: about 4 KB on the wire
    check(len(bomb) < 8192, f"the bomb is {len(bomb)} bytes")

    def one(payload):
        sock, pending = raw_handshake(port)
        try:
            sock.sendall(compressed_frame(payload))
            return close_code(sock, pending)
        finally:
            sock.close()

    check(one(bomb) == 1009, "a bomb was not closed with 1009")
    baseline = rss_kib(pid)
    for _ in range(200):
        check(one(bomb) == 1009, "a bomb was not closed with 1009")
    grown = rss_kib(pid) - baseline
    check(grown < 16 * 1024, f"the gateway grew {grown} KiB over 200 bombs")
    check(one(b"\xff\xff\xff\xff") == 1007, "invalid DEFLATE data was not closed with 1007")
    print(f"compression interop: 201 bombs of {len(bomb)} bytes (4 MiB inflated) closed with 1009, "
          f"RSS {baseline // 1024} -> {rss_kib(pid) // 1024} MiB; invalid DEFLATE data 1007")


def main():
    process, port = start_gateway()
    try:
        asyncio.run(interop(port))
        bombs(port, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
