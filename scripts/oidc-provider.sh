# Sourced by scripts/test.sh: installs the OpenID Connect provider the
# federation tests run (panva's oidc-provider, pinned with its lockfile in
# scripts/oidc-provider) into .tools/oidc-provider, and exports
# PSGATE_OIDC_PROVIDER, the directory the tests start it from.
ensure_oidc_provider() {
	apt_install nodejs
	command -v npm >/dev/null || apt_install npm
	local major
	major=$(node -p 'process.versions.node.split(".")[0]')
	if [ "$major" -lt 20 ]; then
		echo "oidc-provider needs Node.js 20 or later; this machine's nodejs package is $(node --version)" >&2
		return 1
	fi
	local src="$ROOT/scripts/oidc-provider" dst="$TOOLS/oidc-provider"
	mkdir -p "$dst"
	if ! cmp -s "$src/package-lock.json" "$dst/package-lock.json" || [ ! -d "$dst/node_modules/oidc-provider" ]; then
		echo "==> installing oidc-provider (scripts/oidc-provider/package-lock.json) into .tools/oidc-provider"
		cp "$src/package.json" "$src/package-lock.json" "$dst/"
		(cd "$dst" && npm ci --no-audit --no-fund --loglevel=error)
	fi
	export PSGATE_OIDC_PROVIDER="$dst"
}
