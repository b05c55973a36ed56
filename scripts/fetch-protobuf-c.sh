#!/bin/sh
# Fetch the source of the protobuf-c the machine has installed, so the fuzz
# builds can compile its runtime (protobuf-c/protobuf-c.c) with their own
# instrumentation (MMSIM_PROTOBUF_C_SOURCE, fuzz/README.md). The source is
# downloaded at build time and never committed.
#
#   scripts/fetch-protobuf-c.sh DEST
#
# Unpacks the Debian (or Ubuntu) source package of the version of the
# installed libprotobuf-c-dev into DEST, so DEST/protobuf-c/protobuf-c.c
# exists. Does nothing when DEST already holds that upstream version (an
# unpacked source package or a git checkout of the same tag).
#
# How: `apt-get source --download-only` with a private sources list, under
# DEST/.apt, that adds deb-src lines for the mirror the machine's apt
# already installs libprotobuf-c-dev from (read from
# /etc/apt/sources.list, sources.list.d/*.list and the deb822
# sources.list.d/*.sources), and private index and cache directories:
# /etc/apt and /var/lib/apt are left alone, and no root is needed beyond
# what apt-get itself needs. apt checks the files against the mirror's
# signed index; dpkg-source (package dpkg-dev) unpacks them. Takes a few
# seconds (a 10 MB source index, a 0.5 MB source package).
set -eu

die() {
    echo "fetch-protobuf-c: error: $*" >&2
    exit 1
}

if [ $# -ne 1 ] || [ -z "$1" ]; then
    die "usage: $0 DEST"
fi
for tool in apt-get apt-cache dpkg-query dpkg-source; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        case $tool in
        dpkg-source) die "dpkg-source not found: apt-get install dpkg-dev" ;;
        *) die "$tool not found: this needs a Debian or Ubuntu system" ;;
        esac
    fi
done

# The source version of the installed package (1.4.1-1 for 1.4.1-1+b1)
# and its upstream version (1.4.1), which protobuf-c.h names.
version=$(dpkg-query -W -f='${db:Status-Abbrev} ${source:Version}' \
    libprotobuf-c-dev 2>/dev/null | sed -n 's/^.i. *//p')
[ -n "$version" ] ||
    die "libprotobuf-c-dev is not installed (scripts/deps.sh installs it)"
upstream=${version#*:}
upstream=${upstream%-*}

mkdir -p "$1" || die "cannot create $1"
dest=$(cd "$1" && pwd)
header=$dest/protobuf-c/protobuf-c.h
have=$(sed -n 's/^#define[[:space:]]*PROTOBUF_C_VERSION[[:space:]]*"\(.*\)".*/\1/p' \
    "$header" 2>/dev/null) || true
if [ -f "$dest/protobuf-c/protobuf-c.c" ] && [ "$have" = "$upstream" ]; then
    echo "fetch-protobuf-c: $dest has protobuf-c $have"
    exit 0
fi
# Whatever is in DEST is replaced: only if this script put it there.
stamp=$dest/.mmsim-fetch-protobuf-c
if [ ! -f "$stamp" ] && [ -n "$(ls -A "$dest")" ]; then
    die "$dest is not empty and was not made by this script" \
        "(it has protobuf-c ${have:-none}, want $upstream)"
fi

# The sources apt installs libprotobuf-c-dev from ("500 URI suite/comp
# arch Packages" lines), trailing slashes dropped; every deb source when
# apt has no lists (a Docker image that deleted them).
uris=$(apt-cache policy libprotobuf-c-dev 2>/dev/null |
    awk '$2 ~ /^[a-z+]+:\/\// { u = $2; sub(/\/+$/, "", u); print u }' |
    sort -u | tr '\n' ' ')
mirrors=${uris% }
mirrors=${mirrors:-every deb source}

find "$dest" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
apt=$dest/.apt
mkdir -p "$apt/sources.list.d" "$apt/lists/partial" \
    "$apt/cache/archives/partial" "$apt/download"
touch "$stamp"

# One-line sources: "deb [options] URI suite components" becomes deb-src.
# deb822 stanzas: copied with "Types: deb-src", if their Types hold deb
# and they are not disabled.
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v uris=" $uris" '
        $1 != "deb" { next }
        {
            i = 2
            if ($2 ~ /^\[/) {
                while (i <= NF && $i !~ /\]$/) i++
                i++
            }
            u = $i
            sub(/\/+$/, "", u)
            if (uris != " " && index(uris, " " u " ") == 0) next
            sub(/^[ \t]*deb/, "deb-src")
            print
        }' "$f"
done >"$apt/sources.list"
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v uris=" $uris" '
        function flush(   keep, n, i, u, list) {
            keep = deb && enabled
            if (keep && uris != " ") {
                keep = 0
                n = split(urilist, list, /[ \t]+/)
                for (i = 1; i <= n; i++) {
                    u = list[i]
                    sub(/\/+$/, "", u)
                    if (u != "" && index(uris, " " u " ")) keep = 1
                }
            }
            if (keep) printf "%s\n", stanza
            stanza = ""; deb = 0; enabled = 1; urilist = ""
        }
        BEGIN { enabled = 1 }
        /^#/ { next }
        /^[ \t]*$/ { flush(); next }
        tolower($1) == "types:" {
            for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1
            stanza = stanza "Types: deb-src\n"
            next
        }
        tolower($1) == "enabled:" && tolower($2) == "no" { enabled = 0 }
        tolower($1) == "uris:" { urilist = $0; sub(/^[^:]*:/, "", urilist) }
        { stanza = stanza $0 "\n" }
        END { flush() }' "$f"
done >"$apt/sources.list.d/mmsim.sources"
if [ ! -s "$apt/sources.list" ] && [ ! -s "$apt/sources.list.d/mmsim.sources" ]; then
    die "no deb source for libprotobuf-c-dev in /etc/apt/sources.list" \
        "or /etc/apt/sources.list.d/ (apt-cache policy: ${mirrors})"
fi

# Private lists and cache; downloads as the calling user (root's default,
# the _apt user, cannot write into DEST).
set -- -q -o "Dir::Etc::SourceList=$apt/sources.list" \
    -o "Dir::Etc::SourceParts=$apt/sources.list.d" \
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" \
    -o "APT::Sandbox::User=$(id -un)" -o Acquire::Retries=1 \
    -o Acquire::http::Timeout=20 -o Acquire::https::Timeout=20 \
    -o Acquire::Languages=none
echo "fetch-protobuf-c: protobuf-c $version into $dest"
# apt-get update exits 0 when a mirror cannot be reached: what counts is
# whether a source index arrived.
apt-get "$@" update >"$apt/update.log" 2>&1 || true
if [ -z "$(find "$apt/lists" -name '*_Sources*' -print)" ]; then
    grep -E '^(E|W):' "$apt/update.log" >&2 || cat "$apt/update.log" >&2
    die "no source index downloaded from $mirrors" \
        "(no network?); the private list is $apt/sources.list(.d)"
fi
if ! (cd "$apt/download" &&
    apt-get "$@" source --download-only "protobuf-c=$version") \
    >"$apt/source.log" 2>&1; then
    cat "$apt/source.log" >&2
    die "apt-get source protobuf-c=$version failed (not on the mirror any" \
        "more?); the private list is $apt/sources.list(.d)"
fi
dsc=$(find "$apt/download" -name 'protobuf-c_*.dsc' | head -n 1)
[ -n "$dsc" ] || die "apt-get source left no .dsc in $apt/download"
if ! dpkg-source -q --no-copy -x "$dsc" "$apt/src" >"$apt/unpack.log" 2>&1; then
    cat "$apt/unpack.log" >&2
    die "dpkg-source -x $dsc failed"
fi
find "$apt/src" -mindepth 1 -maxdepth 1 -exec mv {} "$dest/" \;
# The indexes are 20 MB and of no further use.
rm -rf "$apt/src" "$apt/lists" "$apt/cache"
[ -f "$dest/protobuf-c/protobuf-c.c" ] ||
    die "the source of protobuf-c $version has no protobuf-c/protobuf-c.c"
echo "fetch-protobuf-c: $dest has protobuf-c $upstream"
