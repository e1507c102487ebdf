# shellcheck shell=bash
# Settings of an `npm run` around an e2e script must not steer the npm commands it runs (npm pack,
# the npm install n8n's installer runs in .n8n/nodes, the installs of n8n itself: prefix, nodedir,
# omit, …). Source this file and call npm_env_scrub: it unsets every npm_config_*, npm_package_*
# and npm_lifecycle_* variable but the registry, the cache, the user config and the CA file.
npm_env_scrub() {
	local v
	for v in $(compgen -e); do
		case "${v,,}" in
		npm_config_registry | npm_config_cache | npm_config_userconfig | npm_config_cafile) ;;
		npm_config_* | npm_package_* | npm_lifecycle_*) unset "$v" ;;
		esac
	done
}
