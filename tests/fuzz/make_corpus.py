#!/usr/bin/env python3
"""Writes the seed corpus of tests/fuzz/corpus/ and its manifest tests/fuzz/expect.txt.

    python3 tests/fuzz/make_corpus.py

Every corpus file is one input of the driver in fuzz_drive.h:

    byte 0  flags: 0x01 handshake first, 0x02 peer closes after the data,
            0x04 a tick (+250 ms) after every chunk, 0x08 also auth digest
            fuzz:fuzz (with 0x01), 0x10 inject an allocation failure,
            0x20 old client (ConnectRequest without readOnly, with 0x01),
            0x40 (with 0x01) the driver gets a SASL challenge, then sends the data as
            the DIGEST-MD5 response token with "@N" replaced by the server's nonce,
            0x80 (without 0x01) the driver prefixes a ConnectRequest re-attaching to the
            canary's session, so the canary's connection is dropped and re-established
    byte 1  chunking: 0 all at once, 1..127 fixed chunk size, >=128 random sizes
    byte 2  allocation failure countdown (with 0x10; bit 7: the I/O allocator)
    byte 3.. the bytes the client sends

The manifest says what the core must do with each file (tokens documented in
replay_corpus.c); fuzz_corpus_replay checks them.  Files whose names start with
"repro-" are reproducers found by fuzzing: this script leaves them alone and
takes their expectations from REPRO_EXPECT below.  Every other file in the
corpus directory is deleted and rewritten, so the output is reproducible.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
MANIFEST = os.path.join(HERE, "expect.txt")

# driver flags
HS, PEER_CLOSE, TICKS, AUTH, FAULT, OLD, SASL_F, REATTACH = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80

# ZooKeeper error codes (wire-protocol.md §11)
OK, RUNTIMEINCONSISTENCY, MARSHALLING, UNIMPLEMENTED, BADARGUMENTS = 0, -2, -5, -6, -8
NONODE, NOAUTH, BADVERSION, NODEEXISTS, NOTEMPTY = -101, -102, -103, -110, -111
INVALIDACL, AUTHFAILED, NOWATCHER, RECONFIGDISABLED = -114, -115, -121, -123
NOTREADONLY = -119

# opcodes (§5)
CREATE, DELETE, EXISTS, GETDATA, SETDATA, GETACL, SETACL, GETCHILDREN = 1, 2, 3, 4, 5, 6, 7, 8
SYNC, PING, GETCHILDREN2, CHECK, MULTI, CREATE2, RECONFIG = 9, 11, 12, 13, 14, 15, 16
CHECKWATCHES, REMOVEWATCHES, CREATECONTAINER, CREATETTL, MULTIREAD = 17, 18, 19, 21, 22
AUTH_OP, SETWATCHES, SASL, GETEPHEMERALS, GETALLCHILDREN = 100, 101, 102, 103, 104
SETWATCHES2, ADDWATCH, WHOAMI, CLOSESESSION = 105, 106, 107, -11


def i32(v):
    return struct.pack(">i", v)


def u32(v):
    return struct.pack(">I", v)


def i64(v):
    return struct.pack(">q", v)


def boolean(v):
    return b"\x01" if v else b"\x00"


def buf(b):
    """jute buffer; None is null (-1)."""
    if b is None:
        return i32(-1)
    if isinstance(b, str):
        b = b.encode()
    return i32(len(b)) + b


def vec(items):
    if items is None:
        return i32(-1)
    return i32(len(items)) + b"".join(items)


def acl(perms, scheme, ident):
    return i32(perms) + buf(scheme) + buf(ident)


WORLD_ALL = vec([acl(31, "world", "anyone")])


def frame(payload):
    return i32(len(payload)) + payload


def req(xid, op, body=b""):
    """A framed request: RequestHeader + body."""
    return frame(i32(xid) + i32(op) + body)


def hdr(flags=HS, chunk=0, fault=0):
    return bytes([flags, chunk, fault])


def connect(timeout=30000, session=0, passwd=b"\x00" * 16, ro=True, last_zxid=0, extra=b""):
    body = i32(0) + i64(last_zxid) + i32(timeout) + i64(session) + buf(passwd)
    if ro is not None:
        body += boolean(ro)
    return frame(body + extra)


# request bodies (§2.2)
def b_create(path, data=b"x", acls=WORLD_ALL, flags=0):
    return buf(path) + buf(data) + acls + i32(flags)


def b_create_ttl(path, data=b"x", acls=WORLD_ALL, flags=5, ttl=60000):
    return b_create(path, data, acls, flags) + i64(ttl)


def b_path_watch(path, watch=False):
    return buf(path) + boolean(watch)


def b_delete(path, version=-1):
    return buf(path) + i32(version)


def b_setdata(path, data=b"y", version=-1):
    return buf(path) + buf(data) + i32(version)


def b_setacl(path, acls=WORLD_ALL, version=-1):
    return buf(path) + acls + i32(version)


def b_path(path):
    return buf(path)


def b_path_type(path, t):
    return buf(path) + i32(t)


def b_reconfig():
    return buf("") + buf("") + buf("server.2=localhost:2888:3888") + i64(-1)


def b_setwatches(rel=0, lists=3, paths=None):
    paths = paths if paths is not None else [[b"/"], [b"/nope"], [b"/"], [b"/"], [b"/"]]
    return i64(rel) + b"".join(vec([buf(p) for p in paths[i]]) for i in range(lists))


def b_auth(scheme="digest", auth=b"fuzz:fuzz"):
    return i32(0) + buf(scheme) + buf(auth)


def mh(op, done=False, err=-1):
    return i32(op) + boolean(done) + i32(err)


END = mh(-1, True, -1)


def multi(ops, terminate=True):
    body = b"".join(mh(op) + b for op, b in ops)
    return body + (END if terminate else b"")


files = {}  # name -> bytes
expect = {}  # name -> tokens


def add(name, data, tokens=None):
    assert name not in files, name
    files[name] = data
    if tokens is not None:
        expect[name] = tokens


def errs(*codes):
    return "errs=" + ",".join(str(c) for c in codes)


# --- valid frames of every opcode (after a handshake) ------------------------

P = "/fz"
valid = [
    ("create", [req(1, CREATE, b_create(P))], [OK]),
    ("create-ephemeral-seq", [req(1, CREATE, b_create(P + "-e", flags=3))], [OK]),
    ("delete", [req(1, CREATE, b_create(P)), req(2, DELETE, b_delete(P))], [OK, OK]),
    ("exists", [req(1, EXISTS, b_path_watch("/"))], [OK]),
    ("exists-missing-watch", [req(1, EXISTS, b_path_watch("/nope", True))], [NONODE]),
    ("getdata", [req(1, GETDATA, b_path_watch("/zookeeper/config"))], [OK]),
    ("setdata", [req(1, CREATE, b_create(P)), req(2, SETDATA, b_setdata(P, b"z", 0))], [OK, OK]),
    ("getacl", [req(1, GETACL, b_path("/"))], [OK]),
    ("setacl", [req(1, CREATE, b_create(P)),
                req(2, SETACL, b_setacl(P, vec([acl(1, "world", "anyone"), acl(31, "ip", "10.9.8.7")]), 0))],
     [OK, OK]),
    ("getchildren", [req(1, GETCHILDREN, b_path_watch("/", True))], [OK]),
    ("sync", [req(1, SYNC, b_path("/"))], [OK]),
    ("ping", [req(-2, PING)], [OK]),
    ("getchildren2", [req(1, GETCHILDREN2, b_path_watch("/zookeeper"))], [OK]),
    ("check", [req(1, CREATE, b_create(P)), req(2, CHECK, b_delete(P, 0))], [OK, OK]),
    ("multi", [req(1, MULTI, multi([(CREATE, b_create(P)), (SETDATA, b_setdata(P)), (CHECK, b_delete(P, 1)),
                                     (DELETE, b_delete(P))]))], [OK]),
    ("multi-empty", [req(1, MULTI, END)], [OK]),
    ("multi-failing", [req(1, MULTI, multi([(CREATE, b_create(P)), (CREATE, b_create(P))]))], [OK]),
    ("create2", [req(1, CREATE2, b_create(P))], [OK]),
    ("reconfig", [req(1, RECONFIG, b_reconfig())], [RECONFIGDISABLED]),
    ("checkwatches", [req(1, CHECKWATCHES, b_path_type("/", 2))], [NOWATCHER]),
    ("removewatches", [req(1, GETDATA, b_path_watch("/", True)), req(2, REMOVEWATCHES, b_path_type("/", 2))],
     [OK, OK]),
    ("createcontainer", [req(1, CREATECONTAINER, b_create(P, flags=4))], [OK]),
    ("createttl", [req(1, CREATETTL, b_create_ttl(P))], [OK]),
    ("multiread", [req(1, MULTIREAD, multi([(GETDATA, b_path_watch("/")), (GETCHILDREN, b_path_watch("/")),
                                            (GETDATA, b_path_watch("/nope"))]))], [OK]),
    ("auth-digest", [req(-4, AUTH_OP, b_auth())], [OK]),
    ("auth-ip", [req(-4, AUTH_OP, b_auth("ip", b""))], [OK]),
    ("setwatches", [req(-8, SETWATCHES, b_setwatches(0, 3))], None),
    ("sasl", [req(1, SASL, buf(b""))], [OK]),
    ("getephemerals", [req(1, CREATE, b_create(P, flags=1)), req(2, GETEPHEMERALS, b_path("/"))], [OK, OK]),
    ("getallchildrennumber", [req(1, GETALLCHILDREN, b_path("/"))], [OK]),
    ("setwatches2", [req(-8, SETWATCHES2, b_setwatches(0, 5))], None),
    ("addwatch", [req(1, ADDWATCH, b_path_type("/", 1)), req(2, CREATE, b_create(P))], [OK, OK]),
    ("whoami", [req(1, AUTH_OP, b_auth()), req(2, WHOAMI)], [OK, OK]),
    ("closesession", [req(1, CLOSESESSION)], [OK]),
    ("watch-fires", [req(1, CREATE, b_create(P)), req(2, GETDATA, b_path_watch(P, True)),
                     req(3, SETDATA, b_setdata(P))], [OK, OK, OK]),
    ("trailing-junk", [req(1, GETDATA, b_path_watch("/") + b"\xde\xad\xbe\xef")], [OK]),
    ("xid-minus-one", [req(-1, GETDATA, b_path_watch("/"))], [OK]),
    ("xid-max", [req(0x7fffffff, EXISTS, b_path_watch("/"))], [OK]),
]
for name, frames, codes in valid:
    closes = name == "closesession"
    tokens = "closed" if closes else "open"
    if codes is not None:
        tokens += " replies=%d %s" % (len(codes), errs(*codes))
    else:
        tokens += " replies=%d" % len(frames)
    if name == "watch-fires":
        tokens += " notifications=1"
    if name == "addwatch":
        tokens += " notifications=1"
    add("v-" + name, hdr() + b"".join(frames), tokens)

# the same requests pipelined in one input, byte by byte and in random chunks
everything = b"".join(b"".join(fr) for n, fr, c in valid if n != "closesession")
add("p-all-valid-at-once", hdr() + everything, "open")
add("p-all-valid-bytewise", hdr(HS, 1) + everything, "open")
add("p-all-valid-random-chunks", hdr(HS, 0x80 | 13) + everything, "open")
add("p-all-valid-ticks", hdr(HS | TICKS, 0x80 | 40) + everything, "open")
add("p-all-valid-auth-oldclient", hdr(HS | AUTH | OLD, 0x80 | 7) + everything, "open")
add("p-all-valid-peer-close", hdr(HS | PEER_CLOSE, 0) + everything)

# --- framing -----------------------------------------------------------------

add("b-len-negative", hdr() + i32(-1) + i32(1) + i32(PING), "closed noreply")
add("b-len-min-int", hdr() + u32(0x80000000) + b"\x00" * 8, "closed noreply")
add("b-len-over-max", hdr() + u32(0x100000) + i32(1) + i32(PING), "closed noreply")
add("b-len-int-max", hdr() + u32(0x7fffffff) + i32(1) + i32(PING), "closed noreply")
add("b-len-max-partial", hdr() + u32(0xfffff) + i32(1) + i32(GETDATA) + b"\x00" * 64, "open noreply")
add("b-len-beyond-data", hdr() + i32(100) + i32(1) + i32(PING), "open noreply")
add("b-len-zero", hdr() + i32(0), "closed noreply")
add("b-len-zero-then-ping", hdr() + i32(0) + req(1, PING), "closed noreply")
add("b-header-4", hdr() + frame(i32(1)), "closed noreply")
add("b-header-7", hdr() + frame(i32(1) + b"\x00\x00\x0b"), "closed noreply")
add("b-length-prefix-cut", hdr() + b"\x00\x00", "open noreply")
add("b-ping-cut", hdr() + req(-2, PING)[:9], "open noreply")
add("b-empty", hdr(), "open noreply")
add("b-header-only", b"\x01", "open noreply")
add("b-nothing", b"", "open noreply")
add("b-len-over-max-pre-handshake", hdr(0) + u32(0x100000) + b"\x00" * 16, "closed noreply")
add("b-len-negative-pre-handshake", hdr(0) + i32(-45) + b"\x00" * 45, "closed noreply")

# --- truncated bodies of every opcode -------------------------------------------

bodies = {
    CREATE: b_create(P), CREATE2: b_create(P), CREATECONTAINER: b_create(P, flags=4),
    CREATETTL: b_create_ttl(P), DELETE: b_delete(P), EXISTS: b_path_watch("/"),
    GETDATA: b_path_watch("/"), SETDATA: b_setdata("/"), GETACL: b_path("/"),
    SETACL: b_setacl(P), GETCHILDREN: b_path_watch("/"), SYNC: b_path("/"),
    GETCHILDREN2: b_path_watch("/"), CHECK: b_delete("/", 0), RECONFIG: b_reconfig(),
    CHECKWATCHES: b_path_type("/", 1), REMOVEWATCHES: b_path_type("/", 1), AUTH_OP: b_auth(),
    SETWATCHES: b_setwatches(0, 3), SASL: buf(b"abc"), GETEPHEMERALS: b_path("/"),
    GETALLCHILDREN: b_path("/"), SETWATCHES2: b_setwatches(0, 5), ADDWATCH: b_path_type("/", 0),
    MULTI: multi([(CREATE, b_create(P))]), MULTIREAD: multi([(GETDATA, b_path_watch("/"))]),
}
for op, body in sorted(bodies.items()):
    cuts = sorted({0, 1, len(body) // 2, len(body) - 1})
    for cut in cuts:
        if cut >= len(body):
            continue
        xid = -4 if op == AUTH_OP else -8 if op in (SETWATCHES, SETWATCHES2) else 7
        # a multi cut right after a whole header is a multi without terminator: still malformed
        add("t-op%d-cut%d" % (op, cut), hdr() + req(xid, op, body[:cut]) + req(-2, PING),
            "open replies=2 " + errs(MARSHALLING, OK))

# --- bad fields ----------------------------------------------------------------

add("b-string-len-minus2", hdr() + req(1, GETDATA, i32(-2) + b"/\x00"), "open " + errs(MARSHALLING))
add("b-string-len-huge", hdr() + req(1, GETDATA, u32(0x7fffffff) + b"/\x00"), "open " + errs(MARSHALLING))
add("b-string-len-over-field-max", hdr() + req(1, GETDATA, u32(2 * 0xfffff + 1) + b"/\x00"),
    "open " + errs(MARSHALLING))
add("b-string-len-min-int", hdr() + req(1, SYNC, u32(0x80000000)), "open " + errs(MARSHALLING))
add("b-string-len-beyond-frame", hdr() + req(1, SYNC, i32(5) + b"/a"), "open " + errs(MARSHALLING))
add("b-path-null-getdata", hdr() + req(1, GETDATA, buf(None) + b"\x00"), "open replies=1")
add("b-path-null-create", hdr() + req(1, CREATE, b_create(None)), "open " + errs(BADARGUMENTS))
add("b-path-null-sync", hdr() + req(1, SYNC, buf(None)), "open replies=1")
add("b-path-null-setwatches", hdr() + req(-8, SETWATCHES, i64(0) + vec([buf(None)]) + vec([]) + vec([])),
    "open replies=1")
add("b-path-empty", hdr() + req(1, CREATE, b_create("")), "open " + errs(BADARGUMENTS))
add("b-path-relative", hdr() + req(1, CREATE, b_create("fz")), "open " + errs(BADARGUMENTS))
add("b-path-trailing-slash", hdr() + req(1, CREATE, b_create("/fz/")), "open " + errs(NONODE))  # §5.1
add("b-path-double-slash", hdr() + req(1, CREATE, b_create("//fz")), "open " + errs(BADARGUMENTS))
add("b-path-trailing-slash-parent-exists", hdr() + req(1, CREATE, b_create(P)) + req(2, CREATE, b_create(P + "/")),
    "open " + errs(OK, BADARGUMENTS))
add("b-path-nul", hdr() + req(1, CREATE, b_create("/f\x00z")), "open " + errs(BADARGUMENTS))
# the parent "/a/.." is looked up before the full path is validated (§5.1)
add("b-path-dotdot", hdr() + req(1, CREATE, b_create("/a/../b")), "open " + errs(NONODE))
add("b-path-dot-last", hdr() + req(1, CREATE, b_create("/.")), "open " + errs(BADARGUMENTS))
add("b-path-bad-utf8", hdr() + req(1, CREATE, b_create(b"/\xff\xfe")), "open " + errs(BADARGUMENTS))
add("b-path-exists-nul", hdr() + req(1, EXISTS, b_path_watch("/\x00", True)), "open " + errs(BADARGUMENTS))
add("b-path-root-create", hdr() + req(1, CREATE, b_create("/")), "open replies=1")
add("b-path-deep-missing-parent", hdr() + req(1, CREATE, b_create("/a/b/c/d")), "open " + errs(NONODE))
# no length limit beyond the frame size (§7.3): long paths through create, ephemerals, close
add("b-path-4084-ephemeral-seq-close", hdr() + req(1, CREATE, b_create("/" + "e" * 4083, flags=3)) +
    req(2, GETEPHEMERALS, b_path("/")) + req(3, CLOSESESSION), "closed " + errs(OK, OK, OK))
add("b-path-4084-container", hdr() + req(1, CREATECONTAINER, b_create("/" + "k" * 4083, flags=4)) +
    req(2, CREATE, b_create("/" + "k" * 4083 + "/c")) + req(3, DELETE, b_delete("/" + "k" * 4083 + "/c")),
    "open " + errs(OK, OK, OK))
add("b-path-5000", hdr() + req(1, CREATE, b_create("/" + "a" * 5000)), "open " + errs(OK))
add("b-path-long-ephemerals-close", hdr() + req(1, CREATE, b_create("/" + "p" * 3000)) +
    req(2, CREATE, b_create("/" + "p" * 3000 + "/" + "q" * 3000, flags=3)) +
    req(3, CREATE, b_create("/" + "e" * 7000, flags=1)) + req(4, GETEPHEMERALS, b_path("/p")) +
    req(5, EXISTS, b_path_watch("/" + "e" * 7000, True)) + req(6, CLOSESESSION),
    "closed " + errs(OK, OK, OK, OK, OK, OK))
add("b-path-long-ephemerals-expire", hdr(HS | PEER_CLOSE) + req(1, CREATE, b_create("/" + "x" * 9000, flags=1)))
add("b-path-long-container-reaped", hdr(HS | TICKS, 0) +
    req(1, CREATECONTAINER, b_create("/" + "c" * 5000, flags=4)) +
    req(2, CREATE, b_create("/" + "c" * 5000 + "/k")) + req(3, DELETE, b_delete("/" + "c" * 5000 + "/k")) +
    b"".join(req(4 + i, EXISTS, b_path_watch("/" + "c" * 5000)) for i in range(3)), "open")
add("b-path-long", hdr() + req(1, CREATE, b_create("/" + "a" * 3000)) + req(2, GETEPHEMERALS, b_path("/")),
    "open replies=2")
add("b-delete-root", hdr() + req(1, DELETE, b_delete("/")), "open replies=1")
add("b-delete-zookeeper", hdr() + req(1, DELETE, b_delete("/zookeeper/quota")), "open replies=1")
add("b-setdata-config", hdr() + req(1, SETDATA, b_setdata("/zookeeper/config")), "open " + errs(NOAUTH))
add("b-vector-huge", hdr() + req(1, CREATE, buf(P) + buf(b"x") + u32(0x7fffffff) + i32(0)),
    "open " + errs(MARSHALLING))
add("b-vector-negative", hdr() + req(1, CREATE, buf(P) + buf(b"x") + i32(-5) + i32(0)),
    "open " + errs(MARSHALLING))
add("b-vector-min-int", hdr() + req(1, SETACL, buf(P) + u32(0x80000000) + i32(-1)), "open " + errs(MARSHALLING))
add("b-vector-null-acl", hdr() + req(1, CREATE, buf(P) + buf(b"x") + i32(-1) + i32(0)), "open replies=1")
add("b-vector-empty-acl", hdr() + req(1, CREATE, buf(P) + buf(b"x") + i32(0) + i32(0)),
    "open " + errs(INVALIDACL))
add("b-vector-count-over", hdr() + req(1, CREATE, buf(P) + buf(b"x") + i32(3) + acl(31, "world", "anyone") +
                                       i32(0)), "open " + errs(MARSHALLING))
add("b-acl-bad-scheme", hdr() + req(1, CREATE, b_create(P, acls=vec([acl(31, "nope", "x")]))),
    "open " + errs(INVALIDACL))
add("b-acl-bad-perms", hdr() + req(1, CREATE, b_create(P, acls=vec([acl(-1, "world", "anyone")]))),
    "open replies=1")
add("b-acl-auth-unauthenticated", hdr() + req(1, CREATE, b_create(P, acls=vec([acl(31, "auth", "")]))),
    "open " + errs(INVALIDACL))
add("b-acl-ip-garbage", hdr() + req(1, CREATE, b_create(P, acls=vec([acl(31, "ip", "999.1.2.3/77")]))),
    "open " + errs(INVALIDACL))
add("b-acl-digest-garbage", hdr() + req(1, CREATE, b_create(P, acls=vec([acl(31, "digest", "nocolon")]))),
    "open replies=1")
add("b-acl-many", hdr() + req(1, CREATE, b_create(P, acls=vec([acl(31, "ip", "10.0.0.%d" % i)
                                                              for i in range(200)]))), "open replies=1")
for flags in (7, -1, 0x7fffffff):
    add("b-create-flags-%d" % (flags & 0xffffffff), hdr() + req(1, CREATE, b_create(P, flags=flags)),
        "open " + errs(BADARGUMENTS))
add("b-create-ttl-flags-plain-op", hdr() + req(1, CREATE, b_create(P, flags=5)), "open " + errs(BADARGUMENTS))
add("b-createttl-zero", hdr() + req(1, CREATETTL, b_create_ttl(P, ttl=0)), "open " + errs(BADARGUMENTS))
add("b-createttl-negative", hdr() + req(1, CREATETTL, b_create_ttl(P, ttl=-1)), "open " + errs(BADARGUMENTS))
add("b-createttl-too-big", hdr() + req(1, CREATETTL, b_create_ttl(P, ttl=1 << 40)), "open " + errs(BADARGUMENTS))
add("b-createttl-plain-mode", hdr() + req(1, CREATETTL, b_create_ttl(P, flags=0)), "open " + errs(BADARGUMENTS))
add("b-createttl-expires", hdr(HS | TICKS, 0x80 | 30) + req(1, CREATETTL, b_create_ttl(P, flags=6, ttl=1)) +
    b"".join(req(2 + i, EXISTS, b_path_watch("/", False)) for i in range(8)), "open")
add("b-container-reaped", hdr(HS | TICKS, 0x80 | 30) + req(1, CREATECONTAINER, b_create(P, flags=4)) +
    req(2, CREATE, b_create(P + "/k", flags=1)) + req(3, DELETE, b_delete(P + "/k")) +
    b"".join(req(4 + i, EXISTS, b_path_watch(P, True)) for i in range(30)), "open")
add("b-sequential-overflow-ish", hdr() + b"".join(req(i, CREATE, b_create(P + "-", flags=2)) for i in range(20)),
    "open replies=20")
add("b-ephemeral-child", hdr() + req(1, CREATE, b_create(P, flags=1)) + req(2, CREATE, b_create(P + "/c")),
    "open " + errs(OK, -108))
add("b-version-bad", hdr() + req(1, SETDATA, b_setdata("/", b"", 12345)), "open " + errs(BADVERSION))
add("b-delete-not-empty", hdr() + req(1, CREATE, b_create(P)) + req(2, CREATE, b_create(P + "/c")) +
    req(3, DELETE, b_delete(P)), "open " + errs(OK, OK, NOTEMPTY))
add("b-addwatch-bad-mode", hdr() + req(1, ADDWATCH, b_path_type("/", 5)), "open " + errs(MARSHALLING))
add("b-checkwatches-bad-type", hdr() + req(1, CHECKWATCHES, b_path_type("/", 9)), "open " + errs(MARSHALLING))
add("b-removewatches-any", hdr() + req(1, REMOVEWATCHES, b_path_type("/nope", 3)), "open " + errs(NOWATCHER))
add("b-setwatches-null-list", hdr() + req(-8, SETWATCHES, i64(0) + vec(None) + vec([]) + vec([])),
    "open " + errs(MARSHALLING))
add("b-setwatches-huge-list", hdr() + req(-8, SETWATCHES, i64(0) + u32(0x7fffffff)), "open " + errs(MARSHALLING))
add("b-setwatches-catchup", hdr() + req(1, CREATE, b_create(P)) +
    req(-8, SETWATCHES, b_setwatches(-5, 3, [[P.encode(), b"/gone"], [P.encode(), b"/gone"], [P.encode()]])),
    "open replies=2")
# ZooKeeper echoes the request's xid on every reply but the ping's (§4.2); clients send -8
add("b-setwatches-xid-7", hdr() + req(7, SETWATCHES, b_setwatches(0, 3, [[], [], []])), "open replies=1 " + errs(OK))
add("b-setwatches-xid-7-malformed", hdr() + req(7, SETWATCHES, i64(0) + u32(0x7fffffff)), "open " + errs(MARSHALLING))
add("b-setwatches2-many", hdr() + req(-8, SETWATCHES2, b_setwatches(0, 5, [[b"/a%d" % i for i in range(50)]] * 5)),
    "open replies=1")
add("b-auth-unknown-scheme", hdr() + req(-4, AUTH_OP, b_auth("kerberos", b"x")) + req(-2, PING),
    "closed " + errs(AUTHFAILED))
add("b-auth-null-scheme", hdr() + req(-4, AUTH_OP, i32(0) + buf(None) + buf(None)), "closed " + errs(AUTHFAILED))
add("b-auth-digest-null", hdr() + req(-4, AUTH_OP, b_auth("digest", None)), "replies=1")
add("b-auth-digest-long-user", hdr() + req(-4, AUTH_OP, b_auth("digest", b"u" * 2000 + b":p")), "replies=1")
add("b-auth-super-guess", hdr() + req(-4, AUTH_OP, b_auth("digest", b"super:guess")) +
    req(1, SETDATA, b_setdata("/pdfuzz/canary", b"pwned")), "open " + errs(OK, NOAUTH))
add("b-sasl-garbage", hdr() + req(1, SASL, buf(b"\xff" * 40)) + req(2, SASL, buf(b"realm=,nonce=\"x\"")),
    "closed " + errs(OK, AUTHFAILED))
add("b-sasl-null", hdr() + req(1, SASL, buf(None)), "replies=1")
add("b-sasl-response-garbage", hdr() + req(1, SASL, buf(b"")) +
    req(2, SASL, buf(b'username="fuzz",realm="zk-sasl-md5",nonce="AAAA",nc=00000001,cnonce="x",'
                     b'digest-uri="zookeeper/zk-sasl-md5",response=0123456789abcdef0123456789abcdef,qop=auth')),
    "closed " + errs(OK, AUTHFAILED))
add("b-reconfig-garbage", hdr() + req(1, RECONFIG, buf(None) + buf(None) + buf(b"\xff\x00") + i64(-7)),
    "open " + errs(RECONFIGDISABLED))
add("b-getephemerals-prefix", hdr() + req(1, CREATE, b_create(P, flags=1)) + req(2, GETEPHEMERALS, b_path(P + "x")) +
    req(3, GETEPHEMERALS, b_path(" \t")), "open " + errs(OK, OK, OK))

# --- SASL DIGEST-MD5 responses (the driver substitutes the nonce for @N) --------------

SASL_OK = (b'charset=utf-8,username="fuzz",realm="zk-sasl-md5",nonce="@N",nc=00000001,cnonce="c2xhc2g=",'
           b'digest-uri="zookeeper/zk-sasl-md5",maxbuf=65536,response=0123456789abcdef0123456789abcdef,'
           b'qop=auth,authzid="fuzz"')
sasl_variants = {
    "wrong-response": SASL_OK,
    "unknown-user": SASL_OK.replace(b'username="fuzz"', b'username="nobody"'),
    "wrong-nonce": SASL_OK.replace(b"@N", b"AAAA"),
    "no-cnonce": SASL_OK.replace(b'cnonce="c2xhc2g=",', b""),
    "nc-2": SASL_OK.replace(b"nc=00000001", b"nc=00000002"),
    "nc-garbage": SASL_OK.replace(b"nc=00000001", b"nc=0x1zz"),
    "maxbuf-huge": SASL_OK.replace(b"maxbuf=65536", b"maxbuf=99999999999999999999"),
    "qop-auth-int": SASL_OK.replace(b"qop=auth", b"qop=auth-int"),
    "charset-latin1": SASL_OK.replace(b"charset=utf-8", b"charset=iso-8859-1"),
    "uri-case": SASL_OK.replace(b"zookeeper/zk-sasl-md5", b"ZOOKEEPER/ZK-SASL-MD5"),
    "quoted-escapes": SASL_OK.replace(b'cnonce="c2xhc2g="', b'cnonce="a\\\"b\\\\c"'),
    "unterminated-quote": SASL_OK.replace(b'authzid="fuzz"', b'authzid="fuzz'),
    "duplicate-keys": SASL_OK + b',username="fuzz",nonce="@N"',
    "empty-values": b'username=,realm=,nonce=,cnonce=,digest-uri=,response=',
    "utf8-user": SASL_OK.replace(b'username="fuzz"', b'username="f\xc3\xbczz\xff"'),
    "spaces": SASL_OK.replace(b",", b" ,\t "),
    "empty-token": b"",
    "commas-only": b",,,,,,",
    "authzid-other": SASL_OK.replace(b'authzid="fuzz"', b'authzid="super"'),
}
for name, token in sasl_variants.items():
    add("sasl-" + name, hdr(HS | SASL_F) + token, "closed " + errs(AUTHFAILED))

# --- multi -----------------------------------------------------------------------

add("m-mixed-read-write", hdr() + req(1, MULTI, multi([(CREATE, b_create(P)), (GETDATA, b_path_watch("/"))])),
    "open " + errs(MARSHALLING))
add("m-multiread-with-write", hdr() + req(1, MULTIREAD, multi([(GETDATA, b_path_watch("/")),
                                                              (DELETE, b_delete(P))])), "open " + errs(MARSHALLING))
add("m-no-terminator", hdr() + req(1, MULTI, multi([(CREATE, b_create(P))], terminate=False)) + req(-2, PING),
    "open " + errs(MARSHALLING, OK))
add("m-multiread-no-terminator", hdr() + req(1, MULTIREAD, multi([(GETDATA, b_path_watch("/"))], False)),
    "open " + errs(MARSHALLING))
add("m-empty-body", hdr() + req(1, MULTI), "open " + errs(MARSHALLING))
add("m-unknown-subop", hdr() + req(1, MULTI, multi([(99, b"")])), "open " + errs(MARSHALLING))
add("m-subop-minus-one", hdr() + req(1, MULTI, mh(-1, False, -1) + END), "open " + errs(MARSHALLING))
add("m-nested-multi", hdr() + req(1, MULTI, multi([(MULTI, END)])), "open " + errs(MARSHALLING))
add("m-truncated-subop", hdr() + req(1, MULTI, mh(CREATE) + b_create(P)[:7]), "open " + errs(MARSHALLING))
add("m-terminator-not-done", hdr() + req(1, MULTI, mh(-1, False, -1)), "open " + errs(MARSHALLING))
add("m-done-byte-2", hdr() + req(1, MULTI, i32(-1) + b"\x02" + i32(-1)), "open " + errs(OK))
add("m-many-ops", hdr() + req(1, MULTI, multi([(CREATE, b_create("/m%d" % i)) for i in range(100)] +
                                               [(DELETE, b_delete("/m%d" % i)) for i in range(100)])),
    "open " + errs(OK))
add("m-create-child-of-new", hdr() + req(1, MULTI, multi([(CREATE, b_create(P)), (CREATE, b_create(P + "/c")),
                                                          (CREATETTL, b_create_ttl(P + "/t")),
                                                          (CREATECONTAINER, b_create(P + "/k", flags=4))])),
    "open " + errs(OK))
add("m-check-fails", hdr() + req(1, MULTI, multi([(CHECK, b_delete("/", 99)), (CREATE, b_create(P))])),
    "open " + errs(OK))
add("m-multiread-subop-trailing", hdr() + req(1, MULTIREAD, multi([(GETCHILDREN, b_path_watch("/"))]) + b"junk"),
    "open " + errs(OK))
add("m-ephemeral-in-multi", hdr() + req(1, MULTI, multi([(CREATE, b_create(P, flags=1)),
                                                         (CREATE, b_create(P + "/c"))])), "open " + errs(OK))

# --- unknown opcodes ----------------------------------------------------------------

for op in (0, 10, 20, 23, 99, 108, -10, -1, -2, -12, 0x7fffffff, -0x80000000, 200):
    add("u-op%d" % op, hdr() + req(5, op, b_path("/")) + req(-2, PING), "closed replies=1 " + errs(UNIMPLEMENTED))
add("u-op10-no-body", hdr() + req(5, 10), "closed " + errs(UNIMPLEMENTED))
add("u-after-valid", hdr() + req(1, PING) + req(2, GETDATA, b_path_watch("/")) + req(3, 108) + req(4, PING),
    "closed " + errs(OK, OK, UNIMPLEMENTED))

# --- four-letter words and the telnet interrupt (before any ConnectRequest) -------------

for w in ("ruok", "isro", "srvr", "stat", "cons", "conf", "envi", "mntr", "wchs", "wchc", "wchp", "dump", "crst",
          "srst", "gtmk"):
    add("4lw-" + w, hdr(0) + w.encode() + b"\n", "closed 4lw")
add("4lw-ruok-garbage", hdr(0) + b"ruok" + b"\x00\xff\x13\x37" * 20 + req(1, PING), "closed 4lw")
add("4lw-stat-bytewise", hdr(0, 1) + b"stat\r\n", "closed 4lw")
add("4lw-stmk", hdr(0) + b"stmk" + i64(0x1ff), "closed 4lw")
add("4lw-stmk-short", hdr(0) + b"stmk" + b"\x00\x01", "open 4lw")
add("4lw-stmk-bytewise", hdr(0, 1) + b"stmk" + i64(-1), "closed 4lw")
add("4lw-dirs-not-whitelisted", hdr(0) + b"dirs", "closed 4lw")
add("4lw-hash-not-whitelisted", hdr(0) + b"hash", "closed 4lw")
add("4lw-telnet-interrupt", hdr(0) + b"\xff\xf4\xff\xfd", "closed 4lw noreply")
add("4lw-telnet-then-garbage", hdr(0) + b"\xff\xf4\xff\xfd" + b"\xff" * 16, "closed 4lw noreply")
add("4lw-unknown-word", hdr(0) + b"abcd", "closed noreply")
add("4lw-uppercase", hdr(0) + b"RUOK", "closed noreply")
add("4lw-after-connect", hdr(0) + connect() + b"ruok", "closed session")
add("4lw-after-handshake", hdr() + b"ruok", "closed noreply")
add("4lw-3-bytes", hdr(0) + b"ruo", "open noreply")

# --- ConnectRequest variants ---------------------------------------------------------

add("c-valid", hdr(0) + connect(), "open session")
add("c-old-client", hdr(0) + connect(ro=None), "open session")
add("c-readonly-true", hdr(0) + connect(ro=True), "open session")
add("c-extra-bytes", hdr(0) + connect(extra=b"\x01\x02\x03"), "open session")
add("c-protocol-7", hdr(0) + frame(i32(7) + connect()[8:]), "open session")
add("c-timeout-zero", hdr(0) + connect(timeout=0), "open session")
add("c-timeout-negative", hdr(0) + connect(timeout=-5), "open session")
add("c-timeout-huge", hdr(0) + connect(timeout=0x7fffffff), "open session")
add("c-timeout-min-int", hdr(0) + connect(timeout=-0x80000000), "open session")
add("c-passwd-null", hdr(0) + connect(passwd=None), "open session")
add("c-passwd-empty", hdr(0) + connect(passwd=b""), "open session")
add("c-passwd-long", hdr(0) + connect(passwd=b"p" * 300), "open session")
add("c-passwd-truncated", hdr(0) + frame((i32(0) + i64(0) + i32(30000) + i64(0) + i32(16) + b"\x00" * 5)),
    "closed noreply")
add("c-passwd-len-minus2", hdr(0) + frame((i32(0) + i64(0) + i32(30000) + i64(0) + i32(-2))), "closed noreply")
add("c-passwd-len-huge", hdr(0) + frame((i32(0) + i64(0) + i32(30000) + i64(0) + u32(0x7fffffff))),
    "closed noreply")
add("c-truncated-10", hdr(0) + frame(connect()[4:14]), "closed noreply")
add("c-zero-length", hdr(0) + i32(0), "closed noreply")
add("c-future-zxid", hdr(0) + connect(last_zxid=1 << 60), "closed noreply")
add("c-negative-zxid", hdr(0) + connect(last_zxid=-1), "open session")
add("c-unknown-session", hdr(0) + connect(session=0x0123456789abcdef, passwd=b"\x11" * 16), "closed rejected")
add("c-unknown-session-old", hdr(0) + connect(session=0x0123456789abcdef, passwd=b"\x11" * 16, ro=None),
    "closed rejected")
add("c-unknown-session-short-pw", hdr(0) + connect(session=5, passwd=b""), "closed rejected")
add("c-unknown-session-null-pw", hdr(0) + connect(session=-1, passwd=None), "closed rejected")
add("c-rejected-then-frames", hdr(0) + connect(session=77, passwd=b"\x00" * 16) + req(1, PING),
    "closed rejected replies=0")
add("c-pipelined", hdr(0) + connect() + req(-4, AUTH_OP, b_auth()) + req(-8, SETWATCHES, b_setwatches(0, 3)) +
    req(1, CREATE, b_create(P, flags=1)) + req(2, GETDATA, b_path_watch(P, True)) + req(-2, PING),
    "open session replies=5")
add("c-pipelined-bytewise", hdr(0, 1) + connect() + req(1, EXISTS, b_path_watch("/")) + req(-2, PING),
    "open session " + errs(OK, OK))
add("c-pipelined-then-bad-len", hdr(0) + connect() + req(-2, PING) + i32(-7), "closed session " + errs(OK))
add("c-twice", hdr(0) + connect() + connect(), "closed session " + errs(UNIMPLEMENTED))
# re-attaching to another client's live session moves it here (§3.6): the canary is dropped
add("c-reattach-canary", hdr(REATTACH) + req(1, GETDATA, b_path_watch("/pdfuzz/canary")) +
    req(2, SETDATA, b_setdata("/pdfuzz/canary", b"pwned")), "open session " + errs(NOAUTH, NOAUTH))
add("c-reattach-canary-close", hdr(REATTACH, 5) + req(1, CLOSESESSION) + req(2, PING), "closed session " + errs(OK))
add("c-reattach-canary-peer-close", hdr(REATTACH | PEER_CLOSE) + req(1, CREATE, b_create(P, flags=1)))
add("c-never-sends-connect", hdr(0), "open noreply")
add("c-partial-connect", hdr(0) + connect()[:20], "open noreply")
add("c-partial-connect-ticks", hdr(TICKS, 1) + connect()[:30], "open noreply")
# after the handshake a ConnectRequest reads as RequestHeader{xid=0, type=0}: unknown opcode
add("c-after-handshake", hdr() + connect(), "closed " + errs(UNIMPLEMENTED))
add("c-closesession-then-frames", hdr(0) + connect() + req(1, CLOSESESSION) + req(2, PING) + req(3, 99),
    "closed session " + errs(OK))

# --- frames after closeSession; pipelined valid + invalid -------------------------------

add("s-close-then-ping", hdr() + req(1, CLOSESESSION) + req(2, PING), "closed " + errs(OK))
add("s-close-then-garbage", hdr() + req(1, CLOSESESSION) + b"\xff" * 32, "closed " + errs(OK))
add("s-close-bytewise", hdr(HS, 1) + req(1, CLOSESESSION) + req(2, CREATE, b_create(P)), "closed " + errs(OK))
add("s-close-with-ephemerals", hdr() + req(1, CREATE, b_create(P, flags=1)) + req(2, CLOSESESSION),
    "closed " + errs(OK, OK))
add("s-close-twice", hdr() + req(1, CLOSESESSION) + req(2, CLOSESESSION), "closed replies=1")
add("s-close-with-body", hdr() + req(1, CLOSESESSION, b"\x00" * 9), "closed " + errs(OK))
add("s-ephemeral-expires", hdr(HS | PEER_CLOSE) + req(1, CREATE, b_create(P, flags=1)))
add("s-peer-close-mid-frame", hdr(HS | PEER_CLOSE) + req(1, CREATE, b_create(P))[:11])
add("p-valid-invalid-valid", hdr() + req(1, PING) + req(2, GETDATA, buf("/") + b"") + req(3, PING),
    "open " + errs(OK, MARSHALLING, OK))
add("p-valid-then-oversized", hdr() + req(1, EXISTS, b_path_watch("/")) + u32(0x100000) + b"\x00" * 8,
    "closed " + errs(OK))
add("p-valid-then-negative", hdr(HS, 3) + req(1, EXISTS, b_path_watch("/")) + i32(-1),
    "closed " + errs(OK))
add("p-valid-then-short-header", hdr(HS, 0x85) + req(1, SYNC, b_path("/")) + frame(b"\x00\x00"),
    "closed " + errs(OK))
add("p-truncated-then-valid", hdr() + req(1, CREATE, b_create(P)[:9]) + req(2, CREATE, b_create(P)),
    "open " + errs(MARSHALLING, OK))
add("p-many-pings", hdr(HS, 0x80 | 5) + req(-2, PING) * 200, "open replies=200")
add("p-interleaved-garbage", hdr() + req(1, EXISTS, b_path_watch("/")) + req(2, 0x41414141, b"AAAA") +
    req(3, EXISTS, b_path_watch("/")), "closed " + errs(OK, UNIMPLEMENTED))
add("p-watch-self-delete", hdr() + req(1, CREATE, b_create(P)) + req(2, EXISTS, b_path_watch(P, True)) +
    req(3, GETCHILDREN, b_path_watch(P, True)) + req(4, DELETE, b_delete(P)),
    "open " + errs(OK, OK, OK, OK) + " notifications=1")  # one NodeDeleted per watcher
add("p-recursive-watch-storm", hdr() + req(1, ADDWATCH, b_path_type("/", 1)) +
    req(2, MULTI, multi([(CREATE, b_create("/w%d" % i)) for i in range(20)])), "open notifications=20 replies=2")

# --- allocation failures (no expectations: any answer is fine, nothing may leak) ---------

fault_pipeline = (req(-4, AUTH_OP, b_auth()) + req(1, CREATE, b_create(P, flags=1)) +
                  req(2, MULTI, multi([(CREATE, b_create("/q")),
                                       (SETDATA, b_setdata("/q", b"zz" * 40))])) +
                  req(3, GETDATA, b_path_watch(P, True)) + req(4, ADDWATCH, b_path_type("/", 1)) +
                  req(5, SETACL, b_setacl("/q", vec([acl(31, "auth", "")]))) + req(6, GETCHILDREN2, b_path_watch("/")))
for n in (1, 2, 3, 5, 8, 13, 21, 34):
    add("f-budgeted-%d" % n, hdr(HS | FAULT, 0, n) + fault_pipeline)
for n in (1, 2, 3, 5, 8):
    add("f-io-%d" % n, hdr(HS | FAULT, 0x80 | 9, 0x80 | n) + fault_pipeline)
for n in range(1, 9):
    add("f-create-ephemeral-%d" % n, hdr(HS | FAULT, 0, n) + req(1, CREATE, b_create(P, flags=1)) +
        req(2, GETDATA, b_path_watch(P, True)))
# the whitelist refusal text cannot be appended: the connection must still just be closed
add("f-io-4lw-not-whitelisted", hdr(FAULT, 0, 0x81) + b"hash", "closed")
add("f-io-4lw-not-whitelisted-2", hdr(FAULT, 2, 0x81) + b"dirs\n", "closed")
for n in (1, 2, 4):
    add("f-connect-%d" % n, hdr(FAULT, 0, n) + connect() + req(1, CREATE, b_create(P, flags=3)))

# The log fails under pending writes (FAULT with fault byte 0): every pending write is refused
# with NOTREADONLY in request order, reads held behind them are answered, a pending
# createSession closes its connection, a pending closeSession closes it too.
add("lf-writes-refused", hdr(HS | FAULT, 0, 0) + req(1, CREATE, b_create(P)) + req(2, SETDATA, b_setdata(P)) +
    req(3, EXISTS, b_path_watch(P)) + req(4, CREATE, b_create(P + "/c")),
    "open " + errs(NOTREADONLY, NOTREADONLY, NONODE, NOTREADONLY))
add("lf-multi-refused", hdr(HS | FAULT, 0, 0) + req(1, MULTI, multi([(CREATE, b_create(P)),
    (CREATE, b_create(P + "/a"))])) + req(2, GETCHILDREN, b_path_watch("/")), "open " + errs(NOTREADONLY, OK))
add("lf-connect-dropped", hdr(FAULT, 0, 0) + connect() + req(1, CREATE, b_create(P)), "closed noreply")
add("lf-close-session", hdr(HS | FAULT, 0, 0) + req(1, CREATE, b_create(P, flags=1)) + req(2, CLOSESESSION),
    "closed " + errs(NOTREADONLY))
add("lf-ephemeral-sequential", hdr(HS | FAULT, 3, 0) + b"".join(
    req(i, CREATE, b_create(P + "-", flags=3)) for i in range(1, 6)), "open " + errs(*[NOTREADONLY] * 5))

# Reproducers found by fuzzing, kept under their own names (never rewritten).
REPRO_EXPECT = {
    # use after free in node_conn_frames (core/node.c) after a 4lw not in the whitelist closes the connection
    "repro-uaf-fourlw-hash": "closed 4lw",
    # setWatches (xid -524296) with a huge vector count: MARSHALLINGERROR, echoing the xid
    "repro-setwatches-malformed-xid": "open " + errs(MARSHALLING),
    # driver regression: an injected allocation failure hit the canary's keepalive ping
    "repro-fault-during-keepalive": "closed noreply",
    # UBSan (null + 0 in pd_effect_bytes): node_try_fourlw emits PD_FX_SEND for refusal text it failed to append
    "repro-fourlw-refusal-enomem": "closed",
    # an I/O allocation failure while re-attaching to the canary's session loses the canary's PD_FX_CLOSE
    "repro-reattach-lost-close": "",
    # driver regression: the canary's close, deferred by an I/O allocation failure during the
    # re-attach (the step itself succeeded), arrived on the janitor's next step
    "repro-deferred-close-after-reattach": "closed session",
    # an I/O allocation failure lost the PD_FX_FOURLW of "wchp": the connection was never answered
    # nor closed (and, once durability stopped expiring non-READY connections, never went away)
    "repro-fourlw-effect-lost": "closed",
    # an I/O allocation failure while logging an expired session's closeSession left the session
    # marked closing for good: never expired, never removed
    "repro-expiry-enomem-session-stuck": "",
}


def main():
    os.makedirs(CORPUS, exist_ok=True)
    for name in os.listdir(CORPUS):
        if not name.startswith("repro-"):
            os.remove(os.path.join(CORPUS, name))
    for name, data in files.items():
        with open(os.path.join(CORPUS, name), "wb") as f:
            f.write(data)
    with open(MANIFEST, "w") as f:
        f.write("# Generated by tests/fuzz/make_corpus.py; expectations per corpus file\n")
        f.write("# (tokens documented in tests/fuzz/replay_corpus.c).\n")
        for name in sorted(expect):
            f.write("%s %s\n" % (name, expect[name]))
        for name in sorted(REPRO_EXPECT):
            if os.path.exists(os.path.join(CORPUS, name)):
                f.write("%s %s\n" % (name, REPRO_EXPECT[name]))
    print("wrote %d inputs (%d with expectations) to %s" % (len(files), len(expect), CORPUS))


if __name__ == "__main__":
    main()
