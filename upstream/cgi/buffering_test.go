package cgi

import "testing"

// TestNoBufferingSSE: a text/event-stream response streams (Server-Sent
// Events are useless held back) as one with X-Accel-Buffering: no does,
// unless X-Accel-Buffering: yes says otherwise, as for HTTP upstreams.
func TestNoBufferingSSE(t *testing.T) {
	for head, want := range map[string]bool{
		"Content-Type: text/html\r\n\r\n":                                   false,
		"Content-Type: text/event-stream\r\n\r\n":                           true,
		"Content-type: TEXT/EVENT-STREAM; charset=utf-8\r\n\r\n":            true,
		"Content-Type: text/event-streamx\r\n\r\n":                          false,
		"Content-Type: text/event-stream\r\nX-Accel-Buffering: yes\r\n\r\n": false,
		"X-Accel-Buffering: no\r\nContent-Type: text/html\r\n\r\n":          true,
	} {
		var p ResponseParser
		if _, err := p.Feed([]byte(head)); err != nil {
			t.Fatalf("%q: %v", head, err)
		}
		if got := p.NoBuffering(); got != want {
			t.Errorf("%q: NoBuffering %v, want %v", head, got, want)
		}
	}
}
