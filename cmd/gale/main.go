// Command gale is an event-driven HTTP/1.1 server for static files and
// FastCGI applications.
//
//	gale                                  serve the built-in demo on :8080
//	gale -listen 127.0.0.1:8081 -root DIR serve DIR
//	gale -config gale.yaml                serve what the file says (SIGHUP reloads it)
//	gale -t -config gale.yaml             check the file, print FILE:LINE:COL errors
//	gale fcgi-demo -listen unix:/path     run the demo FastCGI application
//	gale healthcheck [-url URL]           exit 0 if the admin /healthz answers 200
//	gale wsgi [-reload] mysite.wsgi:app   run a Python WSGI application and its static files
//
// The built-in demo serves its pages from memory and /app/ from the demo
// FastCGI application, which gale runs as a supervised child process.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/gale-http/gale/internal/config"
	"github.com/gale-http/gale/upstream/cgi"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := run(os.Args[1:]); err != nil {
		if err != errExit {
			fmt.Fprintln(os.Stderr, "gale:", err)
		}
		os.Exit(1)
	}
}

type options struct {
	listen          string
	root            string
	loops           int
	logLevel        string
	shutdownTimeout time.Duration
	dirListing      bool
	showVersion     bool
	fastcgi         string
	proxy           string
	fcgiMaxConns    int
	cpuProfile      string
	config          string
	test            bool
	logFormat       string
	accessLog       string
	accessFormat    string
	admin           string
	maxConns        int
	maxRequests     int
	reusePort       bool
}

// parseFlags parses args; set holds the names of the flags given.
func parseFlags(args []string) (o *options, set map[string]bool, err error) {
	o = &options{}
	fs := flag.NewFlagSet("gale", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen", ":8080", "listen address, host:port")
	fs.BoolVar(&o.reusePort, "reuseport", false, "join a gale already listening on the address (SO_REUSEPORT), for a graceful restart; without it a busy address is an error")
	fs.StringVar(&o.root, "root", "", "directory to serve (default: the built-in demo site)")
	fs.IntVar(&o.loops, "loops", runtime.NumCPU(), "number of event loops")
	fs.StringVar(&o.logLevel, "log-level", "info", "error log level: debug, info, warn, error")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM/SIGINT, how long in-flight requests may take")
	fs.BoolVar(&o.dirListing, "dir-listing", false, "list directories that have no index.html")
	fs.StringVar(&o.fastcgi, "fastcgi", "", "FastCGI backends (host:port or unix:/path, comma-separated): *.php and unknown paths go there, existing files are served")
	fs.StringVar(&o.proxy, "proxy", "", "HTTP backends (host:port or unix:/path, comma-separated: gunicorn, uvicorn, any HTTP/1.1 server): everything goes there, files under -root first when it is given")
	fs.IntVar(&o.fcgiMaxConns, "fastcgi-max-conns", 0, "connections per backend, FastCGI or HTTP (default: what a FastCGI backend reports, else 4 per loop; 64 for HTTP, uwsgi and SCGI)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile to this file until exit")
	fs.IntVar(&o.maxConns, "max-conns", 0, "client connections at most; beyond, new ones get 503 with Retry-After (0: no limit)")
	fs.IntVar(&o.maxRequests, "max-requests", 10000, "requests per keep-alive connection; the last response says Connection: close")
	fs.BoolVar(&o.showVersion, "version", false, "print the version and exit")
	fs.StringVar(&o.config, "config", "", "YAML configuration file (flags given as well override it; SIGHUP reloads it)")
	fs.BoolVar(&o.test, "t", false, "check the configuration, print each error as FILE:LINE:COL: message, and exit")
	fs.StringVar(&o.logFormat, "log-format", "text", "error log format: text or json")
	fs.StringVar(&o.accessLog, "access-log", "", "access log: a file, \"-\" or \"stdout\" (default: none); SIGUSR1 reopens it")
	fs.StringVar(&o.accessFormat, "access-log-format", "combined", "access log format: combined or json")
	fs.StringVar(&o.admin, "admin", "", "admin listener for /metrics, /healthz, /readyz, host:port (default $GALE_ADMIN; none when empty)")
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if fs.NArg() > 0 {
		return nil, nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return o, set, nil
}

func run(args []string) error {
	if len(args) > 0 && args[0] == "fcgi-demo" {
		return runFCGIDemo(args[1:])
	}
	if len(args) > 0 && args[0] == "wsgi" {
		return runWSGI(args[1:])
	}
	if len(args) > 0 && args[0] == "healthcheck" {
		return runHealthcheck(args[1:])
	}
	o, set, err := parseFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if o.showVersion {
		fmt.Println("gale", version)
		return nil
	}
	cgi.ServerSoftware = "gale/" + version + " (nginx-compatible)"
	st := &state{o: o, set: set}
	defer st.cleanup()
	cfg, err := st.loadConfig()
	if o.test {
		return printTestResult(o.config, err)
	}
	if err != nil {
		var errs config.Errors
		if errors.As(err, &errs) && len(errs) > 1 {
			fmt.Fprintln(os.Stderr, err)
			return errExit
		}
		return err
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	return st.serve(cfg)
}

// serveURL is the URL a person can paste into a browser.
func serveURL(a *net.TCPAddr, listen string) string {
	host, port, _ := net.SplitHostPort(listen)
	if a != nil {
		port = fmt.Sprint(a.Port)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}
