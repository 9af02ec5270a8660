# Sourced by scripts/test.sh: installs and starts a local PostgreSQL server
# for the store conformance tests, and exports PSGATE_TEST_POSTGRES_DSN.
start_postgres() {
	apt_install postgresql
	local ver
	ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
	if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -q "^$ver main$"; then
		as_root pg_createcluster "$ver" main >/dev/null
	fi
	as_root pg_ctlcluster "$ver" main start 2>/dev/null || true
	for _ in $(seq 50); do
		as_root runuser -u postgres -- pg_isready -q -h 127.0.0.1 && break
		sleep 0.2
	done
	as_root runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -c "ALTER USER postgres PASSWORD 'psgate'" >/dev/null
	as_root runuser -u postgres -- psql -tAc "SELECT 1 FROM pg_database WHERE datname='psgate_test'" | grep -q 1 ||
		as_root runuser -u postgres -- createdb psgate_test
	export PSGATE_TEST_POSTGRES_DSN='postgres://postgres:psgate@127.0.0.1:5432/psgate_test?sslmode=disable'
	echo "==> PostgreSQL $ver on 127.0.0.1:5432 (database psgate_test)"
}
