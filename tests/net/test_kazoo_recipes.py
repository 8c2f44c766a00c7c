#!/usr/bin/python3
"""Real-client test: kazoo 2.8 recipes under contention.

Several KazooClient instances (one per simulated process, each used from its own
thread) contend on: Counter, Lock (mutual exclusion checked both in-process and via a
non-atomic read-modify-write on a znode), Semaphore, ReadLock/WriteLock, Election
(the leader's client is stopped and another candidate must take over), Queue and
LockingQueue (several producers and consumers, every item consumed exactly once),
Barrier and DoubleBarrier.

Server flavour from PD_TEST_SERVER: "paddock" (default) or "zookeeper".
Run: /usr/bin/python3 tests/net/test_kazoo_recipes.py
"""
import logging
import os
import signal
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ next to the sources
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

from kazoo.client import KazooClient  # noqa: E402
from kazoo.exceptions import LockTimeout  # noqa: E402
from kazoo.recipe.barrier import Barrier, DoubleBarrier  # noqa: E402
from kazoo.recipe.counter import Counter  # noqa: E402
from kazoo.recipe.election import Election  # noqa: E402
from kazoo.recipe.lock import Lock, ReadLock, Semaphore, WriteLock  # noqa: E402
from kazoo.recipe.queue import LockingQueue, Queue  # noqa: E402

SERVER_KIND = os.environ.get("PD_TEST_SERVER", "paddock")
logging.basicConfig(level=logging.DEBUG if os.environ.get("PD_TEST_DEBUG") else logging.CRITICAL,
                    format="%(asctime)s %(threadName)s %(name)s %(message)s")


def wait_until(pred, timeout=10.0, step=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def run_threads(targets, timeout=40.0):
    """Runs callables in threads; re-raises the first exception; fails on a hang."""
    errors = []

    def wrap(fn):
        def inner():
            try:
                fn()
            except BaseException as e:  # noqa: BLE001
                errors.append(e)
        return inner

    threads = [threading.Thread(target=wrap(t), daemon=True) for t in targets]
    for t in threads:
        t.start()
    deadline = time.time() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.time()))
    hung = [t for t in threads if t.is_alive()]
    if errors:
        raise errors[0]
    if hung:
        raise AssertionError("%d of %d threads still running after %.0fs" % (len(hung), len(threads), timeout))


class Recipes(unittest.TestCase):
    server = None

    @classmethod
    def setUpClass(cls):
        cls.server = harness.server_class(SERVER_KIND)(extra={"maxClientCnxns": "0"}).start()
        print("# %s server on %s" % (SERVER_KIND, cls.server.hosts), file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.clients = []
        self.root = "/" + self.id().split(".")[-1]

    def tearDown(self):
        for c in self.clients:
            try:
                c.stop()
                c.close()
            except Exception:  # noqa: BLE001
                pass

    def client(self):
        c = KazooClient(hosts=self.server.hosts, timeout=10.0)
        c.start(timeout=15)
        self.clients.append(c)
        return c

    # --- Counter ----------------------------------------------------------------
    def test_counter(self):
        n_clients, n_incr = 5, 20
        path = self.root + "/counter"
        clients = [self.client() for _ in range(n_clients)]

        def worker(c):
            def run():
                counter = Counter(c, path)
                for _ in range(n_incr):
                    counter += 1
            return run

        run_threads([worker(c) for c in clients])
        check = Counter(self.client(), path)
        self.assertEqual(check.value, n_clients * n_incr, "no lost increments")
        data, st = clients[0].get(path)
        self.assertEqual(data, str(n_clients * n_incr).encode())
        self.assertEqual(st.version, n_clients * n_incr, "one successful versioned set per increment")
        check -= 30
        self.assertEqual(Counter(clients[1], path).value, n_clients * n_incr - 30)
        fc = Counter(clients[2], self.root + "/float", default=0.0)
        fc += 1.5
        fc += 2.25
        self.assertEqual(Counter(clients[3], self.root + "/float", default=0.0).value, 3.75)

    # --- Lock -------------------------------------------------------------------
    def test_lock_mutual_exclusion(self):
        n_clients, rounds = 5, 8
        lock_path = self.root + "/lock"
        data_path = self.root + "/shared"
        setup = self.client()
        setup.create(data_path, b"0", makepath=True)
        clients = [self.client() for _ in range(n_clients)]
        inside = [0]
        max_inside = [0]
        guard = threading.Lock()
        order = []

        def worker(i, c):
            def run():
                lock = Lock(c, lock_path, identifier="worker-%d" % i)
                for _ in range(rounds):
                    with lock:
                        with guard:
                            inside[0] += 1
                            max_inside[0] = max(max_inside[0], inside[0])
                            order.append(i)
                        # deliberately non-atomic read-modify-write without versions
                        value = int(c.get(data_path)[0])
                        time.sleep(0.002)
                        c.set(data_path, str(value + 1).encode())
                        with guard:
                            inside[0] -= 1
            return run

        run_threads([worker(i, c) for i, c in enumerate(clients)], timeout=45)
        self.assertEqual(max_inside[0], 1, "at most one lock holder at a time")
        self.assertEqual(int(setup.get(data_path)[0]), n_clients * rounds,
                         "read-modify-write under the lock lost no update")
        self.assertEqual(len(set(order)), n_clients, "every contender got the lock")
        self.assertEqual(setup.get_children(lock_path), [], "all lock nodes released")

    def test_lock_timeout_contenders_and_session_loss(self):
        a, b = self.client(), self.client()
        path = self.root + "/lock2"
        la = Lock(a, path, identifier="holder-a")
        lb = Lock(b, path, identifier="waiter-b")
        self.assertTrue(la.acquire(timeout=5))
        with self.assertRaises(LockTimeout):
            lb.acquire(timeout=0.5)
        self.assertFalse(lb.acquire(blocking=False))
        got = threading.Event()

        def waiter():
            if lb.acquire(timeout=20):
                got.set()

        t = threading.Thread(target=waiter, daemon=True)
        t.start()
        self.assertTrue(wait_until(lambda: la.contenders() == ["holder-a", "waiter-b"], 5),
                        "contenders in order: %r" % la.contenders())
        self.assertFalse(got.wait(0.5))
        a.stop()                             # the holder's session ends: its lock node goes
        self.assertTrue(got.wait(10), "waiter acquires after the holder's session closed")
        t.join(5)
        self.assertEqual(lb.contenders(), ["waiter-b"])
        lb.release()
        self.assertEqual(b.get_children(path), [])

    def test_semaphore(self):
        n_clients, max_leases = 5, 2
        path = self.root + "/sem"
        clients = [self.client() for _ in range(n_clients)]
        inside = [0]
        max_inside = [0]
        total = [0]
        guard = threading.Lock()

        def worker(i, c):
            def run():
                sem = Semaphore(c, path, identifier="s%d" % i, max_leases=max_leases)
                for _ in range(4):
                    with sem:
                        with guard:
                            inside[0] += 1
                            total[0] += 1
                            max_inside[0] = max(max_inside[0], inside[0])
                        time.sleep(0.02)
                        with guard:
                            inside[0] -= 1
            return run

        # deterministic part: two holders at once, a third is refused
        s0 = Semaphore(clients[0], path, identifier="h0", max_leases=max_leases)
        s1 = Semaphore(clients[1], path, identifier="h1", max_leases=max_leases)
        s2 = Semaphore(clients[2], path, identifier="h2", max_leases=max_leases)
        self.assertTrue(s0.acquire(timeout=5))
        self.assertTrue(s1.acquire(timeout=5), "second lease granted")
        self.assertFalse(s2.acquire(blocking=False), "no third lease")
        self.assertEqual(sorted(s0.lease_holders()), ["h0", "h1"])
        s0.release()
        self.assertTrue(s2.acquire(timeout=5), "a lease frees up after a release")
        s1.release()
        s2.release()
        # contention
        run_threads([worker(i, c) for i, c in enumerate(clients)], timeout=45)
        self.assertEqual(total[0], n_clients * 4)
        self.assertLessEqual(max_inside[0], max_leases, "never more than max_leases holders")

    def test_read_write_lock(self):
        path = self.root + "/rw"
        r1, r2, w = self.client(), self.client(), self.client()
        rl1, rl2 = ReadLock(r1, path, "r1"), ReadLock(r2, path, "r2")
        wl = WriteLock(w, path, "w")
        self.assertTrue(rl1.acquire(timeout=5))
        self.assertTrue(rl2.acquire(timeout=5), "readers share")
        self.assertFalse(wl.acquire(blocking=False),
                         "writer excluded while readers hold")
        rl1.release()
        rl2.release()
        self.assertTrue(wl.acquire(timeout=5))
        self.assertFalse(ReadLock(r1, path, "r1b").acquire(blocking=False), "reader excluded by writer")
        wl.release()
        self.assertTrue(rl1.acquire(timeout=5))
        rl1.release()

    # --- Election -----------------------------------------------------------------
    def test_election_failover(self):
        n = 4
        path = self.root + "/election"
        clients = [self.client() for _ in range(n)]
        state = {"leaders": [], "active": set(), "violations": []}
        guard = threading.Lock()
        release = [threading.Event() for _ in range(n)]
        elections = [Election(c, path, identifier="cand-%d" % i) for i, c in enumerate(clients)]

        def lead(i):
            with guard:
                if state["active"]:
                    state["violations"].append((i, set(state["active"])))
                state["active"].add(i)
                state["leaders"].append(i)
            release[i].wait(30)

        def candidate(i):
            def run():
                try:
                    elections[i].run(lead, i)
                except Exception:  # noqa: BLE001 - client stopped while leading
                    pass
            return run

        threads = [threading.Thread(target=candidate(i), daemon=True) for i in range(n)]
        for t in threads:
            t.start()
        self.assertTrue(wait_until(lambda: len(elections[0].contenders()) == n, 10),
                        "all candidates registered: %r" % elections[0].contenders())
        for round_ in range(n):
            self.assertTrue(wait_until(lambda: len(state["leaders"]) == round_ + 1, 15),
                            "a leader is elected in round %d (leaders so far %r)" % (round_, state["leaders"]))
            time.sleep(0.2)
            with guard:
                self.assertEqual(len(state["leaders"]), round_ + 1, "exactly one new leader per round")
                leader = state["leaders"][-1]
                expected_contenders = ["cand-%d" % i for i in range(n) if i not in state["leaders"][:-1]]
            self.assertEqual(sorted(elections[leader].contenders()), sorted(expected_contenders))
            self.assertEqual(elections[leader].contenders()[0], "cand-%d" % leader, "leader is first contender")
            # the leader's process dies: mark it inactive, close its session, then let lead() return
            with guard:
                state["active"].discard(leader)
            clients[leader].stop()
            release[leader].set()
        for t in threads:
            t.join(10)
        self.assertEqual(state["violations"], [], "never two active leaders")
        self.assertEqual(sorted(state["leaders"]), list(range(n)), "each candidate led once")
        self.assertEqual(self.client().get_children(path), [])

    # --- Queues -------------------------------------------------------------------
    def _producers_consumers(self, make_queue, consume_one, n_prod=3, n_cons=3, per_prod=25):
        path = self.root + "/q"
        prod_clients = [self.client() for _ in range(n_prod)]
        cons_clients = [self.client() for _ in range(n_cons)]
        total = n_prod * per_prod
        consumed = []
        guard = threading.Lock()
        producers_done = threading.Event()

        def producer(i, c):
            def run():
                q = make_queue(c, path)
                for k in range(per_prod):
                    q.put(("p%d-%d" % (i, k)).encode())
            return run

        def consumer(c):
            def run():
                q = make_queue(c, path)
                deadline = time.time() + 40
                while time.time() < deadline:
                    with guard:
                        if len(consumed) >= total:
                            return
                    item = consume_one(q)
                    if item is None:
                        if producers_done.is_set():
                            with guard:
                                if len(consumed) >= total:
                                    return
                        time.sleep(0.01)
                        continue
                    with guard:
                        consumed.append(item)
            return run

        cons_threads = [threading.Thread(target=consumer(c), daemon=True) for c in cons_clients]
        for t in cons_threads:
            t.start()
        run_threads([producer(i, c) for i, c in enumerate(prod_clients)])
        producers_done.set()
        for t in cons_threads:
            t.join(45)
        self.assertFalse(any(t.is_alive() for t in cons_threads), "consumers finished")
        expected = sorted(("p%d-%d" % (i, k)).encode() for i in range(n_prod) for k in range(per_prod))
        self.assertEqual(len(consumed), total, "item count")
        self.assertEqual(sorted(consumed), expected, "every item consumed exactly once")
        return path

    def test_queue_multi_producer_consumer(self):
        path = self._producers_consumers(Queue, lambda q: q.get())
        self.assertEqual(len(Queue(self.client(), path)), 0)

    def test_queue_priority_order(self):
        q = Queue(self.client(), self.root + "/pq")
        for prio, val in ((50, b"mid"), (10, b"high"), (200, b"low"), (10, b"high2"), (50, b"mid2")):
            q.put(val, priority=prio)
        self.assertEqual(len(q), 5)
        self.assertEqual([q.get() for _ in range(5)], [b"high", b"high2", b"mid", b"mid2", b"low"])
        self.assertIsNone(q.get())

    def test_locking_queue_multi_producer_consumer(self):
        def consume_one(q):
            item = q.get(timeout=0.5)
            if item is None:
                return None
            self.assertTrue(q.holds_lock())
            self.assertTrue(q.consume())
            return item

        path = self._producers_consumers(LockingQueue, consume_one)
        self.assertEqual(len(LockingQueue(self.client(), path)), 0)

    def test_locking_queue_release_redelivers(self):
        path = self.root + "/lq"
        a, b = self.client(), self.client()
        qa, qb = LockingQueue(a, path), LockingQueue(b, path)
        qa.put_all([b"one", b"two"])
        self.assertEqual(qa.get(timeout=5), b"one")
        self.assertEqual(qb.get(timeout=5), b"two", "a locked entry is skipped by other consumers")
        a.stop()                            # consumer dies holding "one": its lock goes with the session
        qb.consume()
        self.assertEqual(qb.get(timeout=5), b"one", "unconsumed entry redelivered after the session ended")
        self.assertTrue(qb.consume())
        self.assertEqual(len(qb), 0)

    # --- Barriers -------------------------------------------------------------------
    def test_barrier(self):
        path = self.root + "/barrier"
        owner = self.client()
        barrier = Barrier(owner, path)
        barrier.create()
        self.assertFalse(Barrier(self.client(), path).wait(timeout=0.5), "wait times out while up")
        passed = []
        guard = threading.Lock()
        removed_at = [None]

        def waiter(c):
            def run():
                ok = Barrier(c, path).wait(timeout=20)
                with guard:
                    passed.append((ok, time.time()))
            return run

        waiters = [waiter(self.client()) for _ in range(4)]
        threads = [threading.Thread(target=w, daemon=True) for w in waiters]
        for t in threads:
            t.start()
        time.sleep(0.7)
        self.assertEqual(passed, [], "nobody passes a raised barrier")
        removed_at[0] = time.time()
        self.assertTrue(barrier.remove())
        for t in threads:
            t.join(10)
        self.assertEqual(len(passed), 4)
        self.assertTrue(all(ok for ok, _ in passed))
        self.assertTrue(all(ts >= removed_at[0] for _, ts in passed))
        self.assertTrue(Barrier(owner, path).wait(timeout=1), "wait on a removed barrier returns at once")

    def test_double_barrier(self):
        n = 4
        path = self.root + "/dbarrier"
        clients = [self.client() for _ in range(n)]
        log = []
        guard = threading.Lock()

        def member(i, c):
            def run():
                db = DoubleBarrier(c, path, n, identifier="m%d" % i)
                time.sleep(0.15 * i)            # staggered arrival
                with guard:
                    log.append(("arrive", i, time.time()))
                db.enter()
                with guard:
                    log.append(("entered", i, time.time()))
                time.sleep(0.1 * (n - i))        # staggered work
                with guard:
                    log.append(("leaving", i, time.time()))
                db.leave()
                with guard:
                    log.append(("left", i, time.time()))
            return run

        run_threads([member(i, c) for i, c in enumerate(clients)], timeout=40)
        t = {}
        for kind, i, ts in log:
            t.setdefault(kind, {})[i] = ts
        for kind in ("arrive", "entered", "leaving", "left"):
            self.assertEqual(len(t.get(kind, {})), n, kind)
        last_arrival = max(t["arrive"].values())
        self.assertTrue(all(ts >= last_arrival for ts in t["entered"].values()),
                        "nobody enters before everyone arrived")
        last_leaving = max(t["leaving"].values())
        self.assertTrue(all(ts >= last_leaving for ts in t["left"].values()),
                        "nobody leaves before everyone is leaving")
        self.assertEqual(self.client().get_children(path), [])


install_signal_cleanup = harness.install_signal_cleanup


if __name__ == "__main__":
    print("# server flavour: %s" % SERVER_KIND, file=sys.stderr)
    install_signal_cleanup()
    prog = unittest.main(verbosity=2, exit=False, warnings="ignore")
    for srv in list(harness._live):
        srv.stop()
    sys.exit(0 if prog.result.wasSuccessful() else 1)
