// Command fcgihello is the Go FastCGI backend of the fcgi-go benchmark
// scenario: net/http/fcgi answering "Hello, World!" on a unix socket.
// net/http/fcgi multiplexes requests on one connection (FCGI_MPXS_CONNS).
package main

import (
	"log"
	"net/http/fcgi"

	"github.com/gale-http/gale/bench/internal/hello"
)

func main() {
	log.Fatal(fcgi.Serve(hello.Listen("fcgihello", "FastCGI"), hello.Handler))
}
