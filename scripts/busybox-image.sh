#!/usr/bin/env bash
# Builds the tests' image with no registry: a rootfs holding Debian's static
# busybox and its applets as symlinks, imported into a docker daemon as
# lb/busybox:local (or the tag given). Idempotent: does nothing when the
# image is already there.
#
#   scripts/busybox-image.sh SOCKET [IMAGE]
#     SOCKET  the daemon's unix socket (path or unix://path)
#     IMAGE   repo:tag to import as (default lb/busybox:local)
set -euo pipefail

SOCK=${1:?usage: busybox-image.sh SOCKET [IMAGE]}
SOCK=${SOCK#unix://}
IMAGE=${2:-lb/busybox:local}
REPO=${IMAGE%:*}
TAG=${IMAGE##*:}

api() { curl -sS --unix-socket "$SOCK" "$@"; }

code=$(api -o /dev/null -w '%{http_code}' "http://docker/images/${IMAGE}/json" || true)
if [[ $code == 200 ]]; then
  echo "busybox-image: $IMAGE already present"
  exit 0
fi

BUSYBOX=""
for b in /bin/busybox /usr/bin/busybox; do
  # Only a static busybox runs in an image with no libc.
  if [[ -x $b ]] && ! ldd "$b" >/dev/null 2>&1; then BUSYBOX=$b; break; fi
done
if [[ -z $BUSYBOX ]]; then
  echo "busybox-image: no static busybox found (apt-get install busybox-static)" >&2
  exit 1
fi

ROOTFS=$(mktemp -d /tmp/lb-busybox-rootfs.XXXXXX)
trap 'rm -rf "$ROOTFS"' EXIT
mkdir -p "$ROOTFS"/{bin,etc,tmp,www,proc,sys,dev,root}
chmod 1777 "$ROOTFS/tmp"
cp "$BUSYBOX" "$ROOTFS/bin/busybox"
for applet in sh httpd sleep cat ls echo env wget nc id mkdir true false printf hostname \
              ps kill pwd touch rm test seq head tail grep sed ip ifconfig stat wc nslookup; do
  ln -s busybox "$ROOTFS/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$ROOTFS/etc/passwd"
echo 'root:x:0:' >"$ROOTFS/etc/group"
echo 'lb busybox' >"$ROOTFS/www/index.html"

tar -C "$ROOTFS" -c . |
  api -f -o /dev/null -X POST -H 'Content-Type: application/x-tar' --data-binary @- \
    "http://docker/images/create?fromSrc=-&repo=${REPO}&tag=${TAG}"
code=$(api -o /dev/null -w '%{http_code}' "http://docker/images/${IMAGE}/json" || true)
if [[ $code != 200 ]]; then
  echo "busybox-image: import of $IMAGE failed (inspect answered $code)" >&2
  exit 1
fi
echo "busybox-image: imported $IMAGE"
