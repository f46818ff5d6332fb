"""A small order-processing service used by `spyglass demo` (standard library only).

It runs an HTTP API on 127.0.0.1 (a random free port), a load generator that calls it,
worker threads that price orders, and a cache refresher that wakes up now and then, so
its thread stacks show recognizable work. It prints "READY port=N" once everything runs.

    python3 examples/sample_service.py [--port N]
"""
import http.client
import json
import queue
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ORDERS = queue.Queue(maxsize=100)
PRICES = {"apple": 0.5, "pear": 0.75, "plum": 0.3, "melon": 2.5}
STATS = {"priced": 0, "served": 0}
CACHE = {}


def price_order(order):
    total = 0.0
    for item, qty in order["items"]:
        unit = PRICES[item]
        # a deliberately slow discount rule, so the workers show up in samples
        for step in range(20000):
            unit = unit * 0.9999 + 0.00001 * (step % 7)
        total += unit * qty
    return round(total, 2)


def order_worker():
    while True:
        order = ORDERS.get()
        order["total"] = price_order(order)
        STATS["priced"] += 1
        ORDERS.task_done()


def refresh_cache():
    while True:
        CACHE["prices"] = dict(PRICES)
        CACHE["refreshed_at"] = time.time()
        time.sleep(0.5)


class Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a client's requests share one connection
    disable_nagle_algorithm = True  # headers and body go out in two writes: no delayed-ACK stall between them

    def do_GET(self):
        body = json.dumps(STATS).encode()
        STATS["served"] += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        order = json.loads(self.rfile.read(length))
        ORDERS.put(order)
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def generate_load(port):
    rng = random.Random(7)
    # one kept-alive connection, as a client library would hold it
    conn = http.client.HTTPConnection("127.0.0.1", port)
    while True:
        items = [[rng.choice(sorted(PRICES)), rng.randint(1, 5)] for _ in range(3)]
        conn.request("POST", "/orders", body=json.dumps({"items": items}), headers={"Content-Type": "application/json"})
        conn.getresponse().read()
        conn.request("GET", "/stats")
        conn.getresponse().read()
        # clients think between orders: some 70 orders a second, the workers busy a good part of the time
        time.sleep(0.01)


def main():
    port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 0
    server = ThreadingHTTPServer(("127.0.0.1", port), Api)
    server.daemon_threads = True
    threads = [threading.Thread(target=server.serve_forever, name="http-server", daemon=True)]
    threads += [threading.Thread(target=order_worker, name="order-worker-%d" % i, daemon=True) for i in (1, 2)]
    threads.append(threading.Thread(target=refresh_cache, name="cache-refresher", daemon=True))
    threads.append(threading.Thread(target=generate_load, args=(server.server_address[1],), name="load-generator", daemon=True))
    for t in threads:
        t.start()
    while STATS["priced"] < 3:
        time.sleep(0.05)
    print("READY port=%d" % server.server_address[1], flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
