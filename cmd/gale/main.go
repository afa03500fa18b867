// Command gale is an event-driven HTTP/1.1 server for static files and
// FastCGI applications.
//
//	gale                                  serve the built-in demo on :8080
//	gale -listen 127.0.0.1:8081 -root DIR serve DIR
//	gale fcgi-demo -listen unix:/path     run the demo FastCGI application
//
// The built-in demo serves its pages from memory and /app/ from the demo
// FastCGI application, which gale runs as a supervised child process.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/reactor"
	"github.com/gale-http/gale/upstream"
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gale:", err)
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
	fcgiMaxConns    int
	cpuProfile      string
	maxConns        int
	maxRequests     int
}

func parseFlags(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("gale", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen", ":8080", "listen address, host:port")
	fs.StringVar(&o.root, "root", "", "directory to serve (default: the built-in demo site)")
	fs.IntVar(&o.loops, "loops", runtime.NumCPU(), "number of event loops")
	fs.StringVar(&o.logLevel, "log-level", "info", "error log level: debug, info, warn, error")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM/SIGINT, how long in-flight requests may take")
	fs.BoolVar(&o.dirListing, "dir-listing", false, "list directories that have no index.html")
	fs.StringVar(&o.fastcgi, "fastcgi", "", "FastCGI backends (host:port or unix:/path, comma-separated): *.php and unknown paths go there, existing files are served")
	fs.IntVar(&o.fcgiMaxConns, "fastcgi-max-conns", 0, "connections per FastCGI backend (default: what the backend reports, else 4 per loop)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile to this file until exit")
	fs.IntVar(&o.maxConns, "max-conns", 0, "client connections at most; beyond, new ones get 503 with Retry-After (0: no limit)")
	fs.IntVar(&o.maxRequests, "max-requests", 10000, "requests per keep-alive connection; the last response says Connection: close")
	fs.BoolVar(&o.showVersion, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, nil
}

func run(args []string) error {
	if len(args) > 0 && args[0] == "fcgi-demo" {
		return runFCGIDemo(args[1:])
	}
	o, err := parseFlags(args)
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
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
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
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(log)

	root := o.root
	if root == "" {
		dir, err := extractDemo()
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		root = dir
	} else if st, err := os.Stat(root); err != nil {
		return fmt.Errorf("-root: %w", err)
	} else if !st.IsDir() {
		return fmt.Errorf("-root %s: not a directory", root)
	}

	scfg := handlers.DefaultStaticConfig(root)
	scfg.DirListing = o.dirListing
	static, err := handlers.NewStatic(scfg)
	if err != nil {
		return err
	}
	defer static.Close()
	router := &handlers.Router{}
	router.Handle("/", static)
	if o.root == "" && o.fastcgi == "" {
		app, err := startDemoApp(log, o.loops)
		if err != nil {
			return err
		}
		defer app.Stop()
		router.Handle("/app/", &appHandler{u: app.Upstream, root: root})
	}
	if o.fastcgi != "" {
		backends, err := upstream.ParseAddrs(o.fastcgi)
		if err != nil {
			return fmt.Errorf("-fastcgi: %w", err)
		}
		abs, err := filepath.Abs(root)
		if err != nil {
			return err
		}
		u := &upstream.Upstream{Name: "fastcgi", Backends: backends, MaxConns: o.fcgiMaxConns}
		u.Init(o.loops)
		router.Handle("/", handlers.NewFrontController(static, u, abs))
	}

	srv, err := reactor.New(reactor.Config{Addr: o.listen, Loops: o.loops, Handler: router, Logger: log,
		MaxConns: o.maxConns, MaxRequestsPerConn: o.maxRequests})
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve() }()
	select {
	case err := <-done:
		return fmt.Errorf("listen %s: %w", o.listen, err)
	case <-srv.Ready():
	}
	what := root
	if o.root == "" {
		what = "the built-in demo site"
	}
	fmt.Printf("gale: serving %s on %s (%d loops)\n", what, serveURL(srv.Addr(), o.listen), o.loops)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case err := <-done:
		return err
	case s := <-sig:
		log.Info("draining", "signal", s.String(), "deadline", o.shutdownTimeout)
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.shutdownTimeout)
	defer cancel()
	serr := srv.Shutdown(ctx)
	if err := <-done; err != nil {
		return err
	}
	if serr != nil {
		log.Warn("shutdown cut requests off", "err", serr)
	}
	return nil
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
