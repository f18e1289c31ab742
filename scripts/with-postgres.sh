#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster and its superuser DSN in
# ZITADEL_TEST_POSTGRES_DSN, for the database source's tests and benchmarks.
#
#   scripts/with-postgres.sh go test ./...
#
# An existing ZITADEL_TEST_POSTGRES_DSN is used as it is. Otherwise PostgreSQL
# comes from Debian's packages (installed when missing and running as root),
# runs from a temporary directory on a free loopback port, and is stopped and
# removed when the command ends. Without PostgreSQL and without root the
# command runs without a DSN: the tests that need one skip, or fail with CI=true.
set -euo pipefail

DSN_VAR=ZITADEL_TEST_POSTGRES_DSN

if [[ -n "${!DSN_VAR:-}" ]]; then
	exec "$@"
fi

log() { echo "with-postgres: $*" >&2; }

pg_bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[[ -n "$d" && -x "$d/initdb" ]] && echo "$d"
}

install_postgres() {
	# No "main" cluster: this script starts its own, and nothing else runs.
	mkdir -p /etc/postgresql-common/createcluster.d
	echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/no-main-cluster.conf
	log "installing PostgreSQL from Debian packages"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2
	apt-get install -y -qq postgresql >&2
}

bindir=$(pg_bindir || true)
if [[ -z "$bindir" ]]; then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		install_postgres
		bindir=$(pg_bindir)
	else
		log "PostgreSQL is not installed and this is not root; running without $DSN_VAR (as root: apt-get install -y postgresql)"
		exec "$@"
	fi
fi

# initdb and postgres refuse to run as root.
run_pg=()
if [[ $(id -u) -eq 0 ]]; then
	id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
	run_pg=(runuser -u postgres --)
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/zitadel-test-pg.XXXXXX")
data="$dir/data"
started=""

cleanup() {
	if [[ -n "$started" ]]; then
		"${run_pg[@]}" "$bindir/pg_ctl" stop -D "$data" -m immediate -s >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ ${#run_pg[@]} -gt 0 ]]; then chown postgres: "$dir"; fi

password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$password" >"$dir/pwfile"
if [[ ${#run_pg[@]} -gt 0 ]]; then chown postgres: "$dir/pwfile"; fi

"${run_pg[@]}" "$bindir/initdb" -D "$data" -U postgres --pwfile="$dir/pwfile" \
	--auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
	{ cat "$dir/initdb.log" >&2; exit 1; }
rm -f "$dir/pwfile"

# Durability is not needed for a cluster that lives as long as one test run.
server_options="-c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port can be taken between the check and the start: try a few.
for _ in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 40000))
	port_in_use "$port" && continue
	if "${run_pg[@]}" "$bindir/pg_ctl" start -D "$data" -w -t 60 -s -l "$dir/postgres.log" \
		-o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' $server_options" >/dev/null; then
		started=1
		break
	fi
done
if [[ -z "$started" ]]; then
	log "PostgreSQL did not start"
	tail -n 20 "$dir/postgres.log" >&2 || true
	exit 1
fi

export "$DSN_VAR=host=127.0.0.1 port=$port user=postgres password=$password dbname=postgres sslmode=disable"
# The command runs as a child, so that a signal to this script alone still
# reaches it and then stops the cluster; it keeps the script's stdin.
"$@" <&0 &
child=$!
trap 'kill -INT "$child" 2>/dev/null; wait "$child"; exit 130' INT
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 143' TERM
set +e
wait "$child"
status=$?
set -e
exit "$status"
