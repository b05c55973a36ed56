#!/bin/sh
# Install everything mmsim needs to build and test on Debian 12.
# Idempotent; run as root (or it uses sudo when available).
set -eu
SUDO=
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends \
    build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev \
    libcmocka-dev libyaml-dev libprotobuf-c-dev protobuf-c-compiler libuv1-dev \
    protobuf-compiler python3-protobuf afl++ llvm lld zip unzip dpkg-dev
