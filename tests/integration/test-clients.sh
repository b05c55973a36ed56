#!/bin/sh
# The clients end to end against a real mmsimd on an ephemeral TCP port
# and a temporary Unix socket, with a token: mmsimctl (kernel text,
# --json, exit statuses, sessions and scripts with the address space and
# vmalloc areas, vmstat --watch) and the Python example under
# /usr/bin/python3 (skipped, saying SKIP, without python3-protobuf).
#
# Usage: test-clients.sh MMSIMD MMSIMCTL SOURCE_DIR PYTHON_GEN_DIR
set -u
mmsimd=$1
mmsimctl=$2
src=$3
pygen=$4

test_name=clients
. "$(dirname "$0")/lib.sh"

# expect NAME FILE PATTERN: grep -E PATTERN in $tmp/FILE.
expect() {
    if ! grep -Eq -- "$3" "$tmp/$2"; then
        fail "$1: no match for /$3/ in $2"
        sed "s/^/  $2: /" "$tmp/$2" | head -20 >&2
    fi
}

# -- start the daemon
printf 's3cret\n' >"$tmp/token"
chmod 600 "$tmp/token"
sock=$tmp/mmsimd.sock
"$mmsimd" --listen 127.0.0.1:0 --unix "$sock" --token-file "$tmp/token" \
    --workers 2 2>"$tmp/mmsimd.log" &
pid=$!
wait_ready "$tmp/mmsimd.log"
tcp=$(sed -n 's/.*mmsimd ready: tcp \([^,]*\),.*/\1/p' "$tmp/mmsimd.log")
[ -n "$tcp" ] || { echo "FAIL: no tcp address in the ready line" >&2; exit 1; }
echo "mmsimd ready: tcp $tcp, unix $sock"

ctl() {
    "$mmsimctl" -s "$sock" --token-file "$tmp/token" "$@"
}

# -- usage, help, version
run help 0 "$mmsimctl" --help && {
    for w in ping buddyinfo zoneinfo vmstat memblock bootlog check machine \
        alloc free read write session --json --timeout --token-file \
        vmallocinfo swaps meminfo reclaim mmap munmap mread mwrite mmstat \
        vmalloc vfree vread vwrite script --watch --count; do
        expect "help mentions $w" out "$w"
    done
    expect "help says pages die with the connection" out \
        "^Pages belong to the connection's session"
}
run version 0 "$mmsimctl" --version && expect version out '^mmsimctl [0-9]'
run "no command" 2 "$mmsimctl"
run "unknown command" 2 ctl frobnicate && expect "unknown command" err \
    "unknown command 'frobnicate'"
run "bad order" 2 ctl alloc --order x
run "bad gfp" 2 ctl alloc --gfp GFP_BOGUS
run "write needs data" 2 ctl write 0x1000
run "command help" 0 ctl alloc --help && expect "alloc --help" out "--count"

# -- connecting and authentication
run "no token" 1 "$mmsimctl" -s "$sock" ping &&
    expect "no token" err '^mmsimctl: UNAUTHENTICATED: '
run "no token json" 1 "$mmsimctl" -s "$sock" --json ping &&
    expect "no token json" out '"ok":false'
run "refused port" 3 "$mmsimctl" -a 127.0.0.1:1 --timeout 2 ping
run "no socket" 3 "$mmsimctl" -s "$tmp/nonexistent.sock" ping
run "ping unix" 0 ctl ping && expect "ping unix" out '^PONG$'
run "ping tcp" 0 "$mmsimctl" -a "$tcp" --token-file "$tmp/token" ping hello &&
    expect "ping tcp" out '^hello$'
run "ping env" 0 env MMSIM_ADDRESS="$tcp" MMSIM_TOKEN=s3cret "$mmsimctl" \
    --json ping && expect "ping env" out '"ok":true.*"rtt_us":[0-9]+'

# -- views, text and JSON
run buddyinfo 0 ctl buddyinfo && {
    expect buddyinfo out '^Node 0, zone +DMA( +[0-9]+){11} *$'
    expect buddyinfo out '^Node 1, zone +Normal'
}
run "buddyinfo json" 0 ctl --json buddyinfo &&
    expect "buddyinfo json" out \
        '^\{"zones":\[\{"node":0,"zone":"DMA","nr_free":\[[0-9,]+\]\}'
run zoneinfo 0 ctl zoneinfo && {
    expect zoneinfo out '^Node 0, zone +DMA32$'
    expect zoneinfo out '^  pages free +[0-9]+$'
}
run "zoneinfo json" 0 ctl zoneinfo --json &&
    expect "zoneinfo json" out '"zone":"Normal","start_pfn":[0-9]+,.*"min":'
run vmstat 0 ctl vmstat && expect vmstat out '^nr_free_pages [0-9]+$'
run "vmstat json" 0 ctl --json vmstat &&
    expect "vmstat json" out '^\{"nr_free_pages":[0-9]+,'
run memblock 0 ctl memblock && expect memblock out '^ +0: 0x[0-9a-f]+\.\.0x'
run "memblock reserved" 0 ctl memblock reserved &&
    expect "memblock reserved" out '^ +0: 0x'
run "memblock bad" 2 ctl memblock sideways
run bootlog 0 ctl bootlog && expect bootlog out 'BIOS-e820'
run "bootlog json" 0 ctl --json bootlog &&
    expect "bootlog json" out '^\{"lines":\["'
run meminfo 0 ctl meminfo && expect meminfo out '^MemTotal: +[0-9]+ kB$'
run swaps 0 ctl swaps && expect swaps out '^Filename'
run vmallocinfo 0 ctl vmallocinfo
run reclaim 0 ctl reclaim --steps 2 &&
    expect reclaim out '^scanned [0-9]+, reclaimed [0-9]+, '
run "reclaim json" 0 ctl --json reclaim --balance --node 0 &&
    expect "reclaim json" out '^\{"ok":true,"reclaimed":[0-9]+,"balanced":'
run "reclaim steps 0" 1 ctl reclaim --steps 0 &&
    expect "reclaim steps 0" err 'OUT_OF_RANGE'
run check 0 ctl check && expect check out '^OK$'
run "check full json" 0 ctl --json check --full &&
    expect "check full json" out '^\{"ok":true,"full":true\}$'
run machine 0 ctl machine && {
    expect machine out '^nodes: +2$'
    expect machine out '^node 1:$'
}
run "machine json" 0 ctl --json machine &&
    expect "machine json" out '^\{"nodes":2,"cpus":[0-9]+,.*"node_list":\['

# -- one-shot allocations: the pages die with the connection
run alloc 0 ctl alloc --order 3 --node 1 && {
    expect alloc out '^pfn 0x[0-9a-f]+ order 3 node 1 zone [A-Za-z0-9]+$'
    expect alloc err 'freed when mmsimctl exits'
}
pfn=$(sed -n 's/^pfn \(0x[0-9a-f]*\) .*/\1/p' "$tmp/out")
run "alloc json" 0 ctl --json alloc --count 4 --gfp 'GFP_KERNEL|__GFP_ZERO' &&
    expect "alloc json" out \
        '^\{"ok":true,"session":[0-9]+,"pages":\[(\{"pfn":[0-9]+,"order":0,"node":[0-9]+,"zone":"[A-Za-z0-9]+"\},?){4}\]\}$'
run "alloc gfp number" 0 ctl alloc --gfp 0xc0
run "alloc no node" 1 ctl alloc --node 9 &&
    expect "alloc no node" err '^mmsimctl: NO_SUCH_NODE: '
run "alloc big order" 1 ctl alloc --order 40 &&
    expect "alloc big order" err '^mmsimctl: [A-Z_]+: '
if [ -n "$pfn" ]; then
    run "free elsewhere" 1 ctl free "$pfn" --order 3 &&
        expect "free elsewhere" err '^mmsimctl: NOT_OWNER: '
    run "read elsewhere" 1 ctl --json read "$pfn" &&
        expect "read elsewhere" out '"status":"NOT_OWNER"'
else
    fail "alloc printed no pfn"
fi

# -- a session: pages live across commands
cat >"$tmp/script" <<'EOF'
# allocate, write, read back, free
alloc --order 2 --node 0
write $PFN --data hello
read $PFN --length 5
write $PFN+3 --offset 4092 --hex 'de ad be ef'
read $PFN+3 --offset 4092 --length 4 --json
write $PFN --offset 100 --data "two words"
read $PFN --offset 100 --length 9 --json
free $PFN --order 2
check --full
EOF
run session 0 ctl session <"$tmp/script" && {
    expect session out '^pfn 0x[0-9a-f]+ order 2 node 0 zone '
    expect session out '^OK, wrote 5 bytes$'
    expect session out '^00000000  68 65 6c 6c 6f +\|hello\|$'
    expect session out '"hex":"deadbeef"'
    expect session out '"hex":"74776f20776f726473"'
    expect session out '^OK$'
}
# Failures are reported with their line; the session goes on (not with -e)
# and exits with the last failure's status.
printf '%s\n' 'alloc --order 1' 'free $PFN --order 0' 'free $PFN --order 1' \
    'free $PFN --order 1' 'ping' >"$tmp/script2"
run "session errors" 1 ctl session <"$tmp/script2" && {
    expect "session errors" err '^mmsimctl: line 2: WRONG_ORDER: '
    expect "session errors" err '^mmsimctl: line 4: NOT_OWNER: '
    expect "session errors" out '^PONG$'
}
if run "session -e" 1 ctl session -e <"$tmp/script2"; then
    if grep -q PONG "$tmp/out"; then fail "session -e went on"; fi
fi
run "session json" 1 ctl --json session <"$tmp/script2" &&
    expect "session json" out '^\{"ok":false,"status":"NOT_OWNER",'
printf '%s\n' 'alloc --count 2' 'write $PFN1 --hex 00ff' \
    'read $PFN1 --length 2 --raw' >"$tmp/script3"
if run "session raw" 0 ctl session <"$tmp/script3"; then
    last=$(tail -c 2 "$tmp/out" | od -An -tx1 | tr -d ' \n')
    [ "$last" = "00ff" ] || fail "session raw: last bytes are $last, not 00ff"
fi
run "session bad variable" 2 ctl session <<'EOF'
read $PFN
EOF

# -- a script: the address space and vmalloc areas within one session
printf 'from a file\n' >"$tmp/payload"
cat >"$tmp/vm-script" <<'EOF'
# map, write, read back the same bytes, unmap
buf = mmap 16  # a trailing comment
mwrite $buf 100 "hello, world"
mread $buf+100 12 --text
mread $1+100 12 --json
mwrite $buf 8190 --hex 'de ad be ef'
mread $buf+8190 4 --json
mmstat
munmap $buf 16
mmstat --json
# a vmalloc area: the same round trip
area = vmalloc 10K
vwrite $area 4090 --hex '01 02 03 04 05 06 07 08'
vread $2+4090 8 --json
vmallocinfo
EOF
printf '%s\n' "vwrite \$area 0 @$tmp/payload" 'vread $area 11 --text' \
    'vfree $area' 'mmstat --json' >>"$tmp/vm-script"
run "vm script" 0 ctl script "$tmp/vm-script" && {
    expect "vm script mmap" out '^addr 0x7[0-9a-f]+ pages 16$'
    expect "vm script mread text" out '^hello, world$'
    expect "vm script mread json" out \
        '^\{"ok":true,"addr":"0x7[0-9a-f]+","length":12,"hex":"68656c6c6f2c20776f726c64"\}$'
    expect "vm script across pages" out '"length":4,"hex":"deadbeef"'
    expect "vm script mmstat" out '^total_vm +16$'
    expect "vm script mmstat rss" out '^rss +3$'
    expect "vm script munmap" out '"total_vm":0,"rss":0,'
    expect "vm script vmalloc" out '^addr 0x[0-9a-f]+ size 12288$'
    expect "vm script vread" out '"length":8,"hex":"0102030405060708"'
    expect "vm script vmallocinfo" out \
        '^0x[0-9a-f]+-0x[0-9a-f]+ +16384 mmsim_vmalloc\+0x0/0x0 pages=3 vmalloc'
    expect "vm script @file" out '^from a file$'
    expect "vm script vfree" out '"vmalloc_pages":0,"vmalloc_areas":0,'
}
# From stdin, with $N for alloc's pfn too, and @- reading stdin when the
# script is a file.
printf '%s\n' 'p = alloc --order 1' 'write $1+1 --data pfn' \
    'read $p+1 --length 3 --json' | ctl script - >"$tmp/out" 2>"$tmp/err" ||
    fail "script - : exit status $?"
expect "script stdin" out '^pfn 0x[0-9a-f]+ order 1 '
expect "script stdin" out '"length":3,"hex":"70666e"'
printf '%s\n' 'b = mmap 1' 'mwrite $b 0 @-' 'mread $b 16 --text' \
    >"$tmp/stdin-script"
printf 'piped in' | ctl script "$tmp/stdin-script" >"$tmp/out" 2>&1 ||
    fail "script @-: exit status $?"
expect "script @-" out '^piped in$'
# One-shot: the mapping is gone with the connection.
run "mmap one-shot" 0 ctl mmap 4 && {
    expect "mmap one-shot" out '^addr 0x[0-9a-f]+ pages 4$'
    expect "mmap one-shot" err 'freed when mmsimctl exits'
}
addr=$(sed -n 's/^addr \(0x[0-9a-f]*\) .*/\1/p' "$tmp/out")
run "mread one-shot" 1 ctl mread "${addr:-0x7effffff0000}" 4 &&
    expect "mread one-shot" err '^mmsimctl: BAD_ADDRESS: '
run "vmalloc bad size" 2 ctl vmalloc 10X
run "mwrite no data" 2 ctl mwrite 0x1000 0
# Errors name the line and stop the script with the command's status.
printf '%s\n' 'b = mmap 1' 'mread $b 4' 'mread $b+4096 4' 'ping' \
    >"$tmp/bad-script"
run "script server error" 1 ctl script "$tmp/bad-script" && {
    expect "script server error" err \
        "^mmsimctl: $tmp/bad-script: line 3: BAD_ADDRESS: "
    if grep -q PONG "$tmp/out"; then fail "script went on after line 3"; fi
}
run "script bad variable" 2 ctl script - <<'EOF'
ping
mwrite $nope 0 x
ping
EOF
expect "script bad variable" err "^mmsimctl: line 2: unknown variable '.nope'$"
[ "$(grep -c PONG "$tmp/out")" -eq 1 ] || fail "script went on after line 2"
run "script bad quotes" 2 ctl script - <<'EOF'
ping "no end
EOF
expect "script bad quotes" err '^mmsimctl: line 1: unbalanced quotes'
run "script bad assignment" 2 ctl --json script - <<'EOF'
x = ping
EOF
expect "script bad assignment" err '^mmsimctl: line 1: ping returns nothing'
expect "script bad assignment" out \
    '^\{"ok":false,"status":"USAGE","message":"ping returns nothing.*","line":1\}$'
printf 'ping\nping a\0b\n' >"$tmp/nul-script"
run "script NUL byte" 2 ctl script "$tmp/nul-script" &&
    expect "script NUL byte" err 'line 2: a NUL byte'
run "script missing file" 2 ctl script "$tmp/nonexistent"

# -- vmstat --watch
run "vmstat watch" 0 ctl vmstat --watch 0.2 --count 2 && {
    expect "vmstat watch header" out '^ +free +anon +pgfault +majflt +pswpin'
    n=$(grep -Ec '^ *[0-9]+( +[0-9]+){11}$' "$tmp/out")
    [ "$n" -eq 2 ] || fail "vmstat --watch --count 2: $n data lines, not 2"
    [ "$(wc -l <"$tmp/out")" -eq 4 ] ||
        fail "vmstat --watch --count 2: not 2 header and 2 data lines"
}
run "vmstat watch json" 0 ctl --json vmstat 0.1 3 && {
    n=$(grep -Ec '^\{"sample":[0-2],"elapsed_ms":[0-9]+,"nr_free_pages":[0-9]+,.*"pgfault":[0-9]+,.*"oom_kill":[0-9]+\}$' "$tmp/out")
    [ "$n" -eq 3 ] || fail "vmstat --watch --json: $n lines, not 3"
    expect "vmstat watch json" out '"allocstall_normal":[0-9]+'
}
run "vmstat watch bad interval" 2 ctl vmstat --watch=0
run "vmstat watch bad count" 2 ctl vmstat --watch --count 0
# wait_for FILE PATTERN: until grep -E finds PATTERN in FILE (10 s at most).
wait_for() {
    tries=0
    until grep -Eq -- "$2" "$1" || [ "$tries" -gt 200 ]; do
        tries=$((tries + 1))
        sleep 0.05
    done
}
# In the background, mmsimctl itself (not the ctl function's subshell),
# so that $! is its pid.
watch_bg() {
    # Empty the file here, not in the child: wait_for must not match the
    # previous watch's output before the new one has started.
    : >"$tmp/watch"
    "$mmsimctl" -s "$sock" --token-file "$tmp/token" "$@" >>"$tmp/watch" 2>&1 &
    wpid=$!
}
# Deltas: 32 pages touched between samples show up as 32 faults or more.
watch_bg --json vmstat --watch 1 --count 3
wait_for "$tmp/watch" '"sample":0'
head -c 131072 /dev/zero | tr '\0' x >"$tmp/128k"
printf '%s\n' 'b = mmap 32' "mwrite \$b 0 @$tmp/128k" >"$tmp/touch-script"
ctl script "$tmp/touch-script" >/dev/null 2>&1 || fail "touch script failed"
wait "$wpid" || fail "vmstat --watch with faults: exit status $?"
faults=$(sed -n '2,$s/.*"pgfault":\([0-9]*\).*/\1/p' "$tmp/watch" |
    awk '{ s += $1 } END { print s + 0 }')
[ "$faults" -ge 32 ] || fail "vmstat --watch: $faults faults after touching 32"
# SIGTERM ends the watch cleanly (exit 0); in a script, the script too
# (exit 128 + 15).
watch_bg vmstat --watch 0.1
wait_for "$tmp/watch" '^ *[0-9]+( +[0-9]+){11}$'
kill -TERM "$wpid"
wait "$wpid"
status=$?
[ "$status" -eq 0 ] || fail "vmstat --watch after SIGTERM: exit status $status"
grep -Eq '^ *[0-9]+( +[0-9]+){11}$' "$tmp/watch" ||
    fail "vmstat --watch printed no line before SIGTERM"
printf '%s\n' 'vmstat --watch 10' 'ping' >"$tmp/watch-script"
watch_bg script "$tmp/watch-script"
wait_for "$tmp/watch" '^ *[0-9]+( +[0-9]+){11}$'
kill -TERM "$wpid"
wait "$wpid"
status=$?
[ "$status" -eq 143 ] || fail "script in vmstat --watch after SIGTERM: $status"
if grep -q PONG "$tmp/watch"; then fail "script went on after SIGTERM"; fi

# -- Python
if /usr/bin/python3 -c 'import google.protobuf' 2>/dev/null; then
    for addr in "$sock" "$tcp"; do
        run "python example $addr" 0 env PYTHONPATH="$pygen" \
            PYTHONDONTWRITEBYTECODE=1 MMSIM_TOKEN=s3cret /usr/bin/python3 \
            "$src/client/python/examples/example.py" "$addr" && {
            expect "python example" out '^example: OK$'
            expect "python example" out "read back 'page 0 says hello'"
            expect "python example" out '^Node 0, zone'
            expect "python example" out "vmalloc area at 0x[0-9a-f]+, 16384 bytes: read back 'vmalloc!'"
            expect "python example" out '^unmapped and vfreed; check: OK$'
        }
    done
    run "python no token" 1 env PYTHONPATH="$pygen" \
        PYTHONDONTWRITEBYTECODE=1 MMSIM_TOKEN= /usr/bin/python3 \
        "$src/client/python/examples/example.py" "$sock" &&
        expect "python no token" err 'UNAUTHENTICATED'
else
    echo "SKIP: Python client: python3-protobuf is not installed for" \
        "/usr/bin/python3 (scripts/deps.sh installs it)"
fi

# -- every session's pages went back: the machine is whole
run "final check" 0 ctl check --full

# -- the daemon drains and exits cleanly on SIGTERM
kill -TERM "$pid"
wait "$pid"
status=$?
pid=
[ "$status" -eq 0 ] || fail "mmsimd exited with $status after SIGTERM"
if grep -Eq 'ERROR|AddressSanitizer|runtime error' "$tmp/mmsimd.log"; then
    fail "mmsimd logged errors"
    grep -E 'ERROR|AddressSanitizer|runtime error' "$tmp/mmsimd.log" >&2
fi

finish client
