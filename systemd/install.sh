#!/usr/bin/env bash
# Install (or upgrade) bloodq as systemd services on Debian/Ubuntu. Run as root from a checkout:
#
#   sudo systemd/install.sh                 # install into /, then: systemctl enable --now bloodq-api
#   systemd/install.sh --prefix /tmp/root   # stage the same tree below /tmp/root (no root needed)
#
# What it does, each step safe to repeat (running it again upgrades code, venv and units):
#   - system user and group `bloodq` (no login shell, home /var/lib/bloodq)
#   - /opt/bloodq (code, root-owned, read-only for the service), /opt/bloodq/venv
#     (pip install -r requirements_queue.txt), /var/lib/bloodq (DATA_DIR), /var/log/bloodq (LOG_DIR)
#   - /etc/bloodq/bloodq.env from systemd/bloodq.env.example, only if it does not exist yet
#   - units in /etc/systemd/system, logrotate rules in /etc/logrotate.d/bloodq, systemctl daemon-reload
# It never enables, starts or restarts a service: see docs/operations.md for that.
#
# Options:
#   --prefix DIR   install below DIR instead of / (DESTDIR=DIR in the environment does the same).
#                  With a prefix no user is created, nothing is chowned and systemctl is not called.
#   --no-venv      skip creating/updating the virtualenv (e.g. when staging a tree for a test)
#   --python PY    interpreter for the venv (default: python3; needs 3.11+ and Debian's python3-venv)
set -euo pipefail
umask 022

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PREFIX=${DESTDIR:-}
PYTHON=${PYTHON:-python3}
MAKE_VENV=1

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }
die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "install.sh: $*"; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --prefix) [[ $# -ge 2 ]] || die '--prefix needs a directory'; PREFIX=$2; shift 2 ;;
    --prefix=*) PREFIX=${1#--prefix=}; shift ;;
    --no-venv) MAKE_VENV=0; shift ;;
    --python) [[ $# -ge 2 ]] || die '--python needs an interpreter'; PYTHON=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
done

if [[ -n $PREFIX ]]; then
  mkdir -p "$PREFIX"
  PREFIX=$(cd "$PREFIX" && pwd)
  [[ $PREFIX != / ]] || PREFIX=
fi
SYSTEM=0  # 1 = the real system: create the user, chown, reload systemd
if [[ -z $PREFIX ]]; then SYSTEM=1; fi
if [[ $SYSTEM -eq 1 && $EUID -ne 0 ]]; then
  die 'run as root (or pass --prefix DIR to stage the tree somewhere else)'
fi

APP=$PREFIX/opt/bloodq
DATA=$PREFIX/var/lib/bloodq
LOGS=$PREFIX/var/log/bloodq
ETC=$PREFIX/etc/bloodq
UNITS=$PREFIX/etc/systemd/system
LOGROTATE=$PREFIX/etc/logrotate.d

for f in main.py worker.py requirements_queue.txt bloodq/__init__.py systemd/bloodq-api.service \
         systemd/bloodq-worker@.service systemd/bloodq.env.example systemd/logrotate.conf; do
  [[ -e $SRC/$f ]] || die "$SRC/$f is missing: run this script from a bloodq checkout"
done

# --- user and group -------------------------------------------------------------------------------
if [[ $SYSTEM -eq 1 ]]; then
  if ! getent group bloodq >/dev/null; then
    groupadd --system bloodq
    say 'created group bloodq'
  fi
  if ! getent passwd bloodq >/dev/null; then
    useradd --system --gid bloodq --home-dir /var/lib/bloodq --no-create-home \
      --shell /usr/sbin/nologin --comment 'bloodq service' bloodq
    say 'created user bloodq'
  fi
fi

# --- directories ----------------------------------------------------------------------------------
install -d -m 0755 "$APP" "$ETC" "$UNITS" "$LOGROTATE"
install -d -m 0750 "$DATA" "$LOGS"
if [[ $SYSTEM -eq 1 ]]; then
  chown bloodq:bloodq "$DATA" "$LOGS"
fi

# --- code: copied whole, then swapped in, so a removed module does not linger ---------------------
copy_tree() {  # copy_tree SRC_DIR DEST_DIR
  local src=$1 dest=$2
  rm -rf "$dest.new" "$dest.old"
  cp -R "$src" "$dest.new"
  find "$dest.new" -name __pycache__ -type d -prune -exec rm -rf {} +
  if [[ -e $dest ]]; then mv "$dest" "$dest.old"; fi
  mv "$dest.new" "$dest"
  rm -rf "$dest.old"
}
copy_tree "$SRC/bloodq" "$APP/bloodq"
install -m 0644 "$SRC/main.py" "$SRC/worker.py" "$SRC/requirements_queue.txt" "$APP/"
for doc in README.md docs/operations.md; do
  if [[ -f $SRC/$doc ]]; then
    install -D -m 0644 "$SRC/$doc" "$APP/$doc"
  fi
done
# the units, env example, logrotate rules and alert rules stay at hand for reference
copy_tree "$SRC/systemd" "$APP/systemd"
say "code installed in $APP"

# --- settings: never overwritten --------------------------------------------------------------------
if [[ -e $ETC/bloodq.env ]]; then
  say "kept existing $ETC/bloodq.env (compare with $APP/systemd/bloodq.env.example)"
else
  install -m 0640 "$SRC/systemd/bloodq.env.example" "$ETC/bloodq.env"
  if [[ $SYSTEM -eq 1 ]]; then chown root:bloodq "$ETC/bloodq.env"; fi
  say "created $ETC/bloodq.env: review it"
fi

# --- virtualenv -----------------------------------------------------------------------------------
if [[ $MAKE_VENV -eq 1 ]]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "$PYTHON is older than 3.11 (pass --python)"
  if [[ ! -x $APP/venv/bin/python ]]; then
    "$PYTHON" -m venv "$APP/venv" || die "cannot create a venv with $PYTHON (Debian: apt-get install python3-venv)"
    say "created $APP/venv"
  fi
  "$APP/venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$APP/requirements_queue.txt"
  # ProtectSystem=strict keeps /opt read-only at run time, so byte-compile now
  "$APP/venv/bin/python" -m compileall -q "$APP/bloodq" "$APP/main.py" "$APP/worker.py" >/dev/null
  say 'venv up to date'
fi

# --- systemd units and logrotate -------------------------------------------------------------------
install -m 0644 "$SRC/systemd/bloodq-api.service" "$SRC/systemd/bloodq-worker@.service" "$UNITS/"
install -m 0644 "$SRC/systemd/logrotate.conf" "$LOGROTATE/bloodq"
say "units in $UNITS, logrotate rules in $LOGROTATE/bloodq"

if [[ $SYSTEM -eq 1 ]]; then
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
    systemctl daemon-reload
    say 'systemd reloaded'
  else
    say 'systemd is not running here: run "systemctl daemon-reload" on the target system'
  fi
fi

cat <<EOF
install.sh: done. Next:
  \$EDITOR $ETC/bloodq.env
  systemctl enable --now bloodq-api
  systemctl enable --now bloodq-worker@{1..4}   # standalone consumers (need Redis)
EOF
