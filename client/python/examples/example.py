#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Allocate a few pages from mmsimd, write and read them back, print
/proc/buddyinfo before and after; then map anonymous memory and a vmalloc
area, write and read them back, reclaim, and print what the session holds.

    /usr/bin/python3 client/python/examples/example.py [ADDRESS]

ADDRESS is "host:port" or a Unix socket path; default $MMSIM_ADDRESS, else
mmsimd's Unix socket if it exists, else 127.0.0.1:7411. The token comes
from $MMSIM_TOKEN. mmsim_pb2.py is found on PYTHONPATH (the build writes
it to <build>/client/python) or generated with protoc.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                os.pardir))
import mmsim_client  # noqa: E402


def main():
    address = sys.argv[1] if len(sys.argv) > 1 else None
    with mmsim_client.Client(address, client_name="example.py") as c:
        print("connected to %s: server %s, session %d"
              % (c.address, c.server_version, c.session_id))
        print("buddyinfo before:")
        print(c.view_text("buddyinfo"), end="")

        # Four single pages and one order-2 block (4 pages).
        pages = [c.alloc(order=0) for _ in range(4)]
        pages.append(c.alloc(order=2, gfp="GFP_KERNEL|__GFP_ZERO"))
        for p in pages:
            print("allocated pfn %#x order %d on node %d, zone %s"
                  % (p.pfn, p.order, p.node, p.zone))

        if c.summary.contents:
            for i, p in enumerate(pages):
                msg = ("page %d says hello" % i).encode()
                c.write(p.pfn, msg, offset=8 * i)
                back = c.read(p.pfn, offset=8 * i, length=len(msg))
                if back != msg:
                    raise SystemExit("read back %r, wrote %r" % (back, msg))
                print("pfn %#x: read back %r" % (p.pfn, back.decode()))
        else:
            print("metadata-only machine: no page contents to write")

        # Pipelined: eight requests on the wire before the first answer.
        ids = [c.send(mmsim_client.pb.Request(
            alloc=mmsim_client.pb.AllocPages(order=0, gfp=mmsim_client.GFP_KERNEL, node=-1)))
            for _ in range(8)]
        extra = [c.recv() for _ in ids]
        assert [r.id for r in extra] == ids
        print("pipelined %d allocations, ids %d..%d"
              % (len(ids), ids[0], ids[-1]))
        pages += [mmsim_client.Page(r.alloc.pfn, r.alloc.node, r.alloc.zone,
                                    r.alloc.order) for r in extra]

        print("buddyinfo with %d blocks allocated:" % len(pages))
        print(c.view_text("buddyinfo"), end="")

        for p in pages:
            c.free(p.pfn, p.order)
        ok, problem = c.check()
        if not ok:
            raise SystemExit("check failed: " + problem)
        print("freed %d blocks; check: OK" % len(pages))

        # Anonymous memory: mapped now, each page faulted in on first
        # touch (zero-filled), written, read back across a page boundary.
        npages = 64
        addr = c.mmap(npages)
        msg = b"anonymous memory crosses pages"
        c.mem_write(addr + 4096 - 10, msg)
        back = c.mem_read(addr + 4096 - 10, len(msg))
        if back != msg:
            raise SystemExit("mem_read %r, wrote %r" % (back, msg))
        if c.mem_read(addr + 8 * 4096, 16) != bytes(16):
            raise SystemExit("an untouched page is not zero")
        st = c.mm_stat()
        print("mmap %d pages at %#x: read back %r; rss %d, %d minor faults"
              % (npages, addr, back.decode(), st.rss, st.minflt))

        # A vmalloc area: virtually contiguous, backed by order-0 pages.
        area = c.vmalloc(3 * 4096 + 100)
        c.vwrite(area.addr + 4090, b"vmalloc!")
        back = c.vread(area.addr + 4090, 8)
        if back != b"vmalloc!":
            raise SystemExit("vread %r" % back)
        print("vmalloc area at %#x, %d bytes: read back %r"
              % (area.addr, area.size, back.decode()))
        print("vmallocinfo:")
        print(c.view_text("vmallocinfo"), end="")

        # Reclaim in this session's server worker: deterministic.
        r = c.reclaim(steps=4)
        meminfo = c.meminfo()
        print("reclaim: scanned %d, reclaimed %d; MemFree %s kB, SwapFree "
              "%s kB" % (r.scanned, r.reclaimed, meminfo.get("MemFree"),
                         meminfo.get("SwapFree", 0)))
        # Data survives reclaim, swapped out or not.
        if c.mem_read(addr + 4096 - 10, len(msg)) != msg:
            raise SystemExit("anonymous memory changed after reclaim")

        c.vfree(area)
        c.munmap(addr, npages)
        st = c.mm_stat()
        ok, problem = c.check()
        if not ok or st.total_vm or st.vmalloc_areas:
            raise SystemExit("after munmap and vfree: check %s, %d pages "
                             "mapped, %d areas" % (problem or "OK",
                                                   st.total_vm,
                                                   st.vmalloc_areas))
        print("unmapped and vfreed; check: OK")
    print("example: OK")


if __name__ == "__main__":
    try:
        main()
    except (mmsim_client.MmsimError, mmsim_client.TransportError) as e:
        print("example: %s" % e, file=sys.stderr)
        sys.exit(1)
