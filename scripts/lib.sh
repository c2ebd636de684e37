# Shared by scripts/run.sh, scripts/test.sh, scripts/services.sh and load-tests/bench.sh.
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
  # the web console (Vue + Vite, apps/console/web): type check, then bundle into dist/apps/console/web
  ee_say "building the web console (vue-tsc, vite)"
  npm run --silent build:console
}

# --- System packages ------------------------------------------------------------------------------
# Every program the commands and the tests run, as "<program>:<Debian package>". A test must never
# pass or fail by what happens to be installed on a machine, so each command checks the whole list
# it needs up front and installs what is missing (as root), or names all of it at once (otherwise).
# Local Redis and PostgreSQL (scripts/services.sh): redis-cli and redis-benchmark (the benchmark's
# Redis ceiling) come with redis-tools, psql with postgresql-client.
EE_SERVICE_PROGRAMS=(redis-server:redis-server redis-cli:redis-tools redis-benchmark:redis-tools
  initdb:postgresql psql:postgresql-client)
# npm run stack/demo: curl waits for every app's /readyz.
EE_STACK_PROGRAMS=(curl:curl)
# npm test: headless Chromium for the console's browser tests (playwright-core drives the system
# browser; CHROMIUM_PATH names another one), openssl for the mTLS test's certificates, promtool
# (Debian's prometheus package) for the check of deploy/prometheus/eagle-eye.rules.yml, pg_dump and
# pg_restore for the backup/restore test, and a CJK font: without one a fresh Debian's Chromium draws
# every Chinese glyph of the zh-CN console's screenshots as an empty box (WenQuanYi Micro Hei, 5 MB;
# fonts-noto-cjk would be 90 MB), and scikit-learn for the system python3: the test of the caller
# model's training with console feedback runs the trainer (scripts/train.sh installs it the same way).
EE_CJK_FONT=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc
EE_TEST_PROGRAMS=("${CHROMIUM_PATH:-/usr/bin/chromium}:chromium" openssl:openssl promtool:prometheus
  pg_dump:postgresql-client pg_restore:postgresql-client "$EE_CJK_FONT:fonts-wqy-microhei"
  python3-module=sklearn.linear_model:python3-sklearn)

# The folder of PostgreSQL's server programs (initdb, pg_ctl, postgres): Debian keeps them off PATH
# in /usr/lib/postgresql/<version>/bin.
ee_pg_bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return; }; done
  command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return; }
  command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ] && { pg_config --bindir; return; }
  return 1
}

ee_has_program() {
  case "$1" in
    initdb) ee_pg_bindir >/dev/null ;;
    *.ttc | *.ttf | *.otf) [ -f "$1" ] ;; # a font file, not a program
    python3-module=*) /usr/bin/python3 -c "import ${1#python3-module=}" >/dev/null 2>&1 ;;
    /*) [ -x "$1" ] ;;
    *) command -v "$1" >/dev/null ;;
  esac
}

# The Debian packages of the programs that are missing, one per line, each once.
ee_missing_packages() {
  local req
  for req in "$@"; do ee_has_program "${req%%:*}" || echo "${req##*:}"; done | awk '!seen[$0]++'
}

# ee_ensure_system_packages <program:package>...: as root with apt-get, installs the packages of the
# missing programs (fetching the package lists first when apt does not know one of them, as on a
# fresh machine or image); otherwise prints the exact packages to install and stops.
ee_ensure_system_packages() {
  local missing pkg log
  mapfile -t missing < <(ee_missing_packages "$@")
  [ ${#missing[@]} = 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    ee_say "missing system packages: ${missing[*]}"
    if command -v apt-get >/dev/null; then
      ee_say "install them (sudo apt-get install -y ${missing[*]}) or run this command as root, which installs them"
    else
      ee_say "install the equivalents of these Debian packages with your system's package manager"
    fi
    ee_say "(or set REDIS_URL and DATABASE_URL to servers you run, for the stack; CHROMIUM_PATH to a Chromium binary, for the tests)"
    exit 1
  fi
  ee_say "installing system packages with apt-get (one time): ${missing[*]}"
  # wait for another apt/dpkg run to finish rather than fail on its lock
  local apt=(apt-get -o DPkg::Lock::Timeout=300)
  log=$(mktemp)
  for pkg in "${missing[@]}"; do
    if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [^(]'; then
      ee_say "apt does not know $pkg yet: apt-get update"
      "${apt[@]}" update >>"$log" 2>&1 || { tail -20 "$log"; rm -f "$log"; ee_say "apt-get update failed"; exit 1; }
      break
    fi
  done
  # Package lists that are known but stale point at files the mirror no longer has: update, retry.
  if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -q "${missing[@]}" >>"$log" 2>&1; then
    ee_say "apt-get install failed; updating the package lists and trying again"
    "${apt[@]}" update >>"$log" 2>&1 || true
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -q "${missing[@]}" >>"$log" 2>&1 ||
      { tail -20 "$log"; rm -f "$log"; ee_say "apt-get install ${missing[*]} failed"; exit 1; }
  fi
  rm -f "$log"
  mapfile -t missing < <(ee_missing_packages "$@")
  if [ ${#missing[@]} != 0 ]; then
    ee_say "still missing after apt-get install: ${missing[*]}"
    exit 1
  fi
}
