#!/bin/sh
# First start of the compose PostgreSQL (/docker-entrypoint-initdb.d): the role the apps connect
# as. It owns nothing; the migrate service grants it what the apps need (README "Security").
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_password="${EE_PG_APP_PASSWORD:-eagleeye-app-dev}" <<'SQL'
CREATE ROLE eagleeye_app LOGIN PASSWORD :'app_password';
SQL
