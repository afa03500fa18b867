// Package config is gale's configuration model: the YAML file read by
// `gale -config FILE`, its validation with file:line:col errors (`gale -t`),
// and the GALE_* environment overrides. It only describes what to serve;
// cmd/gale builds the handler tree, the upstreams and the reactor from it.
//
// Every field's doc comment is its reference entry: the README's
// configuration reference is rendered from these comments (see Reference),
// and a test fails when a field has none.
package config

// Config is the whole configuration file.
type Config struct {
	// Listen is the address gale listens on, host:port. One address: run
	// a second gale for a second port. Changing it needs a restart.
	Listen string `yaml:"listen" default:":8080"`
	// Loops is the number of event loops; 0 means one per CPU. Changing it
	// needs a restart.
	Loops int `yaml:"loops" default:"0"`
	// ShutdownTimeout is how long in-flight requests may take on SIGTERM
	// or SIGINT before gale stops anyway.
	ShutdownTimeout Duration `yaml:"shutdown_timeout" default:"30s"`
	// Admin is the address of the admin listener (/metrics, /healthz,
	// /readyz), e.g. 127.0.0.1:9145; empty means none.
	Admin string `yaml:"admin" default:""`
	// Log configures the error log and the access log.
	Log Log `yaml:"log"`
	// Timeouts bound what clients may take (nginx client_header_timeout,
	// client_body_timeout, send_timeout, keepalive_timeout). Changing them
	// needs a restart.
	Timeouts Timeouts `yaml:"timeouts"`
	// Limits bound what clients may send. Changing them needs a restart.
	Limits Limits `yaml:"limits"`
	// Cache sizes the in-memory static file cache of every root.
	Cache Cache `yaml:"cache"`
	// Compression serves gzip and zstd variants of compressible static
	// files (computed once, cached).
	Compression *bool `yaml:"compression" default:"true"`
	// RealIP takes the client's address from X-Forwarded-For when the
	// connection comes from a trusted proxy (nginx set_real_ip_from,
	// real_ip_header, real_ip_recursive on). It is the address access
	// rules, limits, the access log, REMOTE_ADDR and X-Forwarded-For see.
	// Changing it needs a restart.
	RealIP *RealIP `yaml:"real_ip"`
	// ProxyProtocol makes the listener expect a PROXY protocol header (v1
	// or v2, as HAProxy and cloud load balancers send) before each
	// connection's first request, and take the client's address from it
	// (nginx listen ... proxy_protocol). A connection without one is
	// closed. Off, a PROXY header is a bad request (400). Changing it
	// needs a restart.
	ProxyProtocol bool `yaml:"proxy_protocol" default:"false"`
	// LimitConn caps the busy connections of each client address (nginx
	// limit_conn per $binary_remote_addr): as in nginx, a connection counts
	// while it has a request in progress, not once it idles between
	// requests (a tick after its last response). The address is the real
	// one (PROXY protocol, then RealIP). Changing it needs a restart.
	LimitConn *LimitConn `yaml:"limit_conn"`
	// Upstreams are the applications gale hands requests to (FastCGI,
	// SCGI, uwsgi or HTTP), by name.
	Upstreams map[string]*Upstream `yaml:"upstreams"`
	// VHosts are the virtual hosts, chosen by the Host header.
	VHosts []*VHost `yaml:"vhosts"`

	file string         // where it was read from, for errors
	pos  map[string]Pos // path of each value -> its place in the file
}

// Log configures logging.
type Log struct {
	// Level is the error log level: debug, info, warn or error.
	Level string `yaml:"level" default:"info"`
	// Format is the error log format: text or json.
	Format string `yaml:"format" default:"text"`
	// Access is where the access log goes: a file path, "stdout", or
	// "off".
	Access string `yaml:"access" default:"off"`
	// AccessFormat is the access log format: combined or json.
	AccessFormat string `yaml:"access_format" default:"combined"`
}

// Timeouts are the client-side timeouts.
type Timeouts struct {
	// Idle closes a kept-alive connection with no request.
	Idle Duration `yaml:"idle" default:"60s"`
	// Header bounds the first byte to the end of the headers; then 408.
	Header Duration `yaml:"header" default:"10s"`
	// Body bounds the gap between two reads of a request body; then 408.
	Body Duration `yaml:"body" default:"30s"`
	// Send closes a connection whose client reads nothing for this long.
	Send Duration `yaml:"send" default:"60s"`
}

// Limits bound requests. Sizes take a number of bytes or a suffix: 512KiB,
// 10MiB, 1GiB (also K, M, G, KB, MB, GB; all powers of 1024).
type Limits struct {
	// MaxRequestLine bounds the request line; longer gives 414.
	MaxRequestLine Size `yaml:"max_request_line" default:"8KiB"`
	// MaxHeaderBytes bounds the header section; more gives 431.
	MaxHeaderBytes Size `yaml:"max_header_bytes" default:"16KiB"`
	// MaxHeaders bounds the number of header lines; more gives 431.
	MaxHeaders int `yaml:"max_headers" default:"100"`
	// MaxBody bounds a request body (nginx client_max_body_size); more
	// gives 413.
	MaxBody Size `yaml:"max_body" default:"10MiB"`
	// MaxChunkExt bounds the extensions of one chunk-size line; more gives
	// 400.
	MaxChunkExt Size `yaml:"max_chunk_ext" default:"256"`
	// MaxTrailerBytes bounds the trailers of a chunked body; more gives
	// 431.
	MaxTrailerBytes Size `yaml:"max_trailer_bytes" default:"4KiB"`
	// MaxRequestsPerConn closes a connection after this many requests
	// (nginx keepalive_requests).
	MaxRequestsPerConn int `yaml:"max_requests_per_conn" default:"10000"`
	// MaxConns caps open client connections; beyond it a new connection
	// is answered 503 with Retry-After and closed (0: no cap).
	MaxConns int `yaml:"max_conns" default:"0"`
}

// Cache sizes the static file cache.
type Cache struct {
	// MaxFile is the largest file kept in memory; larger files are
	// streamed from disk with sendfile.
	MaxFile Size `yaml:"max_file" default:"1MiB"`
	// MaxTotal bounds the cache of one root, compressed variants included.
	MaxTotal Size `yaml:"max_total" default:"256MiB"`
	// Responses bounds the response cache in RAM, shared by every
	// location with a cache block and by all event loops: entries, their
	// metadata and index, all outside the Go heap, so that it is what the
	// process holds for the cache. It exists only when a location has one.
	Responses Size `yaml:"responses" default:"256MiB"`
	// MaxResponse is the largest response the response cache stores;
	// larger ones stream through uncached.
	MaxResponse Size `yaml:"max_response" default:"8MiB"`
}

// Upstream is an application: a group of backends (php-fpm pools,
// php-cgi, a Go or Python app, gunicorn, uvicorn) with the connection
// budget, balancing, timeouts and passive health gale applies to them.
// Connections are persistent and pooled where the protocol allows (nginx
// keepalive + fastcgi_keep_conn on).
type Upstream struct {
	// Protocol is what the backends speak: fastcgi; scgi (one request
	// per connection, as uWSGI's --scgi-socket and python-scgi serve it);
	// uwsgi (uWSGI's native protocol, its --socket, what nginx's
	// uwsgi_pass speaks: one request per connection, the response raw
	// HTTP; a request whose CGI variables
	// exceed the protocol's 65535 bytes gets 431); or http
	// (HTTP/1.1: gunicorn, uvicorn, waitress, any HTTP server; reached by
	// a location's proxy).
	Protocol string `yaml:"protocol" default:"fastcgi"`
	// Backends are the addresses: host:port or unix:/path. May be left out
	// when Spawn starts the backends (their sockets are the backends).
	Backends []string `yaml:"backends"`
	// MaxConns caps connections per backend across all loops; 0 means the
	// backend's FCGI_MAX_CONNS when it reports one, else 4 per loop, or 64
	// for an HTTP app (it serves as many connections as it is given, as
	// behind nginx's keepalive 64) and for a backend that takes one
	// request per connection (uwsgi, SCGI). Set it to php-fpm's
	// pm.max_children.
	MaxConns int `yaml:"max_conns" default:"0"`
	// MaxMux caps requests multiplexed on one connection, for backends
	// that allow it (FCGI_MPXS_CONNS).
	MaxMux int `yaml:"max_mux" default:"64"`
	// Pipeline is how many requests a connection to a backend that serves
	// one request at a time (php-fpm) may carry when max_conns is used up:
	// a GET or HEAD waits in the worker's socket instead of gale's queue,
	// only behind a request that began less than 20 ms ago, and beyond the
	// second only while the requests ahead, at the connection's recent
	// time per request, would end within those 20 ms. 1 turns it off; 0
	// (the default) means 2, or 8 for a wsgi upstream, whose Python workers
	// pay more for a sleep and a wakeup than a small request's own work.
	Pipeline int `yaml:"pipeline" default:"0"`
	// Balance picks a backend for a new connection: round_robin or
	// least_conn.
	Balance string `yaml:"balance" default:"round_robin"`
	// Timeouts bound the exchanges with the backends.
	Timeouts UpstreamTimeouts `yaml:"timeouts"`
	// MaxFails failures within FailTimeout mark a backend down for
	// FailTimeout (nginx max_fails). A lone backend is never marked down.
	MaxFails int `yaml:"max_fails" default:"1"`
	// FailTimeout is the window of MaxFails and how long a backend stays
	// down (nginx fail_timeout).
	FailTimeout Duration `yaml:"fail_timeout" default:"10s"`
	// Params are extra FastCGI parameters sent with every request (nginx
	// fastcgi_param), e.g. APP_ENV: production.
	Params map[string]string `yaml:"params"`
	// Spawn makes gale start and supervise the backends itself.
	Spawn *Spawn `yaml:"spawn"`
	// WSGI makes gale run a Python WSGI application itself (`gale wsgi`):
	// its own workers, one request at a time each, over FastCGI. The
	// upstream then needs no backends and protocol stays fastcgi; a pass
	// location to it sends PATH_INFO as the path and an empty SCRIPT_NAME,
	// or, for a prefix below "/" ending in a slash ("/py/"), SCRIPT_NAME
	// the prefix ("/py") and PATH_INFO the rest ("/page").
	WSGI *WSGI `yaml:"wsgi"`
}

// WSGI describes a Python WSGI application gale runs with its own worker
// (standard library only, Python 3.9 or later, shipped inside gale): a
// process per worker, each with one unix socket and one connection, so
// requests wait in gale's FIFO queue (503 after timeouts.queue), never in
// a kernel backlog, but for the upstream's pipeline (GETs in a busy
// worker's socket, so that it does not sleep between requests: 8 deep
// unless the upstream's pipeline says otherwise). A worker gets requests once the application is
// imported; it is replaced, the new one started before the old one
// drains, after max_requests or above max_rss; a request past
// timeouts.read gets 504 and its worker is killed and replaced. SIGHUP
// replaces all workers the same way; an application that fails to import
// keeps the previous workers serving, its traceback in gale's log.
type WSGI struct {
	// App is the application, module:callable (callable defaults to
	// application), e.g. mysite.wsgi:application or app:app.
	App string `yaml:"app"`
	// Dir is the application's directory: the workers' working directory,
	// first on sys.path, and the tree reload watches. Relative to the
	// configuration file; default its directory (the current directory
	// for `gale wsgi`).
	Dir string `yaml:"dir"`
	// Python is the interpreter; default $VIRTUAL_ENV/bin/python when
	// VIRTUAL_ENV is set, else python3 from PATH.
	Python string `yaml:"python"`
	// Workers is the number of worker processes; 0 means one per CPU.
	Workers int `yaml:"workers" default:"0"`
	// MaxRequests replaces a worker after this many requests, plus a
	// random jitter of up to 10% so that workers do not all restart at
	// once (gunicorn max_requests + max_requests_jitter); 0 means never.
	MaxRequests int `yaml:"max_requests" default:"0"`
	// MaxRSS replaces a worker whose resident memory grows above this
	// (uWSGI reload-on-rss), checked every second; 0 means no limit.
	MaxRSS Size `yaml:"max_rss" default:"0"`
	// Reload replaces the workers when a *.py file below Dir changes
	// (for development).
	Reload bool `yaml:"reload" default:"false"`
}

// UpstreamTimeouts are the timeouts towards an upstream's backends.
type UpstreamTimeouts struct {
	// Connect fails a dial (502; nginx fastcgi_connect_timeout).
	Connect Duration `yaml:"connect" default:"5s"`
	// Read bounds the wait for the response and any silence in it (504;
	// nginx fastcgi_read_timeout).
	Read Duration `yaml:"read" default:"60s"`
	// Queue bounds the wait for a connection when the budget is used
	// (503).
	Queue Duration `yaml:"queue" default:"10s"`
	// Idle closes pooled connections nobody used, so they do not pin
	// backend workers (nginx keepalive_timeout in an upstream block).
	Idle Duration `yaml:"idle" default:"30s"`
}

// Spawn describes backends gale starts and keeps running (lighttpd
// bin-path, h2o fastcgi.spawn): Count processes, each listening on its own
// unix socket, restarted with an exponential backoff (100 ms doubling to
// 5 s) when they exit, stopped (SIGTERM) when gale exits.
type Spawn struct {
	// Command is the program and its arguments. "{socket}" in an argument
	// is replaced by the process's socket path, e.g.
	// [php-cgi, -b, "{socket}"] or [gale, fcgi-demo, -listen, "unix:{socket}"].
	Command []string `yaml:"command"`
	// Count is the number of processes.
	Count int `yaml:"count" default:"1"`
	// Socket is the unix socket path of each process; "{n}" is replaced by
	// the process number (0, 1, ...) and is required when Count > 1.
	Socket string `yaml:"socket"`
	// Env holds extra environment variables for the processes (added to
	// gale's own), e.g. PHP_FCGI_CHILDREN: "4".
	Env map[string]string `yaml:"env"`
}

// VHost is a virtual host: the locations served for a set of Host names.
type VHost struct {
	// Names are the host names this vhost answers (nginx server_name):
	// exact names ("example.com") and wildcards ("*.example.com", which
	// matches sub.example.com but not example.com). Matching ignores case
	// and the port.
	Names []string `yaml:"names"`
	// Default makes this vhost answer Hosts no vhost names (nginx
	// default_server). Without one, the first vhost is the default.
	Default bool `yaml:"default" default:"false"`
	// Root is the document root of the locations that name none.
	Root string `yaml:"root"`
	// Index lists the names tried for a directory.
	Index []string `yaml:"index" default:"[index.html]"`
	// DirListing lists directories that have no index.
	DirListing bool `yaml:"dir_listing" default:"false"`
	// FollowSymlinksOutside serves files reached through symlinks that
	// leave Root (Debian's DokuWiki links its templates and plugins from
	// /var/lib and /etc). Off, such a path is 404 and the kernel resolves
	// every path beneath the root (openat2 RESOLVE_BENEATH). A location
	// may set its own.
	FollowSymlinksOutside bool `yaml:"follow_symlinks_outside" default:"false"`
	// Redirects answer matching requests with a redirect before any
	// location (nginx rewrite ... permanent, return 301 ...), the first
	// that matches.
	Redirects []*Redirect `yaml:"redirects"`
	// Rewrites serve matching requests as if they had asked for another
	// path and query, without a redirect (nginx rewrite ... last), after
	// the redirects and before any location, the first that matches.
	Rewrites []*Rewrite `yaml:"rewrites"`
	// Locations map request paths to what serves them. Without any, the
	// whole vhost is static files from Root.
	Locations []*Location `yaml:"locations"`
	// ErrorPages map statuses to pages for every location of the vhost
	// that sets none (nginx error_page at server level).
	ErrorPages map[string]string `yaml:"error_pages"`
	// Compress compresses the applications' responses in every location
	// of the vhost that sets none.
	Compress *Compress `yaml:"compress"`
}

// RealIP names the proxies trusted to say who the client is.
type RealIP struct {
	// From lists the trusted proxies: CIDRs or addresses (nginx
	// set_real_ip_from). A connection from one of them has its client
	// address taken from Header, walked right to left past every trusted
	// address; the HTTP upstreams then get the chain extended, not
	// replaced.
	From []string `yaml:"from"`
	// Header is the field that carries the chain: X-Forwarded-For.
	Header string `yaml:"header" default:"X-Forwarded-For"`
}

// LimitConn caps connections per client address.
type LimitConn struct {
	// Max is the most busy connections one address may have.
	Max int `yaml:"max"`
	// Status answers a connection over Max (then closed): 503 or 429.
	Status int `yaml:"status" default:"503"`
	// Slots bounds the addresses counted at once (memory is fixed); when
	// all are in use by other addresses, a new one is admitted uncounted.
	Slots int `yaml:"slots" default:"16384"`
}

// Compress compresses the responses of an application (nginx gzip on,
// gzip_types, gzip_min_length, gzip_vary): as the body arrives, flushed
// whenever gale sends, for clients whose Accept-Encoding takes the coding.
// Never for HEAD, ranges, 204/304/206, a response with its own
// Content-Encoding or with Cache-Control: no-transform, or one known to be
// shorter than MinLength; compressed
// responses get Vary: Accept-Encoding, a weak ETag and no Content-Length.
type Compress struct {
	// Enabled turns it on (false turns off a vhost's compress here).
	Enabled bool `yaml:"enabled" default:"true"`
	// Types are the media types compressed ("text/*" matches every text
	// type); empty means those gale compresses as static files (HTML,
	// CSS, JavaScript, JSON, XML, SVG, plain text and the like).
	Types []string `yaml:"types"`
	// MinLength leaves shorter responses of known length as they are.
	MinLength Size `yaml:"min_length" default:"256"`
	// Codings are the codings offered: zstd and gzip; the client's
	// preference picks, zstd first at equal preference.
	Codings []string `yaml:"codings" default:"[zstd, gzip]"`
}

// Auth is HTTP basic authentication (nginx auth_basic).
type Auth struct {
	// Realm is shown by the browser's login prompt.
	Realm string `yaml:"realm" default:"Restricted"`
	// UserFile is an htpasswd file of bcrypt hashes (htpasswd -B -c FILE
	// USER), read at start and reload (nginx auth_basic_user_file).
	UserFile string `yaml:"user_file"`
}

// LimitReq limits each client address's request rate in a location
// (nginx limit_req): a leaky bucket drains at Rate and holds Burst
// requests more; past it requests are refused with Status. Requests within
// the burst wait for their turn at the rate (held unread, in order), or
// are served at once with NoDelay.
type LimitReq struct {
	// Rate is the sustained rate: "10r/s" or "60r/m".
	Rate string `yaml:"rate"`
	// Burst is how many requests beyond the rate may wait for their turn
	// (or, with NoDelay, pass at once).
	Burst int `yaml:"burst" default:"0"`
	// NoDelay serves the requests within the burst at once (nginx
	// nodelay) instead of pacing them.
	NoDelay bool `yaml:"nodelay" default:"false"`
	// Status is the refusal's status: 503 or 429.
	Status int `yaml:"status" default:"503"`
	// Slots bounds the addresses remembered (memory is fixed); when full,
	// the least recently seen address's bucket is dropped.
	Slots int `yaml:"slots" default:"16384"`
}

// Redirect is a redirect rule. A request whose path does not match costs
// no allocation.
type Redirect struct {
	// Match is a regular expression (RE2 syntax) on the decoded path, e.g.
	// "^/old/(.*)$"; anchor it with ^ (a literal start is checked first).
	Match string `yaml:"match"`
	// To is the target: $1..$9 are Match's captures (percent-encoded),
	// $host, $request_uri, $uri, $args, $is_args and $scheme the request's,
	// as in nginx (${host} where letters follow), e.g.
	// "https://$host$request_uri" or "/new/$1".
	To string `yaml:"to"`
	// Status is 301, 302, 303, 307 or 308.
	Status int `yaml:"status" default:"301"`
}

// Rewrite is an internal rewrite rule. A request whose path does not
// match costs no allocation.
type Rewrite struct {
	// Match is a regular expression (RE2 syntax) on the decoded path, e.g.
	// "^/_media/(.*)$"; anchor it with ^ (a literal start is checked first).
	Match string `yaml:"match"`
	// To is the local target, "/path?query": $1..$9 are Match's captures
	// (percent-encoded), $uri, $args and the others as in redirects. As in
	// nginx, a To with a query gets the request's query after it ("&..."),
	// one ending in "?" drops it, one without "?" keeps it. REQUEST_URI
	// stays what the client sent.
	To string `yaml:"to"`
}

// Location is a nginx-style location: a prefix match (the longest wins)
// or an extension match (checked first, in order), served from a root or
// by a FastCGI upstream, with its access rules and response headers.
type Location struct {
	// Prefix matches request paths that start with it ("/", "/app/").
	Prefix string `yaml:"prefix"`
	// Ext matches request paths that end with one of these extensions
	// (".php"), like nginx's location ~ \.php$. Either Prefix or Ext.
	Ext []string `yaml:"ext"`
	// Root is the document root for static files here (the vhost's Root
	// when empty).
	Root string `yaml:"root"`
	// Alias serves the location's files from this directory with the
	// prefix replaced (nginx alias): prefix /static/ and alias
	// /srv/app/static serve /static/a.css from /srv/app/static/a.css. The
	// prefix must end with /; static files only (no fastcgi).
	Alias string `yaml:"alias"`
	// FollowSymlinksOutside overrides the vhost's follow_symlinks_outside
	// for this location's root or alias.
	FollowSymlinksOutside *bool `yaml:"follow_symlinks_outside"`
	// FastCGI sends requests here to an upstream instead of serving files.
	FastCGI *FastCGI `yaml:"fastcgi"`
	// CGI runs the location's files as CGI scripts, a process per request
	// (lighttpd mod_cgi, Apache ScriptAlias): with a prefix, the first
	// path segment below it that is a file runs ("/cgi-bin/env.sh/x",
	// PATH_INFO /x); with ext, the file up to the extension ("/app.py/x").
	// `cgi: {}` takes the defaults. A missing script is 404; a script is
	// never served as a file.
	CGI *CGI `yaml:"cgi"`
	// Proxy sends requests here to an HTTP upstream (nginx proxy_pass).
	Proxy *Proxy `yaml:"proxy"`
	// Internal makes the location reachable only by an application's
	// X-Accel-Redirect: a client asking for it gets 404 (nginx internal).
	Internal bool `yaml:"internal" default:"false"`
	// Deny refuses clients by address with 403: CIDRs (10.0.0.0/8,
	// 2001:db8::/32), single addresses, or "all" (nginx deny). "all"
	// refuses internal redirects too; addresses are checked on the
	// client's own request, not on an internal redirect (the application
	// decided).
	Deny []string `yaml:"deny"`
	// Allow, when not empty, admits only clients in these CIDRs or
	// addresses (nginx allow ...; deny all;); Deny is checked first. A
	// client on a unix socket has no address and is refused.
	Allow []string `yaml:"allow"`
	// Headers changes the headers of the responses with status 2xx or 3xx
	// served here, gale's own (files, redirects) and an application's
	// (not errors), like nginx add_header.
	Headers *Headers `yaml:"headers"`
	// RequestHeaders changes the fields of the requests handed to the
	// location's application, whatever its protocol (nginx
	// proxy_set_header, fastcgi_param HTTP_*): remove drops a client's
	// field the application would trust (X-Forwarded-Proto), set replaces
	// or adds one. Framing and hop-by-hop fields cannot be changed.
	RequestHeaders *RequestHeaders `yaml:"request_headers"`
	// Expires sets Cache-Control: max-age on those responses (nginx
	// expires): 365d, 12h, 30m, 90s, or 0 (revalidate each time). Empty:
	// none.
	Expires string `yaml:"expires"`
	// Buffering is on or off for the responses of the application a
	// location hands requests to (fastcgi, proxy, cgi). on holds the start
	// of a response, up to 64 KiB for at most 5 ms, so that a small one
	// goes out whole with a Content-Length; what takes longer is sent as
	// it comes. off sends every byte as the application writes it (nginx
	// fastcgi_buffering off / proxy_buffering off), for streaming views
	// and progress output. Either way a response with X-Accel-Buffering:
	// no, or of type text/event-stream, streams.
	Buffering string `yaml:"buffering" default:"on"`
	// MaxBody bounds a request body here, above or below limits.max_body
	// (nginx client_max_body_size in a location); more gives 413. 0: the
	// global limit.
	MaxBody Size `yaml:"max_body" default:"0"`
	// Auth asks for a user and password (HTTP basic authentication).
	Auth *Auth `yaml:"auth"`
	// LimitReq limits the request rate of each client address here.
	LimitReq *LimitReq `yaml:"limit_req"`
	// ErrorPages map statuses (400-599) to pages, e.g. {404: /404.html,
	// 502: /50x.html} (nginx error_page): a page is a path of the vhost,
	// served with the error's status, as a file by its location (an
	// internal one too) or, when it is no file, by the application its
	// location routes it to (a GET of the page's path; for GET and HEAD
	// requests). It replaces gale's own errors here, and the 502, 503 and
	// 504 gale answers when the application fails (file pages only: the
	// application may be what failed); the application's own error
	// responses pass as they are. Replaces the vhost's.
	ErrorPages map[string]string `yaml:"error_pages"`
	// Compress compresses the application's responses here; replaces the
	// vhost's.
	Compress *Compress `yaml:"compress"`
	// Cache stores the application's responses here in the response
	// cache (nginx proxy_cache / fastcgi_cache), with RFC 9111 semantics:
	// `cache: {}` caches what the application's Cache-Control, Expires
	// and CDN-Cache-Control allow. For fastcgi, proxy and cgi locations.
	Cache *LocationCache `yaml:"cache"`
}

// LocationCache is a location's response cache policy. Responses with
// Set-Cookie, private or no-store are never stored; a request with
// Authorization only when the response allows it (RFC 9111 section 3.5).
type LocationCache struct {
	// TTL caches a 200, 301 or 404 whose head says nothing of its
	// freshness, without Set-Cookie, private or Authorization, this long:
	// micro-caching (1s is typical for dynamic pages). 0: only what the
	// application marks cacheable is stored.
	TTL Duration `yaml:"ttl" default:"0s"`
	// StaleWhileRevalidate serves an entry this long past its freshness
	// while one background request refreshes it, when the response does
	// not say (RFC 5861 stale-while-revalidate).
	StaleWhileRevalidate Duration `yaml:"stale_while_revalidate" default:"0s"`
	// StaleIfError serves an entry this long past its freshness when the
	// application fails (5xx, unreachable, timeout), when the response
	// does not say (RFC 5861 stale-if-error).
	StaleIfError Duration `yaml:"stale_if_error" default:"0s"`
	// BypassCookies sends requests carrying a cookie whose name starts
	// with one of these to the application uncached ("wordpress_logged_in_*");
	// "wordpress" is the WordPress preset (wordpress_logged_in_*,
	// wp-postpass_*, comment_author_*, wordpress_sec_*).
	BypassCookies []string `yaml:"bypass_cookies"`
	// TagHeader names the response header whose space- or comma-separated
	// tags an entry can be purged by (Surrogate-Key, Cache-Tag); it is
	// removed before the client. Empty: no tags.
	TagHeader string `yaml:"tag_header" default:""`
	// LockTimeout bounds how long a request waits for the fetch of the
	// same key in flight before it goes to the application itself.
	LockTimeout Duration `yaml:"lock_timeout" default:"5s"`
	// HitForMiss sends the requests for a key whose last response could
	// not be stored straight to the application, uncollapsed, this long.
	HitForMiss Duration `yaml:"hit_for_miss" default:"10s"`
	// CDNCacheControl honours CDN-Cache-Control (RFC 9213) over
	// Cache-Control.
	CDNCacheControl *bool `yaml:"cdn_cache_control" default:"true"`
}

// CGI configures a location's CGI scripts.
type CGI struct {
	// Assign maps extensions to the interpreter that runs the script, its
	// path as argument (lighttpd cgi.assign), e.g. {.py: /usr/bin/python3,
	// .php: /usr/bin/php-cgi}. A script whose extension has none is run
	// itself and must be executable (its #! line).
	Assign map[string]string `yaml:"assign"`
	// Timeout answers 504 and kills the script's process group when it
	// writes nothing for this long.
	Timeout Duration `yaml:"timeout" default:"60s"`
	// MaxScripts caps the scripts running at once (all loops); more
	// requests wait in a FIFO queue.
	MaxScripts int `yaml:"max_scripts" default:"16"`
	// Queue bounds the wait in that queue (503).
	Queue Duration `yaml:"queue" default:"10s"`
	// Env holds variables added to each script's environment after the
	// CGI ones, e.g. PATH (default /usr/local/bin:/usr/bin:/bin). Scripts
	// inherit nothing of gale's environment.
	Env map[string]string `yaml:"env"`
}

// Headers are response header rules. Names are matched without regard to
// case; Content-Length, Transfer-Encoding, Connection, Date and Server
// are gale's and cannot be changed.
type Headers struct {
	// Set replaces a header (or adds it when absent).
	Set map[string]string `yaml:"set"`
	// Add adds a header, keeping any of the same name.
	Add map[string]string `yaml:"add"`
	// Remove removes headers by name.
	Remove []string `yaml:"remove"`
}

// RequestHeaders are request header rules.
type RequestHeaders struct {
	// Set replaces a field (or adds it when absent).
	Set map[string]string `yaml:"set"`
	// Remove removes fields by name.
	Remove []string `yaml:"remove"`
}

// Proxy routes a location to an upstream of protocol http. The request
// goes as HTTP/1.1 with its target as sent and its Host, hop-by-hop fields
// removed, X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host and
// Forwarded set by gale (a client's own are replaced; a trusted proxy's
// X-Forwarded-For chain, see real_ip, is extended); the body is
// received whole first. The response is buffered, or streamed for
// text/event-stream and X-Accel-Buffering: no.
type Proxy struct {
	// Upstream names the upstream (a key of upstreams, protocol http).
	Upstream string `yaml:"upstream"`
	// Files serves the GET and HEAD requests for files that exist under
	// the location's root from there, and only the rest from the
	// application (nginx try_files $uri @app; Caddy file_server before
	// reverse_proxy).
	Files bool `yaml:"files" default:"false"`
}

// FastCGI routes a location to an upstream.
type FastCGI struct {
	// Upstream names the upstream (a key of upstreams).
	Upstream string `yaml:"upstream"`
	// Mode is front_controller or pass. front_controller is nginx's
	// try_files $uri $uri/ /index.php: an existing file is served
	// statically, *.php and unknown paths go to the application (a
	// directory runs its index.php, anything else the front controller
	// script; a *.php that is not a file below the root is 404). pass
	// sends every request (fastcgi_pass), for applications that route by
	// path themselves (WSGI under uWSGI or flup, Go, Rack), whatever the
	// protocol: SCRIPT_NAME is where the application is mounted (Mount)
	// and PATH_INFO the rest of the path, as nginx's uwsgi_params and
	// every WSGI gateway give them.
	Mode string `yaml:"mode" default:"front_controller"`
	// Mount is where a pass location's application is mounted: its
	// SCRIPT_NAME, cut from the front of PATH_INFO. Empty: the location's
	// prefix without its trailing slash (empty for /). Set it on a location
	// that covers only part of an application mounted above it: "/" for
	// a prefix /admin/ of a Django project mounted at the root.
	Mount string `yaml:"mount"`
	// Index is the front controller script.
	Index string `yaml:"index" default:"/index.php"`
	// Ext is the script extension of front_controller.
	Ext string `yaml:"ext" default:".php"`
	// RefuseDefaults makes front_controller refuse what no site should
	// serve or run: *.py, *.pyc, *.pyo, *.sqlite, *.sqlite3, *.db, *.sql,
	// *.env, *.bak, *.swp, *~, composer.json, composer.lock, and the
	// top-level directories /vendor/, /conf/, /data/ and /bin/. A refused
	// script is 404; any other refused path goes to the front controller
	// script like a path that does not exist (a WordPress page may be
	// called /data/). Dotfiles are refused anyway.
	RefuseDefaults bool `yaml:"refuse_defaults" default:"true"`
	// Refuse adds patterns to refuse: "*.ext" (a name's end), "/dir/" (a
	// directory of the root), or a file name ("wp-config-sample.php").
	Refuse []string `yaml:"refuse"`
}
