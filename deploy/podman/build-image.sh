#!/usr/bin/env bash
# Build rapidvet's container image with Debian's podman where no Docker daemon runs and no image
# registry can be reached (CI, tests/test_container.py):
#
#   1. the base, localhost/debian:bookworm-slim, made once with debootstrap from the machine's
#      own apt mirror and slimmed as Debian's slim images are (skipped while podman has it);
#   2. deploy/Dockerfile on that base; pip uses the machine's CA bundle, apt the machine's
#      sources (build arguments PIP_CERT and APT_CONFIG name them), mounted for the build only:
#      neither the mirror nor the bundle lands in the image or the repository.
#
# Usage: deploy/podman/build-image.sh [TAG]   (as root; TAG defaults to localhost/rapidvet:dev)
# Needs podman, runc and debootstrap: apt-get install -y podman runc debootstrap
set -euo pipefail

TAG=${1:-localhost/rapidvet:dev}
BASE=localhost/debian:bookworm-slim
SUITE=bookworm
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CA_BUNDLE=${RAPIDVET_BUILD_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
# What the build needs of this machine is mounted at /mnt, which every Debian image has: a
# mount point that does not exist yet would be left behind in the image, empty.
IN_BUILD=/mnt

say() { echo "build-image: $*" >&2; }

# The apt source files that name the suite: one-line (*.list) and deb822 (*.sources) files.
suite_sources() {
    local file
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
        /etc/apt/sources.list.d/*.sources; do
        [[ -f $file ]] && grep -Eq "[[:space:]]$SUITE([[:space:]]|$)" "$file" && echo "$file"
    done
    return 0
}

# The first mirror the machine's apt sources give for the suite.
mirror() {
    local file
    for file in $(suite_sources); do
        if [[ $file == *.sources ]]; then
            # deb822: the URIs of the first stanza of Types deb whose Suites name the suite.
            awk -v suite="$SUITE" '
                /^[[:space:]]*$/ { if (deb && found && uri) { print uri; exit } deb = found = 0; uri = "" }
                /^Types:/ { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
                /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) found = 1 }
                /^URIs:/ { uri = $2 }
                END { if (deb && found && uri) print uri }
            ' "$file"
        else
            # One line: deb [options] URI SUITE COMPONENTS...
            sed -E 's/\[[^]]*\]//' "$file" | awk -v suite="$SUITE" '
                $1 == "deb" && $3 == suite { print $2 }'
        fi
    done | head -n 1
}

# Debian's slim images: no documentation, man pages or translations (dpkg leaves them out of
# later installs too), no apt caches or lists; and nothing of this machine's.
slim() {
    local rootfs=$1
    cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
# As Debian's slim images: documentation, man pages and translations are not installed.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/man/*
EOF
    find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
    find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
    find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
    rm -rf "$rootfs"/usr/share/{info,linda,man}/* "$rootfs"/usr/share/lintian/overrides/*
    # apt as in Debian's images: no package caches, no translations, compressed lists.
    cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
    echo 'Acquire::GzipIndexes "true";' >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
    echo 'APT::AutoRemove::SuggestsImportant "false";' \
        >"$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests"
    rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/*
    rm -f "$rootfs"/var/cache/debconf/*-old "$rootfs"/var/lib/dpkg/*-old
    find "$rootfs/var/log" -type f -delete
    # debootstrap copies the machine's name and resolver, and writes the mirror: podman provides
    # the first two at run time, and the build mounts the machine's sources.
    : >"$rootfs/etc/hostname"
    rm -f "$rootfs/etc/resolv.conf" "$rootfs/etc/apt/sources.list"
}

build_base() {
    local mirror rootfs
    mirror=$(mirror)
    if [[ -z $mirror ]]; then
        say "no apt source for $SUITE in /etc/apt/sources.list{,.d/*}: cannot debootstrap"
        exit 1
    fi
    rootfs=$(mktemp -d /var/tmp/rapidvet-rootfs.XXXXXX)
    trap 'rm -rf "$rootfs"' EXIT
    say "debootstrap --variant=minbase $SUITE from the machine's mirror (about a minute)"
    debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
        tail -n 20 "$rootfs.log" >&2
        exit 1
    }
    rm -f "$rootfs.log"
    slim "$rootfs"
    say "$(du -sm "$rootfs" | cut -f1) MB slimmed; importing as $BASE"
    tar --numeric-owner -C "$rootfs" -c . | podman import --change 'CMD ["bash"]' - "$BASE" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
}

if ! podman image exists "$BASE"; then
    build_base
fi

# apt inside the build reaches the mirror the way the machine's apt does: its sources for the
# suite and its proxy and date-check settings; pip trusts the machine's CA bundle.
machine=$(mktemp -d /var/tmp/rapidvet-build.XXXXXX)
trap 'rm -rf "$machine"' EXIT
cp "$CA_BUNDLE" "$machine/ca.crt"
mkdir "$machine/sources.list.d"
: >"$machine/sources.list"
for file in $(suite_sources); do
    if [[ $file == /etc/apt/sources.list ]]; then
        cp "$file" "$machine/sources.list"
    else
        cp "$file" "$machine/sources.list.d/"
    fi
done
{
    echo "Dir::Etc::SourceList \"$IN_BUILD/sources.list\";"
    echo "Dir::Etc::SourceParts \"$IN_BUILD/sources.list.d\";"
    apt-config dump Acquire::http::Proxy Acquire::https::Proxy \
        Acquire::Check-Valid-Until Acquire::Check-Date
} >"$machine/apt.conf"
chmod -R a+rX "$machine"

# The build stage keeps a tag of its own: podman's layer cache then survives the removal of
# the images that older trees left, and an unchanged tree rebuilds in seconds.
STAGE=localhost/rapidvet-build:cache
ids() { for tag in "$TAG" "$STAGE"; do podman images --quiet --no-trunc "$tag"; done; }
before=$(ids)
build=(podman build --isolation=chroot --format docker --layers
    --build-arg "BASE=$BASE"
    --build-arg "APT_CONFIG=$IN_BUILD/apt.conf" --build-arg "PIP_CERT=$IN_BUILD/ca.crt"
    -v "$machine:$IN_BUILD:ro" -f "$ROOT/deploy/Dockerfile")
say "podman build $TAG on $BASE"
"${build[@]}" --target build -t "$STAGE" "$ROOT"
"${build[@]}" -t "$TAG" "$ROOT"
after=$(ids)
for image in $before; do
    # Left by an older tree; podman refuses while a container still uses it.
    grep -qx "$image" <<<"$after" || podman rmi "$image" >/dev/null 2>&1 || true
done
