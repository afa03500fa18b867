package fcgidemo

import (
	"bytes"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

func TestPage(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/app/form?x=<1>", strings.NewReader("message=hi+there"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Foo", "<b>")
	Handler().ServeHTTP(w, r)
	body := w.Body.String()
	for _, want := range []string{"<td>POST</td>", "<td>/app/form</td>", "<td>x=&lt;1&gt;</td>",
		"<th>X-Foo</th><td>&lt;b&gt;</td>", "<td>message=hi&#43;there</td>", `<form method="post" action="/app/form">`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
}

func TestEchoAndSleep(t *testing.T) {
	w := httptest.NewRecorder()
	Handler().ServeHTTP(w, httptest.NewRequest("POST", "/app/echo", strings.NewReader("abc")))
	if got := w.Body.String(); got != "abcsha256=ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n" {
		t.Errorf("echo %q", got)
	}
	w = httptest.NewRecorder()
	Handler().ServeHTTP(w, httptest.NewRequest("GET", "/app/sleep?ms=-1", nil))
	if w.Code != 400 {
		t.Errorf("negative sleep: %d", w.Code)
	}
	w = httptest.NewRecorder()
	Handler().ServeHTTP(w, httptest.NewRequest("GET", "/app/sleep?ms=0", nil))
	if w.Code != 200 || w.Body.String() != "slept 0 ms\n" {
		t.Errorf("sleep: %d %q", w.Code, w.Body.String())
	}
}

func TestBytes(t *testing.T) {
	want := make([]byte, prefixLen+100000)
	io.ReadFull(Bytes(), want)
	for _, n := range []int{200000, prefixLen + 100000} { // from the cache, and beyond it
		w := httptest.NewRecorder()
		Handler().ServeHTTP(w, httptest.NewRequest("GET", "/app/bytes?n="+strconv.Itoa(n), nil))
		if w.Code != 200 || w.Header().Get("Content-Length") != strconv.Itoa(n) || !bytes.Equal(w.Body.Bytes(), want[:n]) {
			t.Fatalf("n=%d: %d, length %q, %d bytes, equal %v", n, w.Code, w.Header().Get("Content-Length"), w.Body.Len(), bytes.Equal(w.Body.Bytes(), want[:n]))
		}
	}
	var w *httptest.ResponseRecorder
	for _, bad := range []string{"-1", "x", "1073741825"} {
		w = httptest.NewRecorder()
		Handler().ServeHTTP(w, httptest.NewRequest("GET", "/app/bytes?n="+bad, nil))
		if w.Code != 400 {
			t.Errorf("n=%s: %d", bad, w.Code)
		}
	}
}
