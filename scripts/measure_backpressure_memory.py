#!/usr/bin/env python3
"""Black-box memory check of slow-consumer handling (issue 4), against the real binary.

Starts hiveops-gateway, connects N clients that stop reading after the greeting and one
healthy client, publishes 4 KiB events through the REST broadcast endpoint at a steady
rate, and samples the gateway's resident memory from /proc. Prints one JSON record.

Needs PyPI `websockets`. Loopback only, bounded in time.
Usage: scripts/measure_backpressure_memory.py [--binary PATH] [--stalled 100] [--seconds 20] [--rate 500]
"""
import argparse
import asyncio
import json
import re
import subprocess
import threading
import time
import urllib.request

import websockets


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def metric(port, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/dashboard/metrics/websockets?format=json") as response:
        return json.load(response)["metrics"].get(name)


async def main(args):
    gateway = subprocess.Popen([args.binary, "--port", "0"], stderr=subprocess.PIPE, text=True)
    port = None
    while port is None:
        line = gateway.stderr.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if "ready" in line and match:
            port = int(match.group(1))
    # Keep draining the gateway's log, or a full pipe would stall it.
    threading.Thread(target=lambda: [None for _ in gateway.stderr], daemon=True).start()
    try:
        url = f"ws://127.0.0.1:{port}/api/dashboard/ws/agents"
        stalled = []
        for _ in range(args.stalled):
            # max_queue=1 and a small read limit: the client library stops reading the socket at once.
            client = await websockets.connect(url, max_queue=1, max_size=None)
            await client.recv()
            stalled.append(client)
        healthy = await websockets.connect(url, max_size=None)
        await healthy.recv()
        baseline = rss_bytes(gateway.pid)

        received = []

        async def read_healthy():
            while True:
                frame = json.loads(await healthy.recv())
                if frame.get("type") == "agent_update":
                    received.append(frame["data"]["sequence"])

        reader = asyncio.create_task(read_healthy())
        padding = "p" * 4096
        peak = baseline
        sent = 0
        deadline = time.monotonic() + args.seconds
        interval = 1.0 / args.rate
        next_send = time.monotonic()
        loop = asyncio.get_running_loop()
        while time.monotonic() < deadline:
            sent += 1
            body = json.dumps({"sequence": sent, "padding": padding}).encode()
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/dashboard/websocket/broadcast?subscription=agents&message_type=agent_update",
                data=body, method="POST", headers={"Content-Type": "application/json"})
            await loop.run_in_executor(None, lambda: urllib.request.urlopen(request).read())
            if sent % 50 == 0:
                peak = max(peak, rss_bytes(gateway.pid))
            next_send += interval
            await asyncio.sleep(max(0, next_send - time.monotonic()))
        await asyncio.sleep(3)
        reader.cancel()
        print(json.dumps({
            "stalled_clients": args.stalled,
            "events_sent": sent,
            "event_bytes": 4096,
            "healthy_received": len(received),
            "healthy_in_order_no_gap": received == list(range(1, sent + 1)),
            "rss_baseline_mib": round(baseline / 2**20, 1),
            "rss_peak_mib": round(peak / 2**20, 1),
            "rss_growth_mib": round((peak - baseline) / 2**20, 1),
            "bound_mib": round(args.stalled * (4194304 + 65536) / 2**20, 1),
            "backpressure_disconnects_total": metric(port, "hiveops_ws_backpressure_disconnects_total"),
            "open_connections_after": metric(port, "hiveops_ws_connections"),
        }))
    finally:
        gateway.terminate()
        gateway.wait(timeout=10)


parser = argparse.ArgumentParser()
parser.add_argument("--binary", default=".build/release/hiveops-gateway")
parser.add_argument("--stalled", type=int, default=100)
parser.add_argument("--seconds", type=float, default=20)
parser.add_argument("--rate", type=float, default=500)
asyncio.run(main(parser.parse_args()))
