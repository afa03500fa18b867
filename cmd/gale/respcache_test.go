package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gale-http/gale/handlers"
)

// TestAdminPurge: POST /cache/purge answers what it purged, and refuses
// a request that does not say exactly what.
func TestAdminPurge(t *testing.T) {
	a := &admin{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cache/purge", a.purge)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	post := func(form url.Values) (int, string) {
		t.Helper()
		resp, err := http.PostForm(srv.URL+"/cache/purge", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	if code, _ := post(url.Values{"all": {"1"}}); code != 404 {
		t.Fatalf("without a cache: %d", code)
	}
	a.respCache.Store(handlers.NewRespCache(1<<20, 1<<16))
	for _, tc := range []struct {
		form url.Values
		code int
		body string
	}{
		{url.Values{"url": {"http://example.com/a"}}, 200, "purged 0"},
		{url.Values{"url": {"/relative"}}, 400, "purge: want an absolute URL"},
		{url.Values{"key": {"example.com/a"}, "soft": {"1"}}, 200, "purged 0"},
		{url.Values{"prefix": {"example.com/"}}, 200, "purged 0"},
		{url.Values{"tag": {"product-1"}}, 200, "purged 0"},
		{url.Values{"all": {"1"}}, 200, "purged all"},
		{url.Values{"all": {"yes"}}, 400, "empty prefix or tag"},
		{url.Values{}, 400, "want exactly one of"},
		{url.Values{"tag": {"a"}, "prefix": {"b"}}, 400, "want exactly one of"},
	} {
		code, body := post(tc.form)
		if code != tc.code || !strings.HasPrefix(body, tc.body) {
			t.Errorf("%v: %d %q, want %d %q", tc.form, code, body, tc.code, tc.body)
		}
	}
}
