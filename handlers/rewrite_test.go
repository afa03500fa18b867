package handlers

import (
	"strings"
	"testing"

	"github.com/gale-http/gale/httpcodec"
	"github.com/gale-http/gale/upstream"
)

// seenReq records the path and query a handler behind the rewrites got,
// and routes the request upstream when up is set.
type seenReq struct {
	path, query string
	up          *upstream.Upstream
}

func (s *seenReq) Serve(_ *Ctx, req *httpcodec.Request, resp *Response) {
	s.path, s.query = string(req.Path), string(req.Query)
	if req.Query == nil {
		s.query = "<nil>"
	}
	if s.up != nil {
		resp.RouteUpstream(s.up, "/srv", req.Path, nil)
		return
	}
	resp.Status = 204
}

func TestRewrites(t *testing.T) {
	next := &seenReq{}
	rd := &Redirects{Next: next}
	must(t, rd.Add("^/old/(.*)$", "/new/$1", 301))
	must(t, rd.AddRewrite("^/_media/(.*)$", "/lib/exe/fetch.php?media=$1"))
	must(t, rd.AddRewrite("^/_detail/(.*)$", "/lib/exe/detail.php?media=$1?"))
	must(t, rd.AddRewrite("^/keep/(.*)$", "/kept/$1"))
	must(t, rd.AddRewrite("^/empty$", "/e?"))
	must(t, rd.AddRewrite("^/dots(.*)$", "/d/$1"))
	must(t, rd.AddRewrite("^/up(.*)$", "/$1"))
	must(t, rd.AddRewrite("^/old/x$", "/never")) // after a redirect that matches first
	for _, tc := range []struct {
		target      string
		status      int
		path, query string
	}{
		{"/_media/wiki:logo.png", 204, "/lib/exe/fetch.php", "media=wiki:logo.png"},
		// The request's query follows the target's; a capture is encoded.
		{"/_media/a%20b%26c?w=10", 204, "/lib/exe/fetch.php", "media=a%20b%26c&w=10"},
		{"/_detail/x?w=10", 204, "/lib/exe/detail.php", "media=x"},
		{"/keep/a/b?q=1", 204, "/kept/a/b", "q=1"},
		{"/empty?q=1", 204, "/e", "<nil>"},
		// Captured dots are normalized: /d/../x is /x; above the root, 400.
		{"/dots../x", 204, "/x", "<nil>"},
		{"/up..", 400, "", ""},
		{"/old/x", 301, "", ""},
		{"/other?z", 204, "/other", "z"},
	} {
		*next = seenReq{}
		r := serveReq(t, rd, parseReq(t, "GET", tc.target))
		if tc.status == 400 && !strings.HasPrefix(r.head, "HTTP/1.1 400 ") {
			t.Errorf("%s: a 400 without its head: %q", tc.target, r.head)
		}
		if r.resp.Status != tc.status || next.path != tc.path || next.query != tc.query {
			t.Errorf("%s: %d path %q query %q, want %d %q %q", tc.target, r.resp.Status, next.path, next.query, tc.status, tc.path, tc.query)
		}
	}

	// Routed upstream, the route carries the rewritten path, query and
	// target: a request whose head is encoded later gets them too.
	next.up = &upstream.Upstream{Name: "app"}
	r := serveReq(t, rd, parseReq(t, "GET", "/_media/a%20b?w=1"))
	u := r.resp.Upstream
	if u == nil || !u.Rewritten || string(u.Path) != "/lib/exe/fetch.php" || string(u.Query) != "media=a%20b&w=1" || string(u.Target) != "/lib/exe/fetch.php?media=a%20b&w=1" {
		t.Fatalf("route %+v", u)
	}
	if r := serveReq(t, rd, parseReq(t, "GET", "/plain")); r.resp.Upstream == nil || r.resp.Upstream.Rewritten {
		t.Fatalf("a request no rule matched has a rewritten route: %+v", r.resp.Upstream)
	}

	for _, bad := range [][2]string{{"^/(", "/x"}, {"^/", "x"}, {"^/", "http://h/x"}, {"^/", "$host/x"}, {"^/(a)", "/$2"}} {
		if err := CheckRewrite(bad[0], bad[1]); err == nil {
			t.Errorf("CheckRewrite(%q, %q) accepted", bad[0], bad[1])
		}
	}
}
