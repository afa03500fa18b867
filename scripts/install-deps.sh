#!/usr/bin/env bash
# Installs the real peers gale's tests and benchmarks run against, from
# Debian packages, only when missing. Needs root (CI runs as root).
set -euo pipefail
want=()
need() { command -v "$1" >/dev/null 2>&1 || want+=("$2"); }
case "${1:-test}" in
  test)
    need curl curl
    [ -x /usr/sbin/php-fpm8.2 ] || want+=(php8.2-fpm)
    need php8.2 php8.2-cli
    need php-cgi php8.2-cgi   # spawned backends (cmd/gale config tests)
    need uwsgi uwsgi
    [ -e /usr/lib/uwsgi/plugins/python3_plugin.so ] || want+=(uwsgi-plugin-python3)
    # Flask for Debian's /usr/bin/python3 (the SCGI tests run it on uWSGI).
    /usr/bin/python3 -c 'import flask' >/dev/null 2>&1 || want+=(python3-flask)
    need wrk wrk
    need nginx nginx-light
    # HTTP upstreams (cmd/gale proxy tests): Debian's Python, not a pyenv one.
    [ -x /usr/bin/gunicorn ] || want+=(gunicorn)
    [ -x /usr/bin/waitress-serve ] || want+=(python3-waitress)
    /usr/bin/python3 -c 'import flask' 2>/dev/null || want+=(python3-flask)
    /usr/bin/python3 -c 'import uvicorn' 2>/dev/null || want+=(python3-uvicorn)
    /usr/bin/python3 -c 'import websockets' 2>/dev/null || want+=(python3-websockets)
    # gale wsgi (cmd/gale wsgi tests): Flask above, Django 3.2 with its admin.
    /usr/bin/python3 -c 'import django' 2>/dev/null || want+=(python3-django)
    ;;
  bench)
    need curl curl
    [ -x /usr/sbin/php-fpm8.2 ] || want+=(php8.2-fpm)
    need wrk wrk
    need nginx nginx-light
    need lighttpd lighttpd
    need h2o h2o
    need h2load nghttp2-client
    need ab apache2-utils
    need caddy caddy
    # wsgi-flask, gunicorn-flask, uwsgi-flask: a Flask app under gale wsgi,
    # Debian's gunicorn (sync workers) and uWSGI with its python3 plugin.
    /usr/bin/python3 -c 'import flask' 2>/dev/null || want+=(python3-flask)
    [ -x /usr/bin/gunicorn ] || want+=(gunicorn)
    [ -x /usr/bin/uwsgi ] || want+=(uwsgi)
    [ -e /usr/lib/uwsgi/plugins/python3_plugin.so ] || want+=(uwsgi-plugin-python3)
    # cgi-hello: nginx runs CGI scripts through fcgiwrap.
    [ -x /usr/sbin/fcgiwrap ] || want+=(fcgiwrap)
    ;;
esac
want=($(printf '%s\n' "${want[@]}" | grep -v '^$' | sort -u || true))
[ ${#want[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing: ${want[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
