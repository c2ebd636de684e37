# Shared by scripts/run.sh and scripts/test.sh.
ee_say() { printf '[eagle-eye] %s\n' "$*"; }

# Installs npm packages when node_modules is missing or older than the lock file.
ee_ensure_deps() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    # `npm install` from the lock file rather than `npm ci`: the registry mirror lacks some other
    # platforms' optional binaries (buf, msgpackr-extract), which npm ci counts as lock drift.
    ee_say "installing npm packages"
    npm install --no-audit --no-fund --loglevel=error
  fi
}

ee_build() {
  ee_say "building (tsc)"
  npx --no-install tsc -p tsconfig.build.json
}
