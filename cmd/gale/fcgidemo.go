package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gale-http/gale/internal/fcgidemo"
)

// runFCGIDemo is `gale fcgi-demo -listen ADDR [-http]`: the demo
// application (internal/fcgidemo) on a unix socket or a TCP address, over
// FastCGI or, with -http, over HTTP/1.1 (a backend to try -proxy with),
// until SIGTERM or SIGINT. gale starts it itself for the built-in demo site.
func runFCGIDemo(args []string) error {
	fs := flag.NewFlagSet("gale fcgi-demo", flag.ContinueOnError)
	listen := fs.String("listen", "", "where to listen: unix:/path or host:port")
	overHTTP := fs.Bool("http", false, "serve HTTP/1.1 instead of FastCGI")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("fcgi-demo: unexpected argument %q", fs.Arg(0))
	}
	if *listen == "" {
		return errors.New("fcgi-demo: -listen is required (unix:/path or host:port)")
	}
	l, err := listenAddr(*listen)
	if err != nil {
		return fmt.Errorf("fcgi-demo: %w", err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sig)
	done := make(chan error, 1)
	go func() {
		if *overHTTP {
			done <- http.Serve(l, fcgidemo.Handler())
			return
		}
		done <- fcgidemo.Serve(l)
	}()
	select {
	case err := <-done:
		l.Close()
		return fmt.Errorf("fcgi-demo: %w", err)
	case <-sig:
		// Closing the listener ends Serve; a unix listener also removes its
		// socket file. Requests in flight are cut off: the demo has no
		// state worth draining for.
		return l.Close()
	}
}

// listenAddr listens on "unix:/path" (replacing a stale socket file left
// by a process that died) or on "host:port".
func listenAddr(addr string) (net.Listener, error) {
	path, ok := strings.CutPrefix(addr, "unix:")
	if !ok {
		return net.Listen("tcp", addr)
	}
	if path == "" {
		return nil, fmt.Errorf("listen %q: empty socket path", addr)
	}
	if st, err := os.Lstat(path); err == nil {
		if st.Mode().Type() != os.ModeSocket {
			return nil, fmt.Errorf("listen %s: exists and is not a socket", path)
		}
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("listen %s: another process serves this socket", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, err
		}
	}
	return net.Listen("unix", path)
}
