package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Env is what one server instance is started with.
type Env struct {
	Dir      string // private directory for its config, logs and pid file
	Root     string // document root
	Port     int    // TCP port on 127.0.0.1
	FastCGI  string // unix socket of the FastCGI backend for *.php, or ""
	CPUs     string // taskset CPU list, or "" for no pinning
	MaxConns int    // connection and descriptor limit to configure
	WSGIDir  string // directory of the WSGI application (wsgiApp), or ""
	// Proxy is the unix socket of an HTTP backend that gets every request,
	// or ""; ProxyKeepAlive is nginx's upstream keepalive for it (0: the
	// backend's docs advise none, and nginx speaks HTTP/1.0 to it).
	Proxy          string
	ProxyKeepAlive int
	UWSGI          string // unix socket of a uwsgi-protocol backend for every request, or ""
	// CGI: Root holds cgi-bin/hello.sh (cgi-hello); FastCGI, when set, is
	// then fcgiwrap's socket for /cgi-bin/, not a PHP backend.
	CGI   bool
	Cache bool // FastCGI responses through the server's response cache (Scenario.Cache)
}

// cacher is a Server with a response cache; the others are n/a for
// cache scenarios.
type cacher interface{ hasCache() }

func (*gale) hasCache()  {}
func (*nginx) hasCache() {}

// Addr is the host:port the server listens on.
func (e Env) Addr() string { return "127.0.0.1:" + strconv.Itoa(e.Port) }

// Server is one HTTP server under test. Every implementation is configured
// to match gale: one worker (event loop), no access log, sendfile and an
// open file cache where the server has them, FastCGI keep-alive where the
// server supports it.
type Server interface {
	// Name is the short name used by -servers.
	Name() string
	// Check reports why the server cannot run here, or nil.
	Check() error
	// Config renders the full configuration (or command line) for e.
	Config(e Env) string
	// Start writes the configuration into e.Dir, starts the server and
	// waits until it accepts connections.
	Start(e Env) (*Proc, error)
}

// scenarioFilter is implemented by server variants that run only some
// scenarios (nginx's tcp_nopush-off variant: pipelined ones).
type scenarioFilter interface {
	Runs(sc Scenario) bool
}

// allServers lists every server the harness knows, in report order.
func allServers() []Server {
	return []Server{&gale{}, &nginx{}, &nginx{noPush: true},
		&stack{nginx: &nginx{}, backend: backendGunicorn, scenario: "wsgi-flask"},
		&stack{nginx: &nginx{}, backend: backendUWSGI, scenario: "wsgi-flask"},
		&stack{nginx: &nginx{}, backend: backendFcgiwrap, scenario: "cgi-hello"},
		&lighttpd{}, &h2o{}, &caddy{}}
}

// startWithConfig is the common Start: write config, launch, wait for port.
func startWithConfig(e Env, name, confFile, conf string, env []string, bin string, args ...string) (*Proc, error) {
	if confFile != "" && conf != "" {
		if err := os.WriteFile(filepath.Join(e.Dir, confFile), []byte(conf), 0o644); err != nil {
			return nil, err
		}
	}
	return startListening(name, e.CPUs, e.Dir, "tcp", e.Addr(), env, bin, args...)
}

// runAsRoot reports whether the harness runs as root; servers that drop
// privileges to "nobody" by default are told to stay root, so they can read
// the private temp directory.
func runAsRoot() bool { return os.Geteuid() == 0 }

// gale is the server this repository builds.
type gale struct {
	bin      string
	extra    []string // -gale-flags
	buildErr error    // why bin is empty, reported as the n/a reason
}

func (*gale) Name() string { return "gale" }

func (g *gale) Check() error {
	if g.buildErr != nil {
		return g.buildErr
	}
	if g.bin == "" {
		return fmt.Errorf("binary not built")
	}
	_, err := os.Stat(g.bin)
	return err
}

func (g *gale) args(e Env) []string {
	if e.WSGIDir != "" {
		a := []string{"wsgi", "-listen", e.Addr(), "-loops", "1", "-workers", strconv.Itoa(wsgiWorkers),
			"-python", wsgiPython, "-dir", e.WSGIDir}
		return append(append(a, g.extra...), wsgiAppName) // flags before the application
	}
	if e.UWSGI != "" || e.CGI || e.Cache {
		return append([]string{"-config", filepath.Join(e.Dir, "gale.yaml")}, g.extra...)
	}
	if e.Proxy != "" {
		// No -root: everything goes to the backend, as proxy_pass at / does.
		return append([]string{"-listen", e.Addr(), "-loops", "1", "-proxy", "unix:" + e.Proxy}, g.extra...)
	}
	a := []string{"-listen", e.Addr(), "-root", e.Root, "-loops", "1"}
	if e.FastCGI != "" {
		a = append(a, "-fastcgi", "unix:"+e.FastCGI)
	}
	return append(a, g.extra...)
}

// Config is gale's command line: it has no config file, and its defaults
// already are the settings the other servers are given (no access log,
// in-memory file cache, FastCGI keep-alive).
func (g *gale) Config(e Env) string {
	s := "# command line\n" + g.bin + " " + strings.Join(g.args(e), " ") + "\n"
	if y := g.yaml(e); y != "" {
		s += "# gale.yaml\n" + y
	}
	return s
}

// yaml is gale's configuration file for what its flags do not cover (a uwsgi
// upstream, CGI locations), or "".
func (g *gale) yaml(e Env) string {
	switch {
	case e.Cache:
		return g.cacheConfig(e)
	case e.UWSGI != "":
		// The budget (max_conns) defaults to 4 per loop: uWSGI's 4 processes.
		return fmt.Sprintf(`listen: %s
loops: 1
upstreams:
  app: {protocol: uwsgi, backends: ["unix:%s"]}
vhosts:
  - root: %s
    locations:
      - {prefix: /, fastcgi: {upstream: app, mode: pass}}
`, e.Addr(), e.UWSGI, e.Root)
	case e.CGI:
		return fmt.Sprintf(`listen: %s
loops: 1
vhosts:
  - root: %s
    locations:
      - {prefix: /}
      - {prefix: /cgi-bin/, cgi: {max_scripts: 16}}
`, e.Addr(), e.Root)
	}
	return ""
}

func (g *gale) Start(e Env) (*Proc, error) {
	return startWithConfig(e, "gale", "gale.yaml", g.yaml(e), nil, g.bin, g.args(e)...)
}

// cacheConfig is gale.yaml for a cache scenario: the command line's
// front controller with a 1 s micro-cache (nginx's fastcgi_cache_valid
// 200 1s + lock + use_stale updating + background_update).
func (g *gale) cacheConfig(e Env) string {
	return fmt.Sprintf(`listen: %s
loops: 1
upstreams:
  php: {backends: ["unix:%s"]}
vhosts:
  - root: %s
    locations:
      - prefix: /
        fastcgi: {upstream: php}
        cache: {ttl: 1s, stale_while_revalidate: 10s}
`, e.Addr(), e.FastCGI, e.Root)
}

// nginx is the reference: ratios in the report are relative to it. It gets
// Debian's nginx.conf settings (sendfile, tcp_nopush, tcp_nodelay) plus what
// nginx's own tuning guidance adds for static files (open_file_cache,
// reuseport, access log off). noPush is the variant with tcp_nopush off,
// run only where cork hurts nginx: pipelined requests (see Runs).
type nginx struct {
	bin    string
	noPush bool
}

// nginxNoPush is the -servers name of the tcp_nopush-off variant.
const nginxNoPush = "nginx-nopush-off"

func (n *nginx) Name() string {
	if n.noPush {
		return nginxNoPush
	}
	return "nginx"
}

// Runs keeps the tcp_nopush-off variant to pipelined scenarios: everywhere
// else Debian's tcp_nopush on is nginx's better setting (one segment per
// response instead of a head segment and a body segment), and a second
// nginx row would only repeat a handicapped figure.
func (n *nginx) Runs(sc Scenario) bool { return !n.noPush || sc.Pipeline > 0 }

func (n *nginx) Check() (err error) {
	n.bin, err = lookBin("nginx")
	return err
}

func (n *nginx) Config(e Env) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# nginx: Debian's nginx.conf (sendfile, tcp_nopush, tcp_nodelay on) with one worker,
# access log off, open_file_cache, listen reuseport, FastCGI keep-alive
# (fastcgi_keep_conn + upstream keepalive = pm.max_children).
daemon off;
master_process on;
worker_processes 1;
worker_rlimit_nofile %[1]d;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log warn;
`, e.MaxConns+64, e.Dir)
	if runAsRoot() {
		b.WriteString("user root;\n")
	}
	fmt.Fprintf(&b, `events {
    worker_connections %[1]d;
}
http {
    access_log off;
    sendfile on;
%[3]s    tcp_nodelay on;
    open_file_cache max=1000 inactive=60s;
    open_file_cache_valid 60s;
    # nginx closes a connection after 1000 requests by default; gale does not.
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    client_body_temp_path %[2]s/client_body;
    fastcgi_temp_path %[2]s/fastcgi_temp;
    proxy_temp_path %[2]s/proxy_temp;
    uwsgi_temp_path %[2]s/uwsgi_temp;
    scgi_temp_path %[2]s/scgi_temp;
    types { text/html html; application/octet-stream bin; }
    default_type application/octet-stream;
`, e.MaxConns, e.Dir, n.nopushLine())
	switch {
	case e.FastCGI != "" && !e.CGI:
		fmt.Fprintf(&b, `    upstream backend {
        server unix:%s;
        keepalive %d;
    }
`, e.FastCGI, phpChildren)
	case e.Proxy != "":
		// gunicorn's deploy docs (examples/nginx.conf): fail_timeout=0.
		fmt.Fprintf(&b, "    upstream app {\n        server unix:%s fail_timeout=0;\n", e.Proxy)
		if e.ProxyKeepAlive > 0 {
			fmt.Fprintf(&b, "        keepalive %d;\n", e.ProxyKeepAlive)
		}
		b.WriteString("    }\n")
	}
	if e.Cache {
		fmt.Fprintf(&b, `    fastcgi_cache_path %s/fcache levels=1:2 keys_zone=micro:10m max_size=256m inactive=10m;
`, e.Dir)
	}
	fmt.Fprintf(&b, `    server {
        listen %s reuseport;
        root %s;
`, e.Addr(), e.Root)
	switch {
	case e.FastCGI != "" && e.CGI:
		// Debian's fcgiwrap example (/usr/share/doc/fcgiwrap/examples/nginx.conf):
		// no keep-alive, SCRIPT_FILENAME the script under the root.
		fmt.Fprintf(&b, "        location /cgi-bin/ {\n            fastcgi_pass unix:%s;\n%s        }\n", e.FastCGI, nginxFastCGIParams)
	case e.FastCGI != "":
		b.WriteString("        location ~ \\.php$ {\n            fastcgi_pass backend;\n            fastcgi_keep_conn on;\n")
		if e.Cache {
			// nginx's micro-caching recipe: a 1 s validity, the lock
			// (collapsed forwarding), stale while updating, background
			// updates.
			b.WriteString(`            fastcgi_cache micro;
            fastcgi_cache_key $scheme$host$request_uri;
            fastcgi_cache_valid 200 1s;
            fastcgi_cache_lock on;
            fastcgi_cache_use_stale updating error timeout;
            fastcgi_cache_background_update on;
`)
		}
		b.WriteString(nginxFastCGIParams + "        }\n")
	case e.Proxy != "":
		// gunicorn's deploy docs: X-Forwarded-For, X-Forwarded-Proto, Host,
		// proxy_redirect off, buffering on (nginx's default). gale sets the
		// same fields. Keep-alive to the backend only where it has it
		// (nginx's docs: HTTP/1.1, an empty Connection, upstream keepalive).
		b.WriteString(`        location / {
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header Host $http_host;
            proxy_redirect off;
`)
		if e.ProxyKeepAlive > 0 {
			b.WriteString("            proxy_http_version 1.1;\n            proxy_set_header Connection \"\";\n")
		}
		b.WriteString("            proxy_pass http://app;\n        }\n")
	case e.UWSGI != "":
		// uwsgi has no keep-alive in nginx ("SCGI and uwsgi protocols do not
		// have a notion of keepalive connections").
		fmt.Fprintf(&b, "        location / {\n%s            uwsgi_pass unix:%s;\n        }\n", nginxUWSGIParams, e.UWSGI)
	}
	b.WriteString("    }\n}\n")
	return b.String()
}

// nginxFastCGIParams are the FastCGI parameters of Debian's fastcgi_params
// (and SCRIPT_FILENAME), as the php-fpm and fcgiwrap examples include them.
const nginxFastCGIParams = `            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_param QUERY_STRING $query_string;
            fastcgi_param REQUEST_METHOD $request_method;
            fastcgi_param CONTENT_TYPE $content_type;
            fastcgi_param CONTENT_LENGTH $content_length;
            fastcgi_param SCRIPT_NAME $fastcgi_script_name;
            fastcgi_param REQUEST_URI $request_uri;
            fastcgi_param DOCUMENT_URI $document_uri;
            fastcgi_param DOCUMENT_ROOT $document_root;
            fastcgi_param SERVER_PROTOCOL $server_protocol;
            fastcgi_param GATEWAY_INTERFACE CGI/1.1;
            fastcgi_param SERVER_SOFTWARE nginx;
            fastcgi_param REMOTE_ADDR $remote_addr;
            fastcgi_param REMOTE_PORT $remote_port;
            fastcgi_param SERVER_ADDR $server_addr;
            fastcgi_param SERVER_PORT $server_port;
            fastcgi_param SERVER_NAME $server_name;
`

// nginxUWSGIParams is Debian's /etc/nginx/uwsgi_params (nginx's uWSGI guide:
// include uwsgi_params), written out so the run does not depend on /etc.
const nginxUWSGIParams = `            uwsgi_param QUERY_STRING $query_string;
            uwsgi_param REQUEST_METHOD $request_method;
            uwsgi_param CONTENT_TYPE $content_type;
            uwsgi_param CONTENT_LENGTH $content_length;
            uwsgi_param REQUEST_URI $request_uri;
            uwsgi_param PATH_INFO $document_uri;
            uwsgi_param DOCUMENT_ROOT $document_root;
            uwsgi_param SERVER_PROTOCOL $server_protocol;
            uwsgi_param REQUEST_SCHEME $scheme;
            uwsgi_param HTTPS $https if_not_empty;
            uwsgi_param REMOTE_ADDR $remote_addr;
            uwsgi_param REMOTE_PORT $remote_port;
            uwsgi_param SERVER_PORT $server_port;
            uwsgi_param SERVER_NAME $server_name;
            uwsgi_param HTTP_HOST $host;
`

// nopushLine is the tcp_nopush directive with the reason for its value.
func (n *nginx) nopushLine() string {
	if n.noPush {
		return `    # tcp_nopush off: with it on, each pipelined batch waits for the client's
    # delayed ACK and nginx sits mostly idle (bench/README.md, "nginx").
    tcp_nopush off;
`
	}
	return `    # Debian's default: head and file leave in one segment (TCP_CORK).
    tcp_nopush on;
`
}

func (n *nginx) Start(e Env) (*Proc, error) {
	conf := filepath.Join(e.Dir, "nginx.conf")
	return startWithConfig(e, "nginx", "nginx.conf", n.Config(e), nil, n.bin, "-c", conf, "-p", e.Dir)
}

// lighttpd is single-process by default (server.max-worker = 0).
type lighttpd struct{ bin string }

func (*lighttpd) Name() string { return "lighttpd" }

func (l *lighttpd) Check() (err error) {
	l.bin, err = lookBin("lighttpd")
	return err
}

func (l *lighttpd) Config(e Env) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# lighttpd: Debian's lighttpd.conf (its modules, parse options and feature flags)
# with one process, no mod_accesslog, sendfile backend, stat cache on.
# FastCGI: lighttpd 1.4 never sets FCGI_KEEP_CONN (one backend connection per request).
# max-fds is 3 x max-connections because lighttpd caps connections at a third of it.
server.modules = ( "mod_indexfile", "mod_access", "mod_alias", "mod_redirect", "mod_fastcgi",%s
                   "mod_dirlisting", "mod_staticfile" )
server.feature-flags = ( "server.h2proto" => "enable", "server.h2c" => "enable",
                         "server.graceful-shutdown-timeout" => 5 )
server.http-parseopts = ( "header-strict" => "enable", "host-strict" => "enable",
                          "host-normalize" => "enable", "url-normalize-unreserved" => "enable",
                          "url-normalize-required" => "enable", "url-ctrls-reject" => "enable",
                          "url-path-2f-decode" => "enable", "url-path-dotseg-remove" => "enable" )
index-file.names = ( "index.php", "index.html" )
url.access-deny = ( "~", ".inc" )
static-file.exclude-extensions = ( ".php", ".pl", ".fcgi" )
server.document-root = "%s"
server.bind = "127.0.0.1"
server.port = %d
server.errorlog = "%s/error.log"
server.max-worker = 0
server.max-fds = %d
server.max-connections = %d
server.network-backend = "sendfile"
server.stat-cache-engine = "simple"
server.max-keep-alive-requests = 65535
server.max-keep-alive-idle = 75
mimetype.assign = ( ".html" => "text/html", "" => "application/octet-stream" )
`, l.extraModules(e), e.Root, e.Port, e.Dir, 3*e.MaxConns, e.MaxConns)
	if e.FastCGI != "" {
		fmt.Fprintf(&b, `fastcgi.server = ( ".php" => (( "socket" => "%s", "check-local" => "disable" )) )
`, e.FastCGI)
	}
	if e.Proxy != "" {
		// mod_proxy (lighttpd docs, Docs_ModProxy): every path to the backend.
		// lighttpd 1.4 sends Connection: close to it (no backend keep-alive).
		fmt.Fprintf(&b, `proxy.server = ( "" => (( "socket" => "%s" )) )
`, e.Proxy)
	}
	if e.CGI {
		// mod_cgi (Debian's conf-available/10-cgi.conf, lighttpd docs
		// Docs_ModCGI): /cgi-bin/, "" runs the script by its #! line.
		b.WriteString(`$HTTP["url"] =~ "^/cgi-bin/" {
    cgi.assign = ( "" => "" )
}
`)
	}
	return b.String()
}

// extraModules adds mod_proxy or mod_cgi to Debian's module list, before
// mod_staticfile: lighttpd asks its modules in that order, and a module
// loaded after it ("server.modules +=") never sees a request for a file
// that exists (the CGI script would be served as a file).
func (l *lighttpd) extraModules(e Env) string {
	switch {
	case e.Proxy != "":
		return ` "mod_proxy",`
	case e.CGI:
		return ` "mod_cgi",`
	}
	return ""
}

func (l *lighttpd) Start(e Env) (*Proc, error) {
	conf := filepath.Join(e.Dir, "lighttpd.conf")
	return startWithConfig(e, "lighttpd", "lighttpd.conf", l.Config(e), nil, l.bin, "-D", "-f", conf)
}

// h2o runs one event-loop thread (num-threads: 1). Its open-file cache is
// built in and always on; h2o 2.2 has no sendfile.
type h2o struct{ bin string }

func (*h2o) Name() string { return "h2o" }

func (h *h2o) Check() (err error) {
	h.bin, err = lookBin("h2o")
	return err
}

func (h *h2o) Config(e Env) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# h2o: one thread, no access-log, built-in file cache (always on, no sendfile in h2o 2.2),
# FastCGI keep-alive via fastcgi.timeout.keepalive.
listen:
  host: 127.0.0.1
  port: %d
num-threads: 1
max-connections: %d
error-log: %s/error.log
pid-file: %s/h2o.pid
`, e.Port, e.MaxConns, e.Dir, e.Dir)
	if runAsRoot() {
		b.WriteString("user: root\n")
	}
	b.WriteString("hosts:\n  default:\n    paths:\n      /:\n")
	if e.Proxy != "" {
		// h2o's docs (configure/proxy_directives): proxy.reverse.url, a unix
		// socket as [unix:PATH]; keep-alive to the backend is its default
		// (proxy.timeout.keepalive 2 s), X-Forwarded-For too. preserve-host
		// passes the client's Host as the others do (else h2o sends
		// "[unix:PATH]", which Go's net/http rejects with 400).
		fmt.Fprintf(&b, "        proxy.reverse.url: \"http://[unix:%s]/\"\n        proxy.preserve-host: ON\n", e.Proxy)
		return b.String()
	}
	fmt.Fprintf(&b, "        file.dir: %s\n", e.Root)
	if e.FastCGI != "" {
		fmt.Fprintf(&b, `        file.custom-handler:
          extension: .php
          fastcgi.connect:
            port: %s
            type: unix
          fastcgi.timeout.keepalive: 60000
`, e.FastCGI)
	}
	return b.String()
}

func (h *h2o) Start(e Env) (*Proc, error) {
	conf := filepath.Join(e.Dir, "h2o.conf")
	return startWithConfig(e, "h2o", "h2o.conf", h.Config(e), nil, h.bin, "-c", conf)
}

// caddy is Debian's caddy package (bookworm: 2.6.2); it runs only if on PATH.
type caddy struct{ bin string }

func (*caddy) Name() string { return "caddy" }

func (c *caddy) Check() (err error) {
	c.bin, err = lookBin("caddy")
	return err
}

func (c *caddy) Config(e Env) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# caddy: GOMAXPROCS=1 (one worker), no log directive (access log off),
# file_server uses sendfile; no open file cache. php_fastcgi dials per request
# (Caddy has no FastCGI keep-alive).
{
	admin off
	auto_https off
}
http://%s {
`, e.Addr())
	if e.Proxy != "" {
		// reverse_proxy: keep-alive to the backend is Caddy's default.
		fmt.Fprintf(&b, "\treverse_proxy unix/%s\n}\n", e.Proxy)
		return b.String()
	}
	fmt.Fprintf(&b, "\troot * %s\n", e.Root)
	if e.FastCGI != "" {
		fmt.Fprintf(&b, "\tphp_fastcgi unix/%s\n", e.FastCGI)
	}
	b.WriteString("\tfile_server\n}\n")
	return b.String()
}

func (c *caddy) Start(e Env) (*Proc, error) {
	conf := filepath.Join(e.Dir, "Caddyfile")
	return startWithConfig(e, "caddy", "Caddyfile", c.Config(e), []string{"GOMAXPROCS=1"}, c.bin, "run", "--config", conf, "--adapter", "caddyfile")
}
