# Config writers for the helper servers that the benchmark scripts and the integration tests
# start on 127.0.0.1 (sshd, smbd); each caller starts, waits for and stops the process its own
# way. Nothing here reads or changes the system's configuration.
# shellcheck shell=bash

# write_sshd_config DIR PORT [LINE...]: a host key, a user key (DIR/userkey, authorized in
# DIR/authorized_keys) and DIR/sshd_config for an sshd on 127.0.0.1:PORT that accepts only that
# key; extra config LINEs are appended. As root, sshd also insists on /run/sshd.
write_sshd_config() {
  local dir=$1 port=$2
  shift 2
  mkdir -p "$dir"
  if [[ $EUID -eq 0 ]]; then mkdir -p /run/sshd; fi
  ssh-keygen -q -t ed25519 -N '' -f "$dir/hostkey"
  ssh-keygen -q -t ed25519 -N '' -f "$dir/userkey"
  cp "$dir/userkey.pub" "$dir/authorized_keys"
  {
    cat <<CONF
ListenAddress 127.0.0.1
Port $port
HostKey $dir/hostkey
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
PidFile $dir/sshd.pid
CONF
    printf '%s\n' "$@"
  } >"$dir/sshd_config"
}

# write_smb_conf DIR PORT SHARE: DIR/smb.conf (state, locks, passdb and log under DIR) for an
# smbd on 127.0.0.1:PORT that serves the folder SHARE as [ferry] to the users of its passdb.
write_smb_conf() {
  local dir=$1 port=$2 share=$3
  mkdir -p "$dir"/{private,lock,state,cache,pid}
  cat >"$dir/smb.conf" <<CONF
[global]
  interfaces = 127.0.0.1
  bind interfaces only = yes
  smb ports = $port
  disable netbios = yes
  server role = standalone server
  private dir = $dir/private
  lock directory = $dir/lock
  state directory = $dir/state
  cache directory = $dir/cache
  pid directory = $dir/pid
  ncalrpc dir = $dir/ncalrpc
  log file = $dir/smbd.log
  passdb backend = tdbsam:$dir/private/passdb.tdb
  map to guest = never
  load printers = no
  printcap name = /dev/null
  disable spoolss = yes
[ferry]
  path = $share
  read only = no
CONF
}
