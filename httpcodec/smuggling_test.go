package httpcodec_test

import (
	"strings"
	"testing"

	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/internal/testenv"
)

// verdict runs the reactor's decisions on raw: parse heads, skip their
// bodies (Content-Length or chunked), repeat for pipelined requests. It
// returns the status of the first error (200 when there is none), how many
// requests were accepted before it, and, for an accepted request, whether
// It fails the test if a request carrying the smuggled marker is accepted.
func verdict(t *testing.T, raw string) (status, accepted int) {
	t.Helper()
	var p httpcodec.Parser
	buf := []byte(raw)
	for len(buf) > 0 {
		var r httpcodec.Request
		n, err := p.Parse(buf, &r)
		if err != nil {
			if err == httpcodec.ErrNeedMore {
				t.Fatalf("incomplete head %q", buf)
			}
			return httpcodec.StatusOf(err), accepted
		}
		if strings.Contains(string(r.RawTarget), testenv.SmuggledMarker) {
			t.Fatalf("accepted a smuggled request: %q", buf[:n])
		}
		buf = buf[n:]
		switch {
		case r.Chunked:
			var d httpcodec.ChunkedDecoder
			d.Reset(&p.Limits)
			for !d.Done() {
				k, _, err := d.Decode(buf)
				if err != nil {
					return httpcodec.StatusOf(err), accepted
				}
				if k == 0 {
					t.Fatalf("incomplete chunked body %q", buf)
				}
				buf = buf[k:]
			}
		case r.ContentLength > 0:
			if int64(len(buf)) < r.ContentLength {
				t.Fatalf("incomplete body: %d of %d", len(buf), r.ContentLength)
			}
			buf = buf[r.ContentLength:]
		}
		accepted++
	}
	return 200, accepted
}

// TestSmugglingTable: every row of the regression table gets its verdict
// from the parser and chunked decoder: the status, and for valid rows the
// number of requests that would reach the backend. Errors always mean
// close (httpcodec.Error's contract), which the reactor test checks on
// the wire.
func TestSmugglingTable(t *testing.T) {
	for _, c := range testenv.SmugglingCases {
		status, accepted := verdict(t, c.Raw)
		if status != c.Status {
			t.Errorf("%s: status %d, want %d\n%q", c.Rule, status, c.Status, c.Raw)
		}
		if status == 200 && accepted != c.Backend {
			t.Errorf("%s: %d requests accepted, want %d", c.Rule, accepted, c.Backend)
		}
	}
}
