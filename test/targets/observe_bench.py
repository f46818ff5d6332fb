"""Target for bench/observe.ts: a hot function of a few microseconds and a request handler
of realistic shape (decode, validate, a 1 ms database wait, compute, render: ~100 Python
calls), in a sync and an async def version, timed
by the target itself on its main thread, forever, in alternating batches:

  HOT <start> <end> <wall ns> <cpu ns>      per call, a batch of hot() calls
  SERVE <start> <end> <wall us> <cpu us>    per request, a batch of handle_request() calls
  ASERVE <start> <end> <wall us> <cpu us>   per request, a batch of handle_request_async()
                                            calls awaited one after another on an asyncio loop

(start/end: time.time(); cpu: the process's CPU time, every thread), so a benchmark compares the batches that ran while a tool was
observing with those that ran before, whichever tool it is. The agent is loaded as in
observe_app.py: SIGUSR1 runs the bootstrap source named by SPYGLASS_TEST_BOOTSTRAP in
__main__'s namespace (a reference tool that attaches by itself needs nothing from this).
"""
import asyncio
import json
import os
import signal
import sys
import time


def hot(x):
    # a few microseconds of pure-Python work
    total = 0
    for i in range(80):
        total += (x ^ i) & 7
    return total


USERS = {i: {'id': i, 'name': 'user%d' % i, 'tier': ('free', 'pro', 'team')[i % 3]} for i in range(500)}
PRICES = {'free': 0.0, 'pro': 12.5, 'team': 40.0}


def decode(body):
    return json.loads(body)


def validate(request):
    for key in ('user', 'items', 'coupon'):
        if key not in request:
            raise ValueError('missing %s' % key)
    return request


DB_SECONDS = 0.001  # the round trip to a database a real handler waits for


def lookup_user(user_id):
    time.sleep(DB_SECONDS)
    return USERS[user_id % len(USERS)]


def line_total(item, tier):
    price = item['price'] * item['qty']
    return price * (0.9 if tier == 'team' else 1.0)


def apply_coupon(total, coupon):
    return total - min(total, 5.0) if coupon else total


def render(user, items, total):
    rows = ['<li>%s x%d</li>' % (item['sku'], item['qty']) for item in items]
    return '<h1>%s</h1><ul>%s</ul><p>%.2f</p>' % (user['name'], ''.join(rows), total)


def handle_request(body):
    request = validate(decode(body))
    user = lookup_user(request['user'])
    total = PRICES[user['tier']]
    for item in request['items']:
        total += line_total(item, user['tier'])
    total = apply_coupon(total, request['coupon'])
    return render(user, request['items'], total)


async def lookup_user_async(user_id):
    await asyncio.sleep(DB_SECONDS)
    return USERS[user_id % len(USERS)]


async def handle_request_async(body):
    # handle_request as an asyncio service writes it: the database wait is awaited
    request = validate(decode(body))
    user = await lookup_user_async(request['user'])
    total = PRICES[user['tier']]
    for item in request['items']:
        total += line_total(item, user['tier'])
    total = apply_coupon(total, request['coupon'])
    return render(user, request['items'], total)


REQUESTS = [json.dumps({'user': u, 'coupon': u % 2 == 0,
                        'items': [{'sku': 'sku%d' % k, 'price': 1.5 + k, 'qty': 1 + k % 3} for k in range(30)]})
            for u in range(50)]


def run_bootstrap(signum, frame):
    with open(os.environ['SPYGLASS_TEST_BOOTSTRAP']) as f:
        source = f.read()
    exec(compile(source, '<string>', 'exec'), sys.modules['__main__'].__dict__)


HOT_BATCH = 20000
SERVE_BATCH = 200


def timed(label, fn, n, unit):
    # wall time per call, and the whole process's CPU time per call: the latter includes
    # what an observer's own threads spend, and is not inflated by other processes' load
    t0 = time.time()
    w0 = time.perf_counter()
    c0 = time.process_time()
    for i in range(n):
        fn(i)
    wall = (time.perf_counter() - w0) / n * unit
    cpu = (time.process_time() - c0) / n * unit
    print('%s %.4f %.4f %.2f %.2f' % (label, t0, time.time(), wall, cpu), flush=True)


def serve(i):
    return handle_request(REQUESTS[i % len(REQUESTS)])


async def serve_async(n):
    for i in range(n):
        await handle_request_async(REQUESTS[i % len(REQUESTS)])


def timed_async(label, loop, n, unit):
    t0 = time.time()
    w0 = time.perf_counter()
    c0 = time.process_time()
    loop.run_until_complete(serve_async(n))
    wall = (time.perf_counter() - w0) / n * unit
    cpu = (time.process_time() - c0) / n * unit
    print('%s %.4f %.4f %.2f %.2f' % (label, t0, time.time(), wall, cpu), flush=True)


def main():
    if os.environ.get('SPYGLASS_TEST_BOOTSTRAP'):
        signal.signal(signal.SIGUSR1, run_bootstrap)
    print('READY ' + json.dumps({'globals': sorted(vars(sys.modules['__main__']))}), flush=True)
    loop = asyncio.new_event_loop()
    while True:
        timed('HOT', hot, HOT_BATCH, 1e9)
        timed('SERVE', serve, SERVE_BATCH, 1e6)
        timed_async('ASERVE', loop, SERVE_BATCH, 1e6)


if __name__ == '__main__':
    main()
