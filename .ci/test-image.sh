#!/usr/bin/env bash
# Builds the local test image stratus/busybox:latest from Debian's busybox-static with
# `docker import` (no container registry is reachable): /bin/busybox plus a symlink per applet.
set -euo pipefail
image="${1:-stratus/busybox:latest}"
busybox="$(command -v busybox || true)"
[ -n "$busybox" ] || { echo "test-image: busybox not found (install Debian's busybox-static)" >&2; exit 1; }
file "$busybox" 2>/dev/null | grep -q 'statically linked' || ldd "$busybox" 2>&1 | grep -q 'not a dynamic' || {
  echo "test-image: $busybox is not statically linked (install busybox-static)" >&2; exit 1; }
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/proc" "$root/sys" "$root/dev" "$root/root"
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
tar -C "$root" -c . | docker import --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' - "$image" >/dev/null
echo "test-image: built $image ($(docker image inspect -f '{{.Size}}' "$image") bytes)"
