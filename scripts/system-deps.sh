#!/usr/bin/env bash
# Install the Debian packages the tests need, only when they are missing.
# Usage: scripts/system-deps.sh [postgres] [browser] [compiler] [mail] [replication]
#   compiler: gcc and the headers of $PYTHON (default python3.11), for scripts/compile.py
#   mail: Dovecot's IMAP server, the mailbox the e-mail poller's end-to-end test reads
#   replication: Patroni (Debian's, run by the system python3) and etcd, its consensus store:
#     the streaming-replication standby of hotline.store.pg_cluster (the primary-kill test)
set -euo pipefail
want=("$@")
[ ${#want[@]} -gt 0 ] || want=(postgres)

packages=()
for part in "${want[@]}"; do
  case "$part" in
    postgres)
      compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || packages+=(postgresql) ;;
    browser)
      command -v chromium >/dev/null || packages+=(chromium)
      fc-list 2>/dev/null | grep -qi 'noto.*cjk' || packages+=(fonts-noto-cjk) ;;
    compiler)
      command -v gcc >/dev/null || packages+=(gcc)
      include=$("${PYTHON:-python3.11}" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
      [ -f "$include/Python.h" ] || packages+=(libpython3.11-dev) ;;
    mail)
      [ -x /usr/sbin/dovecot ] || packages+=(dovecot-imapd) ;;
    replication)
      command -v patroni >/dev/null || packages+=(patroni)
      command -v etcd >/dev/null || packages+=(etcd-server etcd-client) ;;
    *) echo "system-deps: unknown part '$part'" >&2; exit 2 ;;
  esac
done
[ ${#packages[@]} -gt 0 ] || exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing Debian packages: ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
