package cgi

import (
	"strings"
	"testing"
)

// TestHopByHopNeverForwarded: the fields of one connection (RFC 9110
// section 7.6.1: Connection and the fields it lists, Keep-Alive, TE,
// Transfer-Encoding, Upgrade, Proxy-*) never become HTTP_* variables:
// gale de-chunked the body and states CONTENT_LENGTH, and a Werkzeug
// application seeing HTTP_TRANSFER_ENCODING=chunked reads an empty body.
// End-to-end fields stay, whatever their case.
func TestHopByHopNeverForwarded(t *testing.T) {
	ri := &RequestInfo{Method: []byte("POST"), ContentLength: 3, Headers: []Field{
		{Name: []byte("Host"), Value: []byte("h.test")},
		{Name: []byte("Transfer-Encoding"), Value: []byte("chunked")},
		{Name: []byte("Connection"), Value: []byte("keep-alive, X-Hop ,x-other")},
		{Name: []byte("Keep-Alive"), Value: []byte("timeout=5")},
		{Name: []byte("TE"), Value: []byte("trailers")},
		{Name: []byte("Upgrade"), Value: []byte("websocket")},
		{Name: []byte("Proxy-Authorization"), Value: []byte("Basic eDp5")},
		{Name: []byte("proxy-connection"), Value: []byte("keep-alive")},
		{Name: []byte("x-hop"), Value: []byte("listed")},
		{Name: []byte("X-Other"), Value: []byte("listed")},
		{Name: []byte("X-Hopper"), Value: []byte("kept")},
		{Name: []byte("Proxyish"), Value: []byte("kept")},
		{Name: []byte("Accept"), Value: []byte("*/*")},
	}}
	for _, f := range []Format{FastCGI, SCGI, UWSGI} {
		var http []string
		for _, kv := range decode(t, f, AppendEnv(nil, f, ri)) {
			if strings.HasPrefix(kv, "HTTP_") {
				http = append(http, kv)
			}
		}
		want := "HTTP_HOST=h.test HTTP_X_HOPPER=kept HTTP_PROXYISH=kept HTTP_ACCEPT=*/*"
		if got := strings.Join(http, " "); got != want {
			t.Errorf("format %d: %s, want %s", f, got, want)
		}
	}
}

// TestAbsoluteFormHost: the authority of an absolute-form target replaces
// the Host field (RFC 9112 section 3.2.2) in HTTP_HOST.
func TestAbsoluteFormHost(t *testing.T) {
	ri := &RequestInfo{Method: []byte("GET"), Host: []byte("real.test:8080"), Headers: []Field{
		{Name: []byte("Host"), Value: []byte("forged.test")},
		{Name: []byte("Accept"), Value: []byte("*/*")},
	}}
	got := strings.Join(decodePairs(t, AppendEnv(nil, FastCGI, ri)), "\n")
	if !strings.Contains(got, "HTTP_HOST=real.test:8080\n") || strings.Contains(got, "forged") {
		t.Errorf("got\n%s", got)
	}
}
