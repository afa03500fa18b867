// Package fcgidemo is a small FastCGI application for trying gale and for
// the upstream tests: it runs on Go's net/http/fcgi, which multiplexes
// requests on one connection (FCGI_MPXS_CONNS=1), unlike php-fpm.
//
//	/app/          an HTML page showing the request, with a form posting back
//	/app/echo      the request body, then a line with its SHA-256
//	/app/sleep?ms= waits ms milliseconds (at most 10 s), then says so
//	/app/bytes?n=  n deterministic pseudo-random bytes (at most 1 GiB), see Bytes
package fcgidemo

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/http/fcgi"
	"sort"
	"strconv"
	"time"
)

// Serve serves the demo application on l until l is closed.
func Serve(l net.Listener) error {
	return fcgi.Serve(l, Handler())
}

// Handler returns the demo application as an http.Handler.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/app/echo", echo)
	mux.HandleFunc("/app/sleep", sleep)
	mux.HandleFunc("/app/bytes", bytesHandler)
	mux.HandleFunc("/app/", page)
	return mux
}

// echo writes the body back followed by "sha256=<hex>\n".
func echo(w http.ResponseWriter, r *http.Request) {
	h := sha256.New()
	w.Header().Set("Content-Type", "application/octet-stream")
	if _, err := io.Copy(w, io.TeeReader(r.Body, h)); err != nil {
		return
	}
	fmt.Fprintf(w, "sha256=%s\n", hex.EncodeToString(h.Sum(nil)))
}

// maxSleep bounds /app/sleep so a typo cannot pin a handler for long.
const maxSleep = 10 * time.Second

// sleep waits ms milliseconds; it exists to exercise multiplexing and
// upstream timeouts.
func sleep(w http.ResponseWriter, r *http.Request) {
	ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
	if err != nil || ms < 0 {
		http.Error(w, "ms must be a non-negative integer", http.StatusBadRequest)
		return
	}
	d := min(time.Duration(ms)*time.Millisecond, maxSleep)
	select {
	case <-time.After(d):
	case <-r.Context().Done():
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "slept %d ms\n", d.Milliseconds())
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>gale FastCGI demo</title></head>
<body>
<h1>gale FastCGI demo</h1>
<table>
<tr><th>Method</th><td>{{.Method}}</td></tr>
<tr><th>Path</th><td>{{.Path}}</td></tr>
<tr><th>Query</th><td>{{.Query}}</td></tr>
{{range .Headers}}<tr><th>{{index . 0}}</th><td>{{index . 1}}</td></tr>
{{end}}{{if .Form}}<tr><th>Posted</th><td>{{.Form}}</td></tr>
{{end}}</table>
<form method="post" action="{{.Path}}">
<input name="message" value="hello"> <button>POST</button>
</form>
</body></html>
`))

// page renders the request back as HTML.
func page(w http.ResponseWriter, r *http.Request) {
	var form string
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		form = r.PostForm.Encode()
	}
	var hs [][2]string
	for name, vs := range r.Header {
		for _, v := range vs {
			hs = append(hs, [2]string{name, v})
		}
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i][0] < hs[j][0] })
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	pageTmpl.Execute(w, struct {
		Method, Path, Query, Form string
		Headers                   [][2]string
	}{r.Method, r.URL.Path, r.URL.RawQuery, form, hs})
}
