package httpcodec_test

import (
	"strings"
	"testing"

	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/internal/testenv"
)

// verdict runs the reactor's decisions on raw: parse heads, skip their
// bodies (Content-Length or chunked), repeat for pipelined requests. It
// returns the status of the first error (200 when there is none, 0 when
// the bytes end inside a request, so gale would wait for more), how many
// requests were accepted before it, and whether one of those carried the
// smuggled marker.
func verdict(raw string) (status, accepted int, smuggled bool) {
	var p httpcodec.Parser
	buf := []byte(raw)
	for len(buf) > 0 {
		var r httpcodec.Request
		n, err := p.Parse(buf, &r)
		if err == httpcodec.ErrNeedMore {
			return 0, accepted, smuggled
		}
		if err != nil {
			return httpcodec.StatusOf(err), accepted, smuggled
		}
		smuggled = smuggled || strings.Contains(string(r.RawTarget), testenv.SmuggledMarker)
		buf = buf[n:]
		switch {
		case r.Chunked:
			var d httpcodec.ChunkedDecoder
			d.Reset(&p.Limits)
			for !d.Done() {
				k, _, err := d.Decode(buf)
				if err != nil {
					return httpcodec.StatusOf(err), accepted, smuggled
				}
				if k == 0 {
					return 0, accepted, smuggled
				}
				buf = buf[k:]
			}
		case r.ContentLength > int64(len(buf)):
			return 0, accepted, smuggled
		default:
			buf = buf[r.ContentLength:]
		}
		accepted++
	}
	return 200, accepted, smuggled
}

// TestSmugglingTable: every row of the regression table gets its verdict
// from the parser and chunked decoder: the status, and for valid rows the
// number of requests that would reach the backend. Errors always mean
// close (httpcodec.Error's contract), which the reactor test checks on
// the wire.
func TestSmugglingTable(t *testing.T) {
	for _, c := range testenv.SmugglingCases {
		status, accepted, smuggled := verdict(c.Raw)
		if smuggled {
			t.Errorf("%s: a request hidden in another was accepted", c.Rule)
		}
		if status != c.Status {
			t.Errorf("%s: status %d, want %d\n%q", c.Rule, status, c.Status, c.Raw)
		}
		if status == 200 && accepted != c.Backend {
			t.Errorf("%s: %d requests accepted, want %d", c.Rule, accepted, c.Backend)
		}
	}
}
