package reactor

import (
	"log/slog"
	"net/netip"
	"runtime"
	"time"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/httpcodec"
)

// Config is everything the reactor needs to serve. Zero fields take the
// defaults documented on each.
type Config struct {
	// Addr is the listen address, host:port (":8080").
	Addr string
	// ReusePort lets Serve join sockets already listening on Addr with
	// SO_REUSEPORT (another gale, during a restart) and share its
	// connections with them; without it Serve fails with EADDRINUSE when
	// anything listens on Addr.
	ReusePort bool
	// Loops is the number of event loops (default: the number of CPUs).
	Loops int
	// Handler answers every parsed request.
	Handler handlers.Handler
	// Limits bound what a client may send (default httpcodec.DefaultLimits).
	Limits *httpcodec.Limits
	// IdleTimeout closes a kept-alive connection with no request (default 60 s).
	IdleTimeout time.Duration
	// HeaderTimeout bounds first byte to end of headers; 408 then close (default 10 s).
	HeaderTimeout time.Duration
	// BodyTimeout bounds the gap between two reads of a request body (default 30 s).
	BodyTimeout time.Duration
	// SendTimeout closes a connection whose client reads nothing for this long (default 60 s).
	SendTimeout time.Duration
	// MaxRequestsPerConn closes a connection after this many requests (default 10000).
	MaxRequestsPerConn int
	// MaxConns bounds the open client connections, all loops together;
	// beyond it a new connection is answered 503 with Retry-After and
	// closed (0: no limit).
	MaxConns int
	// HighWater is the number of unsent response bytes above which gale
	// stops handing the socket layer more and streams from the cache or the
	// file itself as the client reads (default 256 KiB).
	HighWater int
	// UpstreamBufferMemory bounds the FastCGI response bytes held in memory,
	// across all connections, for clients slower than their backend; beyond
	// it responses spill to temporary files at once (default 32 MiB, shared
	// evenly by the loops).
	UpstreamBufferMemory int
	// Tick is the timer wheel's resolution (default 50 ms). Idle keep-alive
	// connections are also parked at the tick after they go idle (park.go),
	// so a shorter tick leaves fewer of them holding a full conn.
	Tick time.Duration
	// Logger receives the error log (default slog.Default()).
	Logger *slog.Logger
	// AccessLog, when set, receives one line per request (see AccessFormat).
	AccessLog *AccessLog
	// ProxyProtocol requires a PROXY protocol header (v1 or v2) at the
	// start of every connection and takes the client's address from it
	// (proxyproto.go). Off, such a header is an ordinary bad request.
	ProxyProtocol bool
	// TrustedProxies are the peers whose RealIPHeader names the client
	// (realip.go); empty: nobody's is believed.
	TrustedProxies []netip.Prefix
	// RealIPHeader is the forwarding header trusted proxies set
	// (default X-Forwarded-For).
	RealIPHeader string
	// LimitConn, when set, caps the connections of each client address.
	LimitConn *ConnLimit
}

func (c *Config) setDefaults() {
	if c.Addr == "" {
		c.Addr = ":8080"
	}
	if c.Loops <= 0 {
		c.Loops = runtime.NumCPU()
	}
	if c.Limits == nil {
		l := httpcodec.DefaultLimits()
		c.Limits = &l
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.IdleTimeout, 60*time.Second)
	def(&c.HeaderTimeout, 10*time.Second)
	def(&c.BodyTimeout, 30*time.Second)
	def(&c.SendTimeout, 60*time.Second)
	def(&c.Tick, 50*time.Millisecond)
	if c.MaxRequestsPerConn <= 0 {
		c.MaxRequestsPerConn = 10000
	}
	if c.UpstreamBufferMemory <= 0 {
		c.UpstreamBufferMemory = 32 << 20
	}
	if c.HighWater <= 0 {
		c.HighWater = 256 << 10
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.RealIPHeader == "" {
		c.RealIPHeader = "X-Forwarded-For"
	}
}
