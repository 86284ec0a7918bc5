# Shared settings and helpers for lab/up, lab/down, lab/status (sourced, not run).
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LAB_DIR="${LAB_DIR:-$REPO/var/lab}"
LAB_TCP_PORT="${LAB_TCP_PORT:-16509}"
LAB_TLS_PORT="${LAB_TLS_PORT:-16514}"
# Fixed: there is no SMBIOS here, so libvirt would invent a new host UUID at every start.
LAB_HOST_UUID="${LAB_HOST_UUID:-5f0c7a2e-3b1d-4c8e-9a6f-1d2e3c4b5a69}"
QEMU_URI="qemu+tcp://127.0.0.1:$LAB_TCP_PORT/system"
TEST_URI="test+tcp://127.0.0.1:$LAB_TCP_PORT/default"
NODE_URI="test+tcp://127.0.0.1:$LAB_TCP_PORT$LAB_DIR/test-node.xml"
# CA, server certificate (IP SAN 127.0.0.1) and client certificate made by lab/up. pkipath=
# reads cacert.pem, clientcert.pem and clientkey.pem from that directory.
LAB_PKI="$LAB_DIR/pki"
TLS_URI="qemu+tls://127.0.0.1:$LAB_TLS_PORT/system?pkipath=$LAB_PKI"
LIBVIRTD_PID="$LAB_DIR/libvirtd.pid"
TINI_PID="$LAB_DIR/tini.pid"
VIRTLOGD_PID="$LAB_DIR/virtlogd.pid"
KEEPER_PID="$LAB_DIR/test-keeper.pid"
# Domains carrying this metadata namespace were made by lab/guest.py; lab/down removes them.
LAB_NS="https://virtdeck.invalid/lab"

die() { echo "lab: $*" >&2; exit 1; }

# PID stored in a pidfile, or nothing.
pid_of() { [[ -s "$1" ]] && tr -dc 0-9 <"$1" || true; }

# alive PID COMM: PID runs and is program COMM (any program if COMM is empty). The name
# check guards against PID reuse. A zombie (state Z) counts as dead: PID 1 here reaps
# orphans only every ~1.5 s.
alive() {
    local pid="$1" comm="$2" stat
    [[ -n "$pid" && -r "/proc/$pid/stat" ]] || return 1
    stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
    [[ -z "$comm" || "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$comm" ]] || return 1
    stat="${stat##*) }"
    [[ "${stat:0:1}" != Z ]]
}

# answers URI: does a daemon answer there?
answers() { virsh -q -c "$1" version >/dev/null 2>&1; }

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds or the deadline passes.
wait_for() {
    local deadline=$((SECONDS + $1)); shift
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.1
    done
}

libvirtd_up() { alive "$(pid_of "$LIBVIRTD_PID")" libvirtd && answers "$QEMU_URI"; }
lab_up() { libvirtd_up && alive "$(pid_of "$KEEPER_PID")" virsh; }

print_uris() {
    cat <<EOT
lab is up (dir $LAB_DIR)
  $QEMU_URI
  $TEST_URI
  $NODE_URI   (example fixture; any absolute node.xml path works)
  $TLS_URI   (TLS; CA and client certificate in $LAB_PKI)
  qemu:///system   (unix socket, as root)
EOT
}
