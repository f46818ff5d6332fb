"""The module the reload tests rewrite on disk (a copy in a temporary directory, imported by
reload_host.py). Each function returns something that says which version ran."""
import asyncio
import functools

RATE = 2


def price(x):
    return x * RATE


def tagged(fn):
    @functools.wraps(fn)
    def wrapper(*a, **k):
        return ('tag', fn(*a, **k))
    return wrapper


@tagged
def label(x):
    return 'v1:%s' % x


def scaled(x, factor=1):
    return x * factor


def make_counter():
    step = 1

    def count(n):
        return n + step
    return count


class Shop(object):
    def __init__(self):
        self.__secret = 5

    def total(self, items):
        return sum(items)

    def secret(self):
        return self.__secret

    @classmethod
    def kind(cls):
        return 'shop'

    @staticmethod
    def tax(x):
        return x // 10

    async def fetch(self, x):
        await asyncio.sleep(0)
        return x + 1
