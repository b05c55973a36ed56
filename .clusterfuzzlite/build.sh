#!/bin/bash -eu
# ClusterFuzzLite: the same build as OSS-Fuzz's (see that script).
exec "$SRC/mmsim/deploy/oss-fuzz/build.sh"
