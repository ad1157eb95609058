#!/usr/bin/env bash
# Builds the image with Debian's podman on a machine that reaches Debian's mirror and PyPI but no container
# registry (as the project's development machines), then smoke-tests it against a local PostgreSQL. As root.
#   1. python:3.11-slim cannot be pulled: a stand-in of that name is made from Debian 12 with debootstrap
#      (Python 3.11.2, python3-venv, python3-dev, python-is-python3), imported into podman's local store.
#   2. These machines' kernel refuses to raise RLIMIT_NOFILE/RLIMIT_NPROC (no CAP_SYS_RESOURCE) and mixes
#      cgroup v1 and v2: podman runs with runc (crun refuses hybrid cgroups) and lowered --ulimit values.
#   3. Their HTTPS goes through an inspecting proxy: the host's CA bundle and pip.conf are mounted into RUN steps.
# Usage: bash scripts/podman_build.sh [WORK_DIR]   (WORK_DIR holds the Debian root file system; ~300 MB)
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-/tmp/shijian-podman}"
mkdir -p "$work"
export DEBIAN_FRONTEND=noninteractive
command -v podman >/dev/null || apt-get install -y -q podman runc debootstrap >/dev/null
command -v runc >/dev/null || apt-get install -y -q runc >/dev/null
command -v debootstrap >/dev/null || apt-get install -y -q debootstrap >/dev/null
P=(podman --runtime runc)
LIMITS=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096)
if ! podman image exists localhost/python:3.11-slim; then
  [ -x "$work/rootfs/usr/bin/python3" ] || debootstrap --variant=minbase \
    --include=python3,python3-venv,python3-dev,python-is-python3,ca-certificates bookworm "$work/rootfs" \
    http://deb.debian.org/debian
  tar -C "$work/rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - localhost/python:3.11-slim
fi
"${P[@]}" build --network host "${LIMITS[@]}" \
  -v /etc/pip.conf:/etc/pip.conf:ro -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro \
  -t localhost/shijian:latest .
