package handlers

import (
	"testing"

	"github.com/gale-http/gale/httpcodec"
)

// named answers 200 with its name as the body.
type named string

func (n named) Serve(ctx *Ctx, req *httpcodec.Request, resp *Response) {
	resp.Status = 200
	resp.Head = []byte("HTTP/1.1 200 OK\r\n")
	resp.AddBody([]byte(n))
}

func TestRouterLongestPrefix(t *testing.T) {
	var rt Router
	rt.Handle("/static/", named("static"))
	rt.Handle("/", named("root"))
	rt.Handle("/static/img/", named("img"))
	rt.Handle("/api", named("old"))
	rt.Handle("/api", named("api")) // replaces
	for path, want := range map[string]string{
		"/": "root", "/x": "root", "/static": "root", "/static/": "static", "/static/a.css": "static",
		"/static/img/a.png": "img", "/api": "api", "/api/v1": "api", "/apix": "api",
	} {
		if r := serve(t, &rt, "GET", path); r.body != want {
			t.Errorf("%s: %q, want %q", path, r.body, want)
		}
	}
}

func TestRouterNoMatch(t *testing.T) {
	var rt Router
	rt.Handle("/only/", named("only"))
	r := serve(t, &rt, "GET", "/other")
	if r.resp.Status != 404 || r.body != "404 Not Found\n" {
		t.Fatalf("%d %q", r.resp.Status, r.body)
	}
}

func TestRouterExtensionFirst(t *testing.T) {
	var rt Router
	rt.Handle("/", named("root"))
	rt.Handle("/static/", named("static"))
	rt.HandleExt(".php", named("php"))
	rt.HandleExt(".cgi", named("cgi"))
	for path, want := range map[string]string{
		"/index.php": "php", "/static/x.php": "php", "/index.php/a/b": "php", "/a.cgi": "cgi",
		"/x.phpx": "root", "/php": "root", "/static/a.css": "static", "/a.php.txt": "root",
	} {
		if r := serve(t, &rt, "GET", path); r.body != want {
			t.Errorf("%s: %q, want %q", path, r.body, want)
		}
	}
}
