// Package hello holds what the Go backends of the benchmark scenarios
// share: their unix socket and their "Hello, World!" handler.
package hello

import (
	"flag"
	"log"
	"net"
	"net/http"
	"os"
)

// Listen parses the -listen flag (the usage names proto, what the
// command serves) and listens on that unix socket, world-writable so that
// a server that dropped privileges can connect; it exits on failure.
func Listen(cmd, proto string) net.Listener {
	listen := flag.String("listen", "", "unix socket path to serve "+proto+" on")
	flag.Parse()
	if *listen == "" {
		log.Fatal(cmd + ": -listen is required")
	}
	_ = os.Remove(*listen) // a stale socket from a killed run
	l, err := net.Listen("unix", *listen)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.Chmod(*listen, 0o666); err != nil {
		log.Fatal(err)
	}
	return l
}

var body = []byte("Hello, World!")

// Handler answers every request with "Hello, World!" as text/html.
var Handler http.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	_, _ = w.Write(body)
})
