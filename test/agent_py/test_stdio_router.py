"""Per-thread stdio routing (the console's): a routed thread reads and writes through its
sinks, every other thread keeps the streams the application had, and the originals are
put back when the last routed thread leaves."""

import copy
import io
import sys
import threading
import unittest

from _load import agent_package

agent_package()
from _spyglass_agent.commands.console import stdio_router  # noqa: E402


class RouterTest(unittest.TestCase):
    def setUp(self):
        self.saved = sys.stdin, sys.stdout, sys.stderr, sys.displayhook
        sys.stdin = io.StringIO('app line 1\napp line 2\n')
        sys.stdout = io.StringIO()
        sys.stderr = io.StringIO()
        self.originals = sys.stdin, sys.stdout, sys.stderr

    def tearDown(self):
        sys.stdin, sys.stdout, sys.stderr, sys.displayhook = self.saved

    def routed(self, body):
        """Runs body() on a thread routed to sinks; returns (what it wrote, what body returned)."""
        written = []
        typed = iter(['console line 1\n', 'console line 2\n', ''])
        result = {}
        entered, release = threading.Event(), threading.Event()

        def run():
            stdio_router.route_current_thread(lambda: next(typed), written.append, written.append, written.append)
            try:
                result['value'] = body()
                entered.set()
                release.wait(5)
            finally:
                stdio_router.unroute_current_thread()

        t = threading.Thread(target=run)
        t.start()
        entered.wait(5)
        return written, result, release, t

    def test_routed_thread_uses_its_sinks_others_the_originals(self):
        def body():
            print('to the console')
            name = input('Name: ')
            rest = sys.stdin.read()
            try:
                sys.stdin.fileno()
                fd = 'has a fileno'
            except io.UnsupportedOperation:
                fd = 'no fileno'
            return name, rest, fd, sys.stdin.isatty()

        written, result, release, t = self.routed(body)
        # meanwhile, on this (application) thread: the application's own streams
        print('app output')
        self.assertEqual(sys.stdin.readline(), 'app line 1\n')
        self.assertEqual([line for line in sys.stdin], ['app line 2\n'])
        release.set()
        t.join(5)
        self.assertEqual(result['value'], ('console line 1', 'console line 2\n', 'no fileno', False))
        self.assertEqual(''.join(written), 'to the console\nName: ')
        self.assertEqual(self.originals[1].getvalue(), 'app output\n')
        # the last routed thread gone: the very same stream objects are back
        self.assertEqual((sys.stdin, sys.stdout, sys.stderr), self.originals)
        self.assertEqual(stdio_router.routed_thread_count(), 0)

    def test_no_stdin_stays_none_for_the_application(self):
        sys.stdin = None
        _, result, release, t = self.routed(lambda: sys.stdin is None)
        self.assertIsNone(sys.stdin)
        release.set()
        t.join(5)
        self.assertTrue(result['value'])

    def test_the_proxy_can_be_copied_while_a_console_is_open(self):
        # the application (or tt's deep copy of an argument holding sys.stdout) copying the
        # proxy once died of RecursionError in __getattr__
        _, _, release, t = self.routed(lambda: None)
        try:
            proxy = sys.stdout
            self.assertIsInstance(proxy, stdio_router._RoutedStream)
            self.assertIs(copy.copy(proxy), proxy)
            self.assertIs(copy.deepcopy({'out': proxy})['out'], proxy)
            proxy.write('still the stream\n')
            self.assertEqual(self.originals[1].getvalue(), 'still the stream\n')
            with self.assertRaises(AttributeError):
                _ = object.__new__(stdio_router._RoutedStream).encoding
        finally:
            release.set()
            t.join(5)


if __name__ == '__main__':
    unittest.main()
