#!/usr/bin/env python3
"""Captures the byte vectors used by tests/unit/test_capture.c from a real Apache ZooKeeper.

Not a test: run it by hand when the vectors need to be re-derived.

    /usr/bin/python3 tests/unit/zk_capture.py > /tmp/capture.txt

It starts a fresh standalone ZooKeeper 3.8.0 (Debian's zookeeper package) through
tests/net/harness.py's ZooKeeperServer (tickTime 2000, 4lw whitelist "srvr,ruok"),
drives it with raw sockets (struct only, no client library) through a fixed script of
requests, and prints every frame sent and received as hex, one per line:

    <step> <conn> send|recv <hex>      frames (4-byte length prefix included)
    <step> <conn> closed               the server closed the connection
    <step> <conn> text <hex>           raw four-letter-word output

Because the server is fresh and the script is fixed, the zxids are deterministic
(the first session is zxid 1).  The only values that differ between runs are the
session ids, the session passwords and the wall-clock times (ctime/mtime); the C test
substitutes them.
"""
import os
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "net"))
from harness import ZooKeeperServer  # noqa: E402


def i32(v):
    return struct.pack(">i", v)


def i64(v):
    return struct.pack(">q", v)


def buf(b):
    if b is None:
        return i32(-1)
    if isinstance(b, str):
        b = b.encode()
    return i32(len(b)) + b


def acl_open():
    return i32(1) + i32(31) + buf("world") + buf("anyone")


def create_body(path, data, flags):
    return buf(path) + buf(data) + acl_open() + i32(flags)


def mh(t, done, err):
    return i32(t) + bytes([1 if done else 0]) + i32(err)


class Conn:
    def __init__(self, port, name):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=3.0)
        self.name = name

    def send(self, step, payload, framed=True):
        data = (i32(len(payload)) + payload) if framed else payload
        print(step, self.name, "send", data.hex())
        self.s.sendall(data)

    def _read(self, n):
        out = b""
        while len(out) < n:
            b = self.s.recv(n - len(out))
            if not b:
                return None
            out += b
        return out

    def recv(self, step):
        hdr = self._read(4)
        if hdr is None:
            print(step, self.name, "closed")
            return None
        n = struct.unpack(">i", hdr)[0]
        body = self._read(n)
        print(step, self.name, "recv", (hdr + body).hex())
        return body

    def expect_closed(self, step):
        try:
            self.s.settimeout(3.0)
            b = self.s.recv(1)
        except (ConnectionResetError, socket.timeout):
            b = b"" if True else None
        print(step, self.name, "closed" if not b else "unexpected " + b.hex())

    def text(self, step):
        out = b""
        while True:
            b = self.s.recv(4096)
            if not b:
                break
            out += b
        print(step, self.name, "text", out.hex())


def connect_req(timeout=30000, sid=0, passwd=b"\0" * 16, last_zxid=0, ro=True):
    p = i32(0) + i64(last_zxid) + i32(timeout) + i64(sid) + buf(passwd)
    if ro:
        p += b"\0"
    return p


def main():
    with ZooKeeperServer(extra={"4lw.commands.whitelist": "srvr,ruok"}) as zk:
        port = zk.port
        a = Conn(port, "A")
        a.send("connect_ro", connect_req())
        a.recv("connect_ro")
        a.send("create", i32(1) + i32(1) + create_body("/cap", "hello", 0))
        a.recv("create")
        a.send("create2", i32(2) + i32(15) + create_body("/cap/c2", "", 0))
        a.recv("create2")
        a.send("getdata", i32(3) + i32(4) + buf("/cap") + b"\0")
        a.recv("getdata")
        a.send("setdata", i32(4) + i32(5) + buf("/cap") + buf("world!") + i32(0))
        a.recv("setdata")
        a.send("setdata_badversion", i32(5) + i32(5) + buf("/cap") + buf("x") + i32(0))
        a.recv("setdata_badversion")
        a.send("exists_nonode", i32(6) + i32(3) + buf("/nope") + b"\0")
        a.recv("exists_nonode")
        a.send("getchildren2", i32(7) + i32(12) + buf("/cap") + b"\0")
        a.recv("getchildren2")
        a.send("create_exists", i32(8) + i32(1) + create_body("/cap", "hello", 0))
        a.recv("create_exists")
        a.send("ping", i32(77) + i32(11))
        a.recv("ping")
        a.send("create_seq_parent", i32(9) + i32(1) + create_body("/seq", None, 0))
        a.recv("create_seq_parent")
        a.send("create_seq0", i32(10) + i32(1) + create_body("/seq/s-", "", 2))
        a.recv("create_seq0")
        a.send("delete_seq0", i32(11) + i32(2) + buf("/seq/s-0000000000") + i32(-1))
        a.recv("delete_seq0")
        a.send("create_seq1", i32(12) + i32(15) + create_body("/seq/s-", "", 2))
        a.recv("create_seq1")
        a.send("exists_zookeeper", i32(13) + i32(3) + buf("/zookeeper") + b"\0")
        a.recv("exists_zookeeper")
        a.send("getacl_config", i32(14) + i32(6) + buf("/zookeeper/config"))
        a.recv("getacl_config")
        a.send("exists_root", i32(15) + i32(3) + buf("/") + b"\0")
        a.recv("exists_root")
        a.send("allchildren_root", i32(16) + i32(104) + buf("/"))
        a.recv("allchildren_root")
        a.send("sync", i32(17) + i32(9) + buf("/cap"))
        a.recv("sync")
        a.send("addwatch", i32(18) + i32(106) + buf("/cap") + i32(0))
        a.recv("addwatch")
        a.send("multi_ok", i32(19) + i32(14) +
               mh(1, False, -1) + create_body("/m", "", 0) +
               mh(1, False, -1) + create_body("/m/a", "A", 0) +
               mh(5, False, -1) + buf("/m") + buf("x") + i32(-1) +
               mh(-1, True, -1))
        a.recv("multi_ok")
        a.send("multi_fail", i32(20) + i32(14) +
               mh(1, False, -1) + create_body("/m/b", "", 0) +
               mh(1, False, -1) + create_body("/m/a", "", 0) +
               mh(5, False, -1) + buf("/m") + buf("y") + i32(-1) +
               mh(-1, True, -1))
        a.recv("multi_fail")
        a.send("multi_empty", i32(21) + i32(14) + mh(-1, True, -1))
        a.recv("multi_empty")
        a.send("getdata_watch", i32(22) + i32(4) + buf("/cap") + b"\1")
        a.recv("getdata_watch")
        b = Conn(port, "B")
        b.send("connect_b", connect_req())
        b.recv("connect_b")
        b.send("setdata_b", i32(1) + i32(5) + buf("/cap") + buf("bye") + i32(-1))
        b.recv("setdata_b")
        a.recv("notify_a")  # NodeDataChanged /cap: one event although two watches match
        a.send("delete_c2", i32(23) + i32(2) + buf("/cap/c2") + i32(-1))
        a.recv("delete_c2")  # NodeChildrenChanged /cap (persistent watch)
        a.recv("delete_c2")  # the reply
        a.send("auth", i32(-4) + i32(100) + i32(0) + buf("digest") + buf("user:pw"))
        a.recv("auth")
        a.send("create_truncated", i32(24) + i32(1) + buf("/trunc"))
        a.recv("create_truncated")
        a.send("getdata_truncated", i32(25) + i32(4) + buf("/cap"))
        a.recv("getdata_truncated")
        a.send("getdata_after", i32(26) + i32(4) + buf("/seq") + b"\0")
        a.recv("getdata_after")
        a.send("unknown_op", i32(27) + i32(10))
        a.recv("unknown_op")
        a.expect_closed("unknown_op")
        c = Conn(port, "C")
        c.send("connect_old", connect_req(ro=False))
        c.recv("connect_old")
        d = Conn(port, "D")
        d.send("connect_ahead", connect_req(last_zxid=1 << 40))
        d.expect_closed("connect_ahead")
        e = Conn(port, "E")
        e.send("connect_badpw", connect_req(sid=0x0100000000000001, passwd=b"\1" * 16))
        e.recv("connect_badpw")
        e.expect_closed("connect_badpw")
        f = Conn(port, "F")
        f.send("ruok", b"ruok", framed=False)
        f.text("ruok")
        g = Conn(port, "G")
        g.send("stat_denied", b"stat", framed=False)
        g.text("stat_denied")
        time.sleep(0.2)


if __name__ == "__main__":
    main()
