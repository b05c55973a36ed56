# SPDX-License-Identifier: MIT
"""mmsim_client - a Python client of mmsimd, the mmsim daemon.

Runs on Debian's python3-protobuf (use /usr/bin/python3: a pyenv or venv
python does not see Debian's packages). The message classes come from
mmsim_pb2.py, which protoc generates from proto/mmsim.proto: the build
writes it to <build>/client/python (put that on PYTHONPATH); failing that,
this module runs protoc itself on the proto file of the source tree it
sits in (Debian: apt-get install protobuf-compiler).

    import mmsim_client
    with mmsim_client.Client("127.0.0.1:7411") as c:
        page = c.alloc(order=0)
        c.write(page.pfn, b"hello")
        print(c.read(page.pfn, length=5))
        print(c.view_text("buddyinfo"), end="")
        addr = c.mmap(16)                 # anonymous memory, faulted in
        c.mem_write(addr + 100, b"anon")
        area = c.vmalloc(10000)           # a vmalloc area (3 pages)
        c.vwrite(area.addr, b"virt")

One Client is one connection and one server session: the pages it
allocates are freed by the server when the connection closes. A Client is
not thread-safe; use one per thread.

Errors: a request the server refuses raises MmsimError (.status is the
Status name, e.g. "NOT_OWNER", .code its number, .message the server's
text); a dead connection raises TransportError, after which the Client is
closed.
"""

import collections
import importlib
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile

__all__ = [
    "Client", "MmsimError", "TransportError", "Page", "Area",
    "default_address",
    "parse_gfp", "GFP", "pb",
]

PROTOCOL_VERSION = 1
DEFAULT_TCP = "127.0.0.1:7411"
_FRAME_MAX_DEFAULT = 1 << 20
_MAX_RESPONSE = 64 << 20


def _load_pb2():
    """Import mmsim_pb2, generating it with protoc when it is missing."""
    try:
        return importlib.import_module("mmsim_pb2")
    except ImportError:
        pass
    here = os.path.dirname(os.path.abspath(__file__))
    proto = os.environ.get("MMSIM_PROTO") or os.path.join(
        here, os.pardir, os.pardir, "proto", "mmsim.proto")
    proto = os.path.normpath(proto)
    protoc = shutil.which("protoc")
    if not protoc or not os.path.exists(proto):
        raise ImportError(
            "mmsim_pb2 not found: build the project and add "
            "<build>/client/python to PYTHONPATH, or install protoc "
            "(apt-get install protobuf-compiler) so it can be generated "
            "from %s" % proto)
    tmp = tempfile.mkdtemp(prefix="mmsim_pb2-")
    try:
        subprocess.run([protoc, "--python_out=" + tmp,
                        "--proto_path=" + os.path.dirname(proto), proto],
                       check=True)
        sys.path.insert(0, tmp)
        try:
            return importlib.import_module("mmsim_pb2")
        finally:
            sys.path.remove(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


pb = _load_pb2()

# GFP bits, as in daemon/mm/include/mmsim/mm.h (the values are mmsim's).
GFP = {
    "__GFP_DMA": 0x01,
    "__GFP_HIGHMEM": 0x02,
    "__GFP_DMA32": 0x04,
    "__GFP_MOVABLE": 0x08,
    "__GFP_HIGH": 0x20,
    "__GFP_KSWAPD_RECLAIM": 0x40,
    "__GFP_DIRECT_RECLAIM": 0x80,
    "__GFP_ZERO": 0x100,
    "__GFP_THISNODE": 0x200,
    "__GFP_NOWARN": 0x400,
    "__GFP_NORETRY": 0x800,
    "__GFP_NOFAIL": 0x1000,
    "__GFP_NOMEMALLOC": 0x2000,
}
GFP["__GFP_RECLAIM"] = GFP["__GFP_KSWAPD_RECLAIM"] | GFP["__GFP_DIRECT_RECLAIM"]
GFP["GFP_KERNEL"] = GFP["__GFP_RECLAIM"]
GFP["GFP_NOWAIT"] = GFP["__GFP_KSWAPD_RECLAIM"]
GFP["GFP_ATOMIC"] = GFP["__GFP_HIGH"] | GFP["__GFP_KSWAPD_RECLAIM"]
GFP["GFP_USER"] = GFP["__GFP_RECLAIM"]
GFP["GFP_HIGHUSER"] = GFP["GFP_USER"] | GFP["__GFP_HIGHMEM"]
GFP["GFP_HIGHUSER_MOVABLE"] = GFP["GFP_HIGHUSER"] | GFP["__GFP_MOVABLE"]
GFP["GFP_DMA"] = GFP["__GFP_DMA"]
GFP["GFP_DMA32"] = GFP["__GFP_DMA32"]
GFP_KERNEL = GFP["GFP_KERNEL"]

_VIEWS = {
    "buddyinfo": "BUDDYINFO",
    "zoneinfo": "ZONEINFO",
    "vmstat": "VMSTAT",
    "memblock": "MEMBLOCK_MEMORY",
    "memblock_memory": "MEMBLOCK_MEMORY",
    "memblock_reserved": "MEMBLOCK_RESERVED",
    "bootlog": "BOOTLOG",
    "vmallocinfo": "VMALLOCINFO",
    "swaps": "SWAPS",
    "meminfo": "MEMINFO",
}

# Statuses after which the server closes the connection.
_CLOSING_CODES = {pb.Status.Value(n) for n in (
    "UNAUTHENTICATED", "BAD_VERSION", "FRAME_TOO_LARGE", "MALFORMED",
    "KILLED")}

Page = collections.namedtuple("Page", "pfn node zone order")
# A vmalloc area: its start address and size in bytes (whole pages).
Area = collections.namedtuple("Area", "addr size")


def parse_gfp(spec):
    """'GFP_KERNEL|__GFP_ZERO', 'gfp_atomic', '0x140' or an int to bits."""
    if isinstance(spec, int):
        return spec
    bits = 0
    for word in spec.replace(",", "|").replace("+", "|").split("|"):
        word = word.strip()
        if word[:1].isdigit():
            bits |= int(word, 0)
            continue
        name = word.upper()
        if name.startswith("__"):
            name = name[2:]
        value = GFP.get(name, GFP.get("__" + name))
        if value is None:
            raise ValueError("unknown GFP flag %r" % word)
        bits |= value
    return bits


def default_address():
    """$MMSIM_ADDRESS, else mmsimd's Unix socket if it exists, else TCP."""
    env = os.environ.get("MMSIM_ADDRESS")
    if env:
        return env
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    path = (os.path.join(xdg, "mmsimd.sock") if xdg and xdg.startswith("/")
            else "/tmp/mmsimd-%d.sock" % os.getuid())
    return path if os.path.exists(path) else DEFAULT_TCP


class MmsimError(Exception):
    """The server refused a request."""

    def __init__(self, code, message):
        self.code = code
        try:
            self.status = pb.Status.Name(code)
        except ValueError:
            self.status = "UNKNOWN(%d)" % code
        self.message = message or self.status
        super().__init__("%s: %s" % (self.status, self.message))


class TransportError(Exception):
    """The connection failed or broke (or the server broke the protocol)."""


class Client:
    """One connection to mmsimd, hence one session.

    address: "host:port", "[v6]:port", a Unix socket path (anything with
    a '/'), "unix:PATH", or None for default_address(). token: bytes or
    str; None reads $MMSIM_TOKEN. timeout: seconds for connecting and for
    each answer (None: wait forever).
    """

    def __init__(self, address=None, token=None, timeout=5.0,
                 client_name="mmsim-python"):
        self.address = address or default_address()
        if token is None:
            token = os.environ.get("MMSIM_TOKEN") or None
        if isinstance(token, str):
            token = token.encode()
        self._sock = None
        self._timeout = timeout
        self._eof = False
        self._next_id = 1
        self._wire_id = 1
        self._queue = collections.deque()
        self._rbuf = bytearray()
        self.max_frame_bytes = _FRAME_MAX_DEFAULT
        self.max_inflight = 1
        self._connect(timeout)
        hello = pb.Hello(protocol_version=PROTOCOL_VERSION,
                         client_name=client_name)
        if token is not None:
            hello.token = token
        try:
            reply = self._call(pb.Request(hello=hello), "hello")
        except Exception:
            self.close()
            raise
        self.hello = reply
        self.session_id = reply.session_id
        self.server_version = reply.server_version
        self.limits = reply.limits
        self.summary = reply.machine
        if reply.limits.max_frame_bytes:
            self.max_frame_bytes = reply.limits.max_frame_bytes
        self.max_inflight = reply.limits.max_inflight or 128

    # -- connection

    def _connect(self, timeout):
        addr = self.address
        try:
            if addr.startswith("unix:") or "/" in addr:
                path = addr[5:] if addr.startswith("unix:") else addr
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(timeout)
                try:
                    sock.connect(path)
                except OSError:
                    sock.close()
                    raise
            else:
                host, sep, port = addr.rpartition(":")
                if not sep or not host or not port:
                    raise ValueError(
                        "bad address %r: want HOST:PORT or a socket path"
                        % addr)
                host = host[1:-1] if host.startswith("[") else host
                sock = socket.create_connection((host, int(port)),
                                                timeout=timeout)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError as e:
            raise TransportError("connect %s: %s" % (addr, e)) from e
        self._sock = sock

    def close(self):
        """Close the connection; the server frees the session's pages."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _dead(self, message):
        self.close()
        return TransportError(message)

    # -- framing

    def _write(self, req):
        if self._sock is None:
            raise TransportError("connection closed")
        data = req.SerializeToString()
        if len(data) > self.max_frame_bytes:
            raise ValueError("request of %d bytes exceeds max_frame_bytes %d"
                             % (len(data), self.max_frame_bytes))
        self._send_reading(struct.pack(">I", len(data)) + data)

    def _send_reading(self, data):
        """Send all of data, reading responses meanwhile (PROTOCOL.md 2.1:
        a server that cannot send stops reading)."""
        view = memoryview(data)
        sock = self._sock
        try:
            while view:
                rd, wr, _ = select.select([] if self._eof else [sock],
                                          [sock], [], self._timeout)
                if not rd and not wr:
                    raise self._dead("timed out sending to the server")
                if rd:
                    chunk = sock.recv(65536)
                    if not chunk:
                        # What it sent before closing says why: recv()
                        # finds it in _rbuf.
                        self._eof = True
                        return
                    self._rbuf += chunk
                if wr:
                    view = view[sock.send(view):]
        except (socket.timeout, BlockingIOError):
            raise self._dead("timed out sending to the server")
        except OSError as e:
            raise self._dead("send: %s" % e) from e

    def _read_exact(self, n):
        while len(self._rbuf) < n:
            if self._eof or self._sock is None:
                chunk = b""
            else:
                try:
                    chunk = self._sock.recv(max(65536, n - len(self._rbuf)))
                except socket.timeout as e:
                    raise self._dead("timed out waiting for the server") from e
                except OSError as e:
                    raise self._dead("recv: %s" % e) from e
            if not chunk:
                last = self._queue[-1] if self._queue else None
                self.close()
                if last is not None and last.status in _CLOSING_CODES:
                    raise MmsimError(last.status, last.message)
                raise TransportError("the server closed the connection")
            self._rbuf += chunk
        data = bytes(self._rbuf[:n])
        del self._rbuf[:n]
        return data

    def _read_one(self):
        """Read one response off the wire into the queue."""
        if self._sock is None:
            raise TransportError("connection closed")
        (n,) = struct.unpack(">I", self._read_exact(4))
        if n > _MAX_RESPONSE:
            raise self._dead("response frame of %d bytes" % n)
        resp = pb.Response()
        try:
            resp.ParseFromString(self._read_exact(n))
        except Exception as e:  # google.protobuf.message.DecodeError
            raise self._dead("undecodable response: %s" % e) from e
        if resp.id != self._wire_id:
            if resp.status != pb.OK:
                self.close()
                raise MmsimError(resp.status, resp.message)
            raise self._dead("response id %d, expected %d"
                             % (resp.id, self._wire_id))
        self._wire_id += 1
        self._queue.append(resp)

    # -- pipelining

    def send(self, req):
        """Send a pb.Request without waiting; return its id.

        Blocks only while max_inflight requests are unanswered (reading
        responses into the queue for recv()).
        """
        while self._next_id - self._wire_id >= self.max_inflight:
            self._read_one()
        req.id = self._next_id
        self._write(req)
        self._next_id += 1
        return req.id

    def recv(self):
        """The next pb.Response, in request order (any status)."""
        if not self._queue:
            if self._wire_id == self._next_id:
                raise ValueError("recv with no request pending")
            self._read_one()
        resp = self._queue.popleft()
        if resp.status in _CLOSING_CODES:
            self.close()
        return resp

    def pending(self):
        """Requests sent whose response recv() has not returned."""
        return self._next_id - self._wire_id + len(self._queue)

    def _call(self, req, result):
        rid = self.send(req)
        while self._wire_id <= rid:
            self._read_one()
        resp = self._queue.pop()  # ours is the newest
        if resp.status != pb.OK:
            if resp.status in _CLOSING_CODES:
                self.close()
            raise MmsimError(resp.status, resp.message)
        if result is None:
            return resp
        if resp.WhichOneof("result") != result:
            raise self._dead("expected a %s result, got %s"
                             % (result, resp.WhichOneof("result")))
        return getattr(resp, result)

    # -- operations

    def ping(self, payload=b""):
        pong = self._call(pb.Request(ping=pb.Ping(payload=payload)), "pong")
        if pong.payload != payload:
            raise self._dead("Pong payload differs")

    def alloc(self, order=0, gfp=GFP_KERNEL, node=-1):
        """Allocate 2^order pages; return a Page."""
        r = self._call(pb.Request(alloc=pb.AllocPages(
            order=order, gfp=parse_gfp(gfp), node=node)), "alloc")
        return Page(r.pfn, r.node, r.zone, r.order)

    def free(self, pfn, order=0):
        self._call(pb.Request(free=pb.FreePages(pfn=pfn, order=order)), None)

    def alloc_batch(self, entries):
        """entries: (order, gfp, node) tuples. Return one item per entry:
        a Page, or an MmsimError (not raised)."""
        req = pb.Request(alloc_batch=pb.AllocBatch(allocs=[
            pb.AllocPages(order=o, gfp=parse_gfp(g), node=n)
            for (o, g, n) in entries]))
        out = []
        for r in self._call(req, "alloc_batch").results:
            if r.status != pb.OK:
                out.append(MmsimError(r.status, r.message))
            else:
                out.append(Page(r.page.pfn, r.page.node, r.page.zone,
                                r.page.order))
        return out

    def free_batch(self, entries):
        """entries: (pfn, order) tuples. Return None or an MmsimError per
        entry."""
        req = pb.Request(free_batch=pb.FreeBatch(frees=[
            pb.FreePages(pfn=p, order=o) for (p, o) in entries]))
        return [None if r.status == pb.OK else MmsimError(r.status, r.message)
                for r in self._call(req, "free_batch").results]

    def read(self, pfn, offset=0, length=None):
        """Bytes of page pfn (any page of a block this session owns)."""
        if length is None:
            length = (self.summary.page_size or 4096) - offset
        r = self._call(pb.Request(read=pb.ReadPage(
            pfn=pfn, offset=offset, length=length)), "read")
        return r.data

    def write(self, pfn, data, offset=0):
        if isinstance(data, str):
            data = data.encode()
        self._call(pb.Request(write=pb.WritePage(
            pfn=pfn, offset=offset, data=data)), None)

    def view(self, kind):
        """A pb.ViewReply; kind: 'buddyinfo', 'zoneinfo', 'vmstat',
        'memblock_memory', 'memblock_reserved', 'bootlog', 'vmallocinfo',
        'swaps', 'meminfo' or a ViewKind."""
        if isinstance(kind, str):
            kind = pb.ViewKind.Value(_VIEWS[kind.lower()])
        return self._call(pb.Request(view=pb.GetView(kind=kind)), "view")

    def view_text(self, kind):
        """The view exactly as the kernel prints it."""
        return self.view(kind).text

    def vmstat(self):
        """/proc/vmstat as a dict."""
        return {c.name: c.value for c in self.view("vmstat").counters}

    def check(self, full=False):
        """Run the invariant checker; return (ok, problem)."""
        r = self._call(pb.Request(check=pb.Check(full=full)), "check")
        return r.ok, r.problem

    def machine(self):
        """A pb.MachineReply: summary, nodes, zones."""
        return self._call(pb.Request(machine=pb.GetMachine()), "machine")

    # -- virtual memory: the session's address space and vmalloc areas

    def mmap(self, nr_pages, node=-1):
        """Map nr_pages of anonymous memory (faulted in on first touch);
        return the start address."""
        return self._call(pb.Request(mmap=pb.Mmap(
            nr_pages=nr_pages, node=node)), "mmap").addr

    def munmap(self, addr, nr_pages):
        """Unmap [addr, addr + nr_pages pages); holes are fine."""
        self._call(pb.Request(munmap=pb.Munmap(
            addr=addr, nr_pages=nr_pages)), None)

    def mem_read(self, addr, length):
        """length bytes of the address space (at most max_frame_bytes)."""
        return self._call(pb.Request(mem_read=pb.MemRead(
            addr=addr, length=length)), "read").data

    def mem_write(self, addr, data):
        if isinstance(data, str):
            data = data.encode()
        self._call(pb.Request(mem_write=pb.MemWrite(
            addr=addr, data=data)), None)

    def mm_stat(self):
        """A pb.MmStatReply: total_vm, rss, swapents, faults, vmalloc
        pages..., all in pages."""
        return self._call(pb.Request(mm_stat=pb.GetMmStat()), "mm_stat")

    def vmalloc(self, size, node=-1):
        """A vmalloc area of size bytes (rounded up to pages); an Area."""
        r = self._call(pb.Request(vmalloc=pb.Vmalloc(
            size=size, node=node)), "vmalloc")
        return Area(r.addr, r.size)

    def vfree(self, addr):
        """Free the area starting at addr (an int or an Area)."""
        if isinstance(addr, Area):
            addr = addr.addr
        self._call(pb.Request(vfree=pb.Vfree(addr=addr)), None)

    def vread(self, addr, length):
        return self._call(pb.Request(vread=pb.VRead(
            addr=addr, length=length)), "read").data

    def vwrite(self, addr, data):
        if isinstance(data, str):
            data = data.encode()
        self._call(pb.Request(vwrite=pb.VWrite(addr=addr, data=data)), None)

    def reclaim(self, node=-1, steps=1, balance=False, as_kswapd=False):
        """Reclaim now, in the server worker serving this session: steps
        shrink_node() passes per node (node -1: every node), or
        balance_pgdat() with balance=True. A pb.ReclaimReply."""
        req = pb.Reclaim(node=node, balance=balance, as_kswapd=as_kswapd)
        if not balance:
            req.steps = steps
        return self._call(pb.Request(reclaim=req), "reclaim")

    def meminfo(self):
        """/proc/meminfo as a dict of kB (or page counts for lines
        without a unit)."""
        out = {}
        for line in self.view_text("meminfo").splitlines():
            name, _, rest = line.partition(":")
            if rest.split():
                out[name.strip()] = int(rest.split()[0])
        return out
