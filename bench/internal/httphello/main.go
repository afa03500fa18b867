// Command httphello is the HTTP backend of the proxy-go benchmark scenario:
// net/http answering "Hello, World!" over HTTP/1.1 with keep-alive (net/http's
// default) on a unix socket, as the FastCGI helper fcgihello does over FastCGI.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	listen := flag.String("listen", "", "unix socket path to serve HTTP/1.1 on")
	flag.Parse()
	if *listen == "" {
		log.Fatal("httphello: -listen is required")
	}
	_ = os.Remove(*listen) // a stale socket from a killed run
	l, err := net.Listen("unix", *listen)
	if err != nil {
		log.Fatal(err)
	}
	// World-writable so a server that dropped privileges can connect.
	if err := os.Chmod(*listen, 0o666); err != nil {
		log.Fatal(err)
	}
	hello := []byte("Hello, World!")
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=UTF-8")
			_, _ = w.Write(hello)
		}),
		// Longer than any proxy's idle keep-alive to it here, so the
		// backend never closes a connection a proxy is about to reuse.
		IdleTimeout:       5 * time.Minute,
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Fatal(srv.Serve(l))
}
