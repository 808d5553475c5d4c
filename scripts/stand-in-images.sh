#!/usr/bin/env bash
# Test support for the stack test: makes sure every base image the
# Dockerfiles name (Dockerfile, db/Dockerfile, db/galera.Dockerfile,
# haproxy/Dockerfile) is present.
#
#   scripts/stand-in-images.sh
#
# For each image it first tries `docker pull`. Only where the pull fails
# (no route to the registry, as on the machines this project is tested on)
# does it build a STAND-IN under the exact same name, from Debian's packages:
#   debian:<n>-slim          debootstrap --variant=minbase bookworm, imported
#   rust:<v>-slim-bookworm   that Debian + gcc, with this machine's Rust <v>
#   mysql:<v>                that Debian + MariaDB, behind an entrypoint that
#                            honours the official image's MYSQL_* variables
# so the real Dockerfiles build unchanged. Stand-ins carry the label
# `hiring.stand-in=yes`; each is also tagged `hiring-stand-in:<name>-<hash
# of its recipe and of the Debian image under it>` and reused while that tag
# and the name point to the same image, so the build cache above it
# survives. A pull that works replaces a stand-in with the real image.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# What a stand-in is made from; a change makes it again.
recipe_of() {
  local image=$1 base
  case $image in
    debian:*)
      { declare -f debian_image; cat scripts/stand-ins/debian/*; } | sha256sum | cut -c1-16
      ;;
    rust:*)
      base=$(docker image inspect --format '{{.Id}}' "$debian")
      { echo "$base"; rustc -vV; cat scripts/stand-ins/rust.Dockerfile; } | sha256sum | cut -c1-16
      ;;
    mysql:*)
      base=$(docker image inspect --format '{{.Id}}' "$debian")
      { echo "$base"; cat scripts/stand-ins/mysql.Dockerfile scripts/stand-ins/mysql-entrypoint.sh \
        scripts/stand-ins/my.cnf; } | sha256sum | cut -c1-16
      ;;
  esac
}
made=()

# The images the Dockerfiles start FROM, leaving out their own stage names.
base_images() {
  awk 'toupper($1) == "FROM" {
         image = $2; for (i = 2; i <= NF; i++) if ($i !~ /^--/) { image = $i; break }
         if (toupper($(i + 1)) == "AS") stage[tolower($(i + 2))] = 1
         if (!(tolower(image) in stage)) print image
       }' "$@" | sort -u
}

image_id() { docker image inspect --format '{{.Id}}' "$1" 2>/dev/null; }
# The tag that records which recipe made a stand-in.
recipe_tag() { echo "hiring-stand-in:$(tr ':/' '__' <<<"$1")-$(recipe_of "$1")"; }

is_current_stand_in() {
  local id
  id=$(image_id "$1") && [[ $id == "$(image_id "$(recipe_tag "$1")")" ]]
}

real_image_present() {
  docker image inspect "$1" >/dev/null 2>&1 &&
    [[ -z $(docker image inspect --format '{{index .Config.Labels "hiring.stand-in"}}' "$1") ]]
}

# Tags a new stand-in with its recipe and drops the tags of older recipes.
record_recipe() {
  local image=$1 tag old
  tag=$(recipe_tag "$image")
  while read -r old; do
    [[ $old == "$tag" ]] || docker rmi "$old" >/dev/null 2>&1 || true
  done < <(docker images --format '{{.Repository}}:{{.Tag}}' hiring-stand-in |
    grep -F "hiring-stand-in:$(tr ':/' '__' <<<"$image")-" || true)
  docker tag "$image" "$tag"
}

# docker build with the classic builder (no buildx here), its output shown
# only when it fails.
build() {
  local log
  log=$(mktemp)
  if ! DOCKER_BUILDKIT=0 docker build "$@" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "error: docker build $* failed" >&2
    exit 1
  fi
  rm -f "$log"
}

# debootstrap, from apt, when missing.
ensure_debootstrap() {
  if ! command -v debootstrap >/dev/null 2>&1 && [[ ! -x /usr/sbin/debootstrap ]]; then
    echo "==> installing debootstrap (apt)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
}

debian_image() {
  local image=$1 rootfs
  rootfs=$(mktemp -d)
  echo "==> stand-in $image: debootstrap bookworm (minbase) into $rootfs"
  as_root debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
  # Slim as the official image is: no docs, manuals, translations or caches.
  as_root install -m 0644 scripts/stand-ins/debian/apt-no-cache.conf "$rootfs/etc/apt/apt.conf.d/docker-no-cache"
  as_root install -m 0644 scripts/stand-ins/debian/dpkg-slim.cfg "$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim"
  as_root find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  as_root rm -rf "$rootfs"/usr/share/{man,info,groff,lintian,locale}/* "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log
  as_root tar -C "$rootfs" -c . |
    docker import \
      --change 'CMD ["bash"]' \
      --change "LABEL hiring.stand-in=yes" \
      --change "LABEL org.opencontainers.image.description=\"stand-in for $image: Debian bookworm minbase, made by scripts/stand-in-images.sh\"" \
      - "$image" >/dev/null
  as_root rm -rf "$rootfs"
}

rust_image() {
  local image=$1 debian=$2 want have context sysroot
  want=$(sed -E 's/^rust:([0-9.]+).*/\1/' <<<"$image")
  have=$(rustc --version | awk '{print $2}')
  if [[ $have != "$want"* ]]; then
    echo "error: $image names Rust $want but this machine's toolchain is $have; cannot make a faithful stand-in" >&2
    exit 1
  fi
  sysroot=$(rustc --print sysroot)
  context=$(mktemp -d)
  echo "==> stand-in $image: $debian + gcc + this machine's Rust $have"
  mkdir -p "$context/rust"
  cp -a "$sysroot/bin" "$sysroot/lib" "$sysroot/libexec" "$context/rust/"
  cp /etc/ssl/certs/ca-certificates.crt "$context/"
  cp scripts/stand-ins/rust.Dockerfile "$context/Dockerfile"
  build --build-arg "BASE=$debian" --build-arg "RUST_VERSION=$have" \
    --label "hiring.stand-in=yes" \
    --label "org.opencontainers.image.description=stand-in for $image: Debian gcc + this machine's Rust $have" \
    -t "$image" "$context"
  rm -rf "$context"
}

mysql_image() {
  local image=$1 debian=$2
  echo "==> stand-in $image: $debian + MariaDB, with the official image's entrypoint variables"
  build --build-arg "BASE=$debian" \
    --label "hiring.stand-in=yes" \
    --label "org.opencontainers.image.description=stand-in for $image: Debian's MariaDB" \
    -f scripts/stand-ins/mysql.Dockerfile -t "$image" scripts/stand-ins
}

mapfile -t images < <(base_images Dockerfile db/Dockerfile db/galera.Dockerfile haproxy/Dockerfile)
debian=$(printf '%s\n' "${images[@]}" | grep -m1 '^debian:' || true)
[[ -n $debian ]] || { echo "error: no debian base image in the Dockerfiles" >&2; exit 1; }

# The Debian image first: the other stand-ins are built on it.
for image in "$debian" "${images[@]}"; do
  if real_image_present "$image"; then
    continue
  fi
  if docker pull -q "$image" >/dev/null 2>&1; then
    echo "==> pulled $image"
    continue
  fi
  if is_current_stand_in "$image"; then
    continue
  fi
  case $image in
    debian:*)
      ensure_debootstrap
      debian_image "$image"
      ;;
    rust:*) rust_image "$image" "$debian" ;;
    mysql:*) mysql_image "$image" "$debian" ;;
    *) echo "error: cannot pull $image and have no stand-in recipe for it" >&2; exit 1 ;;
  esac
  record_recipe "$image"
  made+=("$image")
done

stand_ins=()
for image in "${images[@]}"; do
  is_current_stand_in "$image" && stand_ins+=("$image")
done
if ((${#stand_ins[@]})); then
  cat >&2 <<TXT
################################################################################
#  STAND-IN BASE IMAGES: the registry cannot be reached from here, so these
#  names are images made from Debian's packages, not the official ones:
$(printf '#    %s\n' "${stand_ins[@]}")
#  (made this run: ${made[*]:-none; reused from the cache})
#  The stack is built and tested on them; on a machine that can pull, the
#  real images are used and this script builds nothing.
################################################################################
TXT
fi
