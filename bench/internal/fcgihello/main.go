// Command fcgihello is the Go FastCGI backend of the fcgi-go benchmark
// scenario: net/http/fcgi answering "Hello, World!" on a unix socket.
// net/http/fcgi multiplexes requests on one connection (FCGI_MPXS_CONNS).
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"net/http/fcgi"
	"os"
)

func main() {
	listen := flag.String("listen", "", "unix socket path to serve FastCGI on")
	flag.Parse()
	if *listen == "" {
		log.Fatal("fcgihello: -listen is required")
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
	log.Fatal(fcgi.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		_, _ = w.Write(hello)
	})))
}
