package httpcodec

import (
	"fmt"
	"testing"
)

// summary renders what Parse produced, so table cases can state the exact
// expected outcome in one string.
func summary(n int, err error, r *Request) string {
	if err != nil {
		return "error: " + err.Error()
	}
	s := fmt.Sprintf("n=%d %s %s", n, r.MethodName, r.Path)
	if r.Query != nil {
		s += "?" + string(r.Query)
	}
	s += fmt.Sprintf(" host=%s 1.%d cl=%d", r.Host, r.Minor, r.ContentLength)
	if r.Chunked {
		s += " chunked"
	}
	if r.KeepAlive {
		s += " keep"
	}
	if r.Expect100 {
		s += " expect100"
	}
	if r.Form != FormOrigin {
		s += fmt.Sprintf(" form=%d", r.Form)
	}
	return s + fmt.Sprintf(" hdrs=%d", len(r.Headers))
}

// parseAll parses in whole, then every prefix of it, each from the start as
// the reactor does when bytes trickle in. Every prefix must give ErrNeedMore
// or exactly the whole result; a successful result can only appear once its
// n bytes are there.
func parseAll(t *testing.T, p *Parser, in string) string {
	t.Helper()
	var r Request
	n, err := p.Parse([]byte(in), &r)
	whole := summary(n, err, &r)
	if err == ErrNeedMore {
		whole = "need more"
	}
	for l := 0; l < len(in); l++ {
		// A fresh copy of exactly l bytes, so no scan can peek past it.
		buf := append([]byte(nil), in[:l]...)
		var pr Request
		pn, perr := p.Parse(buf, &pr)
		if perr == ErrNeedMore {
			if err == nil && l >= n {
				t.Errorf("prefix %d: need more, but the whole request is %d bytes", l, n)
			}
			continue
		}
		if got := summary(pn, perr, &pr); got != whole {
			t.Errorf("prefix %d of %q: %s, whole: %s", l, in, got, whole)
		}
		if perr == nil && l < n {
			t.Errorf("prefix %d parsed before the head's %d bytes arrived", l, n)
		}
	}
	return whole
}
