// Command httphello is the HTTP backend of the proxy-go benchmark scenario:
// net/http answering "Hello, World!" over HTTP/1.1 with keep-alive (net/http's
// default) on a unix socket, as the FastCGI helper fcgihello does over FastCGI.
package main

import (
	"log"
	"net/http"
	"time"

	"github.com/gale-http/gale/bench/internal/hello"
)

func main() {
	l := hello.Listen("httphello", "HTTP/1.1")
	srv := &http.Server{
		Handler: hello.Handler,
		// Longer than any proxy's idle keep-alive to it here, so the
		// backend never closes a connection a proxy is about to reuse.
		IdleTimeout:       5 * time.Minute,
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Fatal(srv.Serve(l))
}
