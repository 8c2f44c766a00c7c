"""zkwire: a small raw-socket ZooKeeper 3.8 client in pure Python (struct only).

It speaks the protocol of /work/shared/docs/wire-protocol.md byte for byte and hides
nothing: every reply comes back as a Reply(xid, zxid, err, value, body) with the decoded
value (or None on error), watch notifications (xid -1) are collected in Conn.events, and
the raw framing calls (send_frame, recv_frame, submit, read_reply) are there for probes.

    c = Conn("127.0.0.1", port)
    c.connect()                                   # ConnectResponse
    r = c.create("/a", b"x", OPEN_ACL, 0)         # r.err == 0, r.value == "/a"
    r = c.get_data("/a", watch=True)              # r.value == (b"x", Stat(...))
    c.multi([("create", "/a/b", b"", OPEN_ACL, 0), ("check", "/a", 5)])
    c.close_session()
"""
import base64
import hashlib
import socket
import struct
from collections import namedtuple

# ---- constants ------------------------------------------------------------------------

OP = dict(notification=0, create=1, delete=2, exists=3, getData=4, setData=5, getACL=6,
          setACL=7, getChildren=8, sync=9, ping=11, getChildren2=12, check=13, multi=14,
          create2=15, reconfig=16, checkWatches=17, removeWatches=18, createContainer=19,
          deleteContainer=20, createTTL=21, multiRead=22, auth=100, setWatches=101, sasl=102,
          getEphemerals=103, getAllChildrenNumber=104, setWatches2=105, addWatch=106,
          whoAmI=107, createSession=-10, closeSession=-11, error=-1)
OPNAME = {v: k for k, v in OP.items()}

ERR = dict(OK=0, SYSTEMERROR=-1, RUNTIMEINCONSISTENCY=-2, DATAINCONSISTENCY=-3,
           CONNECTIONLOSS=-4, MARSHALLINGERROR=-5, UNIMPLEMENTED=-6, OPERATIONTIMEOUT=-7,
           BADARGUMENTS=-8, NEWCONFIGNOQUORUM=-13, RECONFIGINPROGRESS=-14, APIERROR=-100,
           NONODE=-101, NOAUTH=-102, BADVERSION=-103, NOCHILDRENFOREPHEMERALS=-108,
           NODEEXISTS=-110, NOTEMPTY=-111, SESSIONEXPIRED=-112, INVALIDCALLBACK=-113,
           INVALIDACL=-114, AUTHFAILED=-115, SESSIONMOVED=-118, NOTREADONLY=-119,
           EPHEMERALONLOCALSESSION=-120, NOWATCHER=-121, REQUESTTIMEOUT=-122,
           RECONFIGDISABLED=-123, SESSIONCLOSEDREQUIRESASLAUTH=-124, QUOTAEXCEEDED=-125,
           THROTTLEDOP=-127)
ERRNAME = {v: k for k, v in ERR.items()}

XID_NOTIFICATION = -1
XID_PING = -2
XID_AUTH = -4
XID_SET_WATCHES = -8

PERM_READ, PERM_WRITE, PERM_CREATE, PERM_DELETE, PERM_ADMIN = 1, 2, 4, 8, 16
PERM_ALL = 31

# create flags
PERSISTENT, EPHEMERAL, PERSISTENT_SEQUENTIAL, EPHEMERAL_SEQUENTIAL = 0, 1, 2, 3
CONTAINER, PERSISTENT_WITH_TTL, PERSISTENT_SEQUENTIAL_WITH_TTL = 4, 5, 6

# event types (on the wire: 1-4), watcher types, addWatch modes
EV_CREATED, EV_DELETED, EV_DATA_CHANGED, EV_CHILDREN_CHANGED = 1, 2, 3, 4
WT_CHILDREN, WT_DATA, WT_ANY = 1, 2, 3
AW_PERSISTENT, AW_PERSISTENT_RECURSIVE = 0, 1

ACL = namedtuple("ACL", "perms scheme id")
OPEN_ACL = [ACL(PERM_ALL, "world", "anyone")]
READ_ACL = [ACL(PERM_READ, "world", "anyone")]
CREATOR_ALL_ACL = [ACL(PERM_ALL, "auth", "")]

Stat = namedtuple("Stat", "czxid mzxid ctime mtime version cversion aversion ephemeralOwner "
                          "dataLength numChildren pzxid")
ConnectResponse = namedtuple("ConnectResponse", "protocol_version timeout session_id passwd read_only frame_len")
WatchEvent = namedtuple("WatchEvent", "type state path")
MultiResult = namedtuple("MultiResult", "type err value")
Reply = namedtuple("Reply", "xid zxid err value body")


def digest_id(user, password):
    """The digest ACL id for user:password: user:BASE64(SHA1("user:password"))."""
    raw = ("%s:%s" % (user, password)).encode()
    return "%s:%s" % (user, base64.b64encode(hashlib.sha1(raw).digest()).decode())


class ConnectionClosed(Exception):
    """The server closed the TCP connection."""


class MarshalError(Exception):
    """A reply could not be decoded."""


# ---- jute encoding --------------------------------------------------------------------

def _b(s):
    if s is None or isinstance(s, (bytes, bytearray)):
        return s
    return s.encode("utf-8", "surrogateescape")


class W(object):
    """Jute writer."""

    def __init__(self):
        self.parts = []

    def int(self, v):
        self.parts.append(struct.pack(">i", v))
        return self

    def long(self, v):
        self.parts.append(struct.pack(">q", v))
        return self

    def bool(self, v):
        self.parts.append(b"\x01" if v else b"\x00")
        return self

    def buffer(self, v):
        v = _b(v)
        if v is None:
            return self.int(-1)
        self.int(len(v))
        self.parts.append(bytes(v))
        return self

    string = buffer

    def vector(self, items, fn):
        if items is None:
            return self.int(-1)
        self.int(len(items))
        for it in items:
            fn(self, it)
        return self

    def strings(self, items):
        return self.vector(items, lambda w, s: w.string(s))

    def acl(self, a):
        return self.int(a[0]).string(a[1]).string(a[2])

    def acls(self, acls):
        return self.vector(acls, lambda w, a: w.acl(a))

    def raw(self, b):
        self.parts.append(bytes(b))
        return self

    def bytes(self):
        return b"".join(self.parts)


class R(object):
    """Jute reader."""

    def __init__(self, data, pos=0):
        self.d = bytes(data)
        self.p = pos

    def _take(self, n):
        if n < 0 or self.p + n > len(self.d):
            raise MarshalError("short read: need %d at %d of %d" % (n, self.p, len(self.d)))
        b = self.d[self.p:self.p + n]
        self.p += n
        return b

    def int(self):
        return struct.unpack(">i", self._take(4))[0]

    def long(self):
        return struct.unpack(">q", self._take(8))[0]

    def bool(self):
        return self._take(1) != b"\x00"

    def buffer(self):
        n = self.int()
        if n == -1:
            return None
        return self._take(n)

    def string(self):
        b = self.buffer()
        return None if b is None else b.decode("utf-8", "surrogateescape")

    def vector(self, fn):
        n = self.int()
        if n == -1:
            return None
        return [fn(self) for _ in range(n)]

    def strings(self):
        return self.vector(lambda r: r.string())

    def stat(self):
        return Stat(*struct.unpack(">qqqqiiiqiiq", self._take(68)))

    def acl(self):
        return ACL(self.int(), self.string(), self.string())

    def acls(self):
        return self.vector(lambda r: r.acl())

    def remaining(self):
        return len(self.d) - self.p


# ---- request bodies -------------------------------------------------------------------

def enc_create(path, data, acl, flags, ttl=None):
    w = W().string(path).buffer(data).acls(acl).int(flags)
    if ttl is not None:
        w.long(ttl)
    return w.bytes()


def enc_path_watch(path, watch):
    return W().string(path).bool(watch).bytes()


def enc_path_int(path, v):
    return W().string(path).int(v).bytes()


def enc_multi(ops):
    """ops: list of tuples
        ("create"|"create2"|"createContainer", path, data, acl, flags)
        ("createTTL", path, data, acl, flags, ttl)
        ("delete", path, version) ("setData", path, data, version) ("check", path, version)
        ("getData", path) ("getChildren", path)          (multiRead)
        ("raw", type, body_bytes)                           (anything else)"""
    w = W()
    for op in ops:
        kind = op[0]
        if kind == "raw":
            w.int(op[1]).bool(False).int(-1).raw(op[2])
            continue
        w.int(OP[kind]).bool(False).int(-1)
        if kind in ("create", "create2", "createContainer"):
            w.raw(enc_create(op[1], op[2], op[3], op[4]))
        elif kind == "createTTL":
            w.raw(enc_create(op[1], op[2], op[3], op[4], op[5]))
        elif kind in ("delete", "check"):
            w.raw(enc_path_int(op[1], op[2]))
        elif kind == "setData":
            w.string(op[1]).buffer(op[2]).int(op[3])
        elif kind in ("getData", "getChildren"):
            w.raw(enc_path_watch(op[1], op[2] if len(op) > 2 else False))
        else:
            raise ValueError("unknown multi op %r" % (kind,))
    w.int(-1).bool(True).int(-1)
    return w.bytes()


# ---- reply bodies ---------------------------------------------------------------------

def _dec_multi(r):
    out = []
    while True:
        typ, done, err = r.int(), r.bool(), r.int()
        if done:
            break
        if typ == OP["create"]:
            val = r.string()
        elif typ in (OP["create2"], OP["createContainer"], OP["createTTL"]):
            val = (r.string(), r.stat())
        elif typ in (OP["delete"], OP["check"]):
            val = None
        elif typ == OP["setData"]:
            val = r.stat()
        elif typ == OP["getChildren"]:
            val = r.strings()
        elif typ == OP["getData"]:
            val = (r.buffer(), r.stat())
        elif typ == OP["error"]:
            val = r.int()
        else:
            raise MarshalError("unknown multi result type %d" % typ)
        out.append(MultiResult(typ, err, val))
    return out


DECODERS = {
    OP["create"]: lambda r: r.string(),
    OP["create2"]: lambda r: (r.string(), r.stat()),
    OP["createContainer"]: lambda r: (r.string(), r.stat()),
    OP["createTTL"]: lambda r: (r.string(), r.stat()),
    OP["delete"]: lambda r: None,
    OP["exists"]: lambda r: r.stat(),
    OP["getData"]: lambda r: (r.buffer(), r.stat()),
    OP["setData"]: lambda r: r.stat(),
    OP["getACL"]: lambda r: (r.acls(), r.stat()),
    OP["setACL"]: lambda r: r.stat(),
    OP["getChildren"]: lambda r: r.strings(),
    OP["getChildren2"]: lambda r: (r.strings(), r.stat()),
    OP["sync"]: lambda r: r.string(),
    OP["ping"]: lambda r: None,
    OP["check"]: lambda r: None,
    OP["multi"]: _dec_multi,
    OP["multiRead"]: _dec_multi,
    OP["reconfig"]: lambda r: (r.buffer(), r.stat()),
    OP["checkWatches"]: lambda r: None,
    OP["removeWatches"]: lambda r: None,
    OP["auth"]: lambda r: None,
    OP["setWatches"]: lambda r: None,
    OP["setWatches2"]: lambda r: None,
    OP["sasl"]: lambda r: r.buffer(),
    OP["getEphemerals"]: lambda r: r.strings(),
    OP["getAllChildrenNumber"]: lambda r: r.int(),
    OP["addWatch"]: lambda r: r.int(),
    OP["whoAmI"]: lambda r: r.vector(lambda rr: (rr.string(), rr.string())),
    OP["closeSession"]: lambda r: None,
}


# ---- connection -----------------------------------------------------------------------

class Conn(object):
    def __init__(self, host="127.0.0.1", port=2181, timeout=10.0):
        self.host, self.port = host, port
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.xid = 0
        self.events = []          # WatchEvent, in arrival order
        self.session_id = 0
        self.passwd = b"\x00" * 16
        self.negotiated_timeout = 0
        self.last_zxid = 0        # highest zxid > 0 seen in a reply header
        self.closed = False

    # -- framing --
    def settimeout(self, t):
        self.sock.settimeout(t)

    def send_raw(self, data):
        self.sock.sendall(data)

    def send_frame(self, payload):
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)

    def _fill(self, n):
        while len(self.buf) < n:
            try:
                b = self.sock.recv(65536)
            except ConnectionResetError:
                b = b""
            if not b:
                self.closed = True
                raise ConnectionClosed("server closed the connection (%d bytes pending)" % len(self.buf))
            self.buf += b

    def recv_frame(self):
        """Returns one frame's payload (without the 4-byte length)."""
        self._fill(4)
        n = struct.unpack(">i", self.buf[:4])[0]
        if n < 0 or n > 64 * 1024 * 1024:
            raise MarshalError("bad frame length %d" % n)
        self._fill(4 + n)
        payload, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
        return payload

    def recv_bytes(self, n):
        self._fill(n)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def is_closed_by_peer(self, wait=2.0):
        """True if the server closes the connection within `wait` seconds (any data that
        arrives first is kept in the buffer)."""
        old = self.sock.gettimeout()
        self.sock.settimeout(wait)
        try:
            while True:
                b = self.sock.recv(65536)
                if not b:
                    self.closed = True
                    return True
                self.buf += b
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            self.closed = True
            return True
        finally:
            try:
                self.sock.settimeout(old)
            except OSError:
                pass

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True

    # -- handshake --
    def connect_request(self, timeout_ms=30000, session_id=0, passwd=b"\x00" * 16, last_zxid=0,
                        read_only=False, protocol_version=0):
        w = W().int(protocol_version).long(last_zxid).int(timeout_ms).long(session_id).buffer(passwd)
        if read_only is not None:
            w.bool(read_only)
        return w.bytes()

    def connect(self, timeout_ms=30000, session_id=0, passwd=b"\x00" * 16, last_zxid=0,
                read_only=False):
        """Sends a ConnectRequest (read_only=None: the old 44-byte form without readOnly)
        and returns the decoded ConnectResponse."""
        self.send_frame(self.connect_request(timeout_ms, session_id, passwd, last_zxid, read_only))
        payload = self.recv_frame()
        r = R(payload)
        proto, to, sid, pw = r.int(), r.int(), r.long(), r.buffer()
        ro = r.bool() if r.remaining() > 0 else None
        resp = ConnectResponse(proto, to, sid, pw, ro, 4 + len(payload))
        if to > 0 and sid != 0:
            self.session_id, self.passwd, self.negotiated_timeout = sid, pw, to
        return resp

    # -- requests --
    def next_xid(self):
        self.xid += 1
        return self.xid

    def submit(self, opcode, body=b"", xid=None):
        """Sends RequestHeader + body without waiting; returns the xid used."""
        if xid is None:
            xid = self.next_xid()
        self.send_frame(struct.pack(">ii", xid, opcode) + body)
        return xid

    def read_reply(self, opcode=None, keep_events=True):
        """Reads frames until a non-notification reply arrives.  Returns a Reply; value is
        decoded with opcode's decoder if given and err == 0 (for multi, err 0 always)."""
        while True:
            payload = self.recv_frame()
            r = R(payload)
            xid, zxid, err = r.int(), r.long(), r.int()
            if xid == XID_NOTIFICATION:
                ev = WatchEvent(r.int(), r.int(), r.string())
                if keep_events:
                    self.events.append(ev)
                continue
            if zxid > self.last_zxid:
                self.last_zxid = zxid
            body = payload[16:]
            value = None
            if opcode is not None and err == 0 and opcode in DECODERS:
                value = DECODERS[opcode](r)
            return Reply(xid, zxid, err, value, body)

    def call(self, opcode, body=b"", xid=None):
        self.submit(opcode, body, xid)
        return self.read_reply(opcode)

    def take_events(self):
        ev, self.events = self.events, []
        return ev

    # -- the operations of wire-protocol.md §5 --
    def create(self, path, data=b"", acl=OPEN_ACL, flags=0):
        return self.call(OP["create"], enc_create(path, data, acl, flags))

    def create2(self, path, data=b"", acl=OPEN_ACL, flags=0):
        return self.call(OP["create2"], enc_create(path, data, acl, flags))

    def create_container(self, path, data=b"", acl=OPEN_ACL, flags=CONTAINER):
        return self.call(OP["createContainer"], enc_create(path, data, acl, flags))

    def create_ttl(self, path, data=b"", acl=OPEN_ACL, flags=PERSISTENT_WITH_TTL, ttl=60000):
        return self.call(OP["createTTL"], enc_create(path, data, acl, flags, ttl))

    def delete(self, path, version=-1):
        return self.call(OP["delete"], enc_path_int(path, version))

    def exists(self, path, watch=False):
        return self.call(OP["exists"], enc_path_watch(path, watch))

    def get_data(self, path, watch=False):
        return self.call(OP["getData"], enc_path_watch(path, watch))

    def set_data(self, path, data, version=-1):
        return self.call(OP["setData"], W().string(path).buffer(data).int(version).bytes())

    def get_acl(self, path):
        return self.call(OP["getACL"], W().string(path).bytes())

    def set_acl(self, path, acl, version=-1):
        return self.call(OP["setACL"], W().string(path).acls(acl).int(version).bytes())

    def get_children(self, path, watch=False):
        return self.call(OP["getChildren"], enc_path_watch(path, watch))

    def get_children2(self, path, watch=False):
        return self.call(OP["getChildren2"], enc_path_watch(path, watch))

    def sync(self, path):
        return self.call(OP["sync"], W().string(path).bytes())

    def check(self, path, version):
        """Top-level check (opcode 13).  NB: standalone ZooKeeper 3.8 never answers a check
        that passes, so use a socket timeout when calling this against it."""
        return self.call(OP["check"], enc_path_int(path, version))

    def multi(self, ops):
        return self.call(OP["multi"], enc_multi(ops))

    def multi_read(self, ops):
        return self.call(OP["multiRead"], enc_multi(ops))

    def reconfig(self, joining="", leaving="", new_members="", cur_config_id=-1):
        return self.call(OP["reconfig"], W().string(joining).string(leaving).string(new_members)
                         .long(cur_config_id).bytes())

    def check_watches(self, path, wtype):
        return self.call(OP["checkWatches"], enc_path_int(path, wtype))

    def remove_watches(self, path, wtype):
        return self.call(OP["removeWatches"], enc_path_int(path, wtype))

    def add_watch(self, path, mode):
        return self.call(OP["addWatch"], enc_path_int(path, mode))

    def set_watches(self, relative_zxid, data=(), exist=(), child=()):
        body = W().long(relative_zxid).strings(list(data)).strings(list(exist)).strings(list(child)).bytes()
        return self.call(OP["setWatches"], body, xid=XID_SET_WATCHES)

    def set_watches2(self, relative_zxid, data=(), exist=(), child=(), persistent=(), recursive=()):
        body = (W().long(relative_zxid).strings(list(data)).strings(list(exist)).strings(list(child))
                .strings(list(persistent)).strings(list(recursive)).bytes())
        return self.call(OP["setWatches2"], body, xid=XID_SET_WATCHES)

    def auth(self, scheme, auth_bytes):
        body = W().int(0).string(scheme).buffer(auth_bytes).bytes()
        return self.call(OP["auth"], body, xid=XID_AUTH)

    def sasl(self, token):
        return self.call(OP["sasl"], W().buffer(token).bytes())

    def get_ephemerals(self, prefix):
        return self.call(OP["getEphemerals"], W().string(prefix).bytes())

    def get_all_children_number(self, path):
        return self.call(OP["getAllChildrenNumber"], W().string(path).bytes())

    def who_am_i(self):
        return self.call(OP["whoAmI"])

    def ping(self, xid=XID_PING):
        return self.call(OP["ping"], b"", xid=xid)

    def close_session(self):
        r = self.call(OP["closeSession"])
        return r


def connect(host, port, timeout=10.0, **kw):
    """Opens a connection and a new session; returns (Conn, ConnectResponse)."""
    c = Conn(host, port, timeout)
    resp = c.connect(**kw)
    return c, resp
