package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWSGIConformance runs a bare WSGI application that reports what the
// worker gave it (PEP 3333) and asserts it here.
func TestWSGIConformance(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	writeFile(t, dir, "conform.py", conformApp)
	p := startWSGI(t, dir, "-workers", "1", "conform")
	c := &http.Client{Timeout: 10 * time.Second}

	t.Run("environ", func(t *testing.T) {
		body := "first line\nthe rest" + "IGNORED"
		req, _ := http.NewRequest("POST", p.url("/environ/caf%C3%A9?q=1&r=%C3%A9"), strings.NewReader(body))
		req.Header.Set("X-Test", "t")
		req.Header.Set("Content-Type", "text/plain")
		// wsgi.input ends at CONTENT_LENGTH whatever the spool holds: a
		// raw request sends more bytes than it declares.
		req.ContentLength = int64(len(body) - len("IGNORED"))
		req.Body = io.NopCloser(strings.NewReader(body[:req.ContentLength]))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got struct {
			NotStr   []string          `json:"not_str"`
			KeyTypes []string          `json:"key_types"`
			Path     []int             `json:"path_codepoints"`
			CGI      map[string]string `json:"cgi"`
			WSGI     map[string]any    `json:"wsgi"`
			Input    map[string]any    `json:"input"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatal(err)
		}
		if len(got.NotStr) != 0 || !reflect.DeepEqual(got.KeyTypes, []string{"str"}) {
			t.Errorf("environ: non-str CGI values %v, key types %v; want native strings only", got.NotStr, got.KeyTypes)
		}
		// PATH_INFO is the decoded path's bytes as latin-1: é (C3 A9) is
		// two code points, not one.
		var want []int
		for _, b := range []byte("/environ/café") {
			want = append(want, int(b))
		}
		if !reflect.DeepEqual(got.Path, want) {
			t.Errorf("PATH_INFO code points %v, want %v (latin-1 of the UTF-8 bytes)", got.Path, want)
		}
		wantCGI := map[string]string{"REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "QUERY_STRING": "q=1&r=%C3%A9",
			"SERVER_NAME": "127.0.0.1", "SERVER_PORT": p.addr[strings.LastIndex(p.addr, ":")+1:], "SERVER_PROTOCOL": "HTTP/1.1",
			"CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": "19", "HTTP_X_TEST": "t"}
		if !reflect.DeepEqual(got.CGI, wantCGI) {
			t.Errorf("CGI variables\n got %v\nwant %v", got.CGI, wantCGI)
		}
		wantWSGI := map[string]any{"version": []any{1.0, 0.0}, "url_scheme": "http", "multithread": false, "multiprocess": true,
			"run_once": false, "input_terminated": true, "file_wrapper": true}
		if !reflect.DeepEqual(got.WSGI, wantWSGI) {
			t.Errorf("wsgi.* keys\n got %v\nwant %v", got.WSGI, wantWSGI)
		}
		wantInput := map[string]any{"line": "first line\n", "rest": "the rest", "more": 0.0}
		if !reflect.DeepEqual(got.Input, wantInput) {
			t.Errorf("wsgi.input: got %v, want %v (readline, read to CONTENT_LENGTH, then nothing)", got.Input, wantInput)
		}
		waitLog(t, p, "conformance: to wsgi.errors", 5*time.Second)
	})

	t.Run("write and close", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			if code, body, err := fetch(c, p.url("/write")); err != nil || code != 200 || string(body) != "via write;via iterable" {
				t.Fatalf("GET /write: %d %q %v", code, body, err)
			}
		}
		_, body, _ := fetch(c, p.url("/state"))
		var st struct{ Closes int }
		if err := json.Unmarshal(body, &st); err != nil || st.Closes != 3 {
			t.Errorf("close() calls after 3 responses: %s (want exactly one each)", body)
		}
	})

	t.Run("exc_info", func(t *testing.T) {
		if code, body, err := fetch(c, p.url("/exc_info")); err != nil || code != 500 || string(body) != "replaced" {
			t.Errorf("start_response with exc_info before the head: %d %q %v; want 500 replaced", code, body, err)
		}
		if code, body, err := fetch(c, p.url("/exc_info_late")); err == nil && code < 500 {
			t.Errorf("a response whose application failed after its head arrived whole: %d %q", code, body)
		}
		_, body, _ := fetch(c, p.url("/state"))
		var st struct{ Reraised bool }
		if json.Unmarshal(body, &st); !st.Reraised {
			t.Errorf("start_response with exc_info after the head did not re-raise: %s", body)
		}
		if code, body, err := fetch(c, p.url("/twice")); err != nil || code != 200 || string(body) != "refused" {
			t.Errorf("start_response twice without exc_info: %d %q %v; want refused", code, body, err)
		}
	})

	t.Run("file_wrapper", func(t *testing.T) {
		want, _ := os.ReadFile(filepath.Join(dir, "conform.py"))
		if code, body, err := fetch(c, p.url("/file")); err != nil || code != 200 || !bytes.Equal(body, want) {
			t.Errorf("wsgi.file_wrapper: %d, %d bytes, %v; want the file's %d", code, len(body), err, len(want))
		}
	})

	t.Run("streaming", func(t *testing.T) {
		checkStreams(t, p, "/stream?flag=")
	})

	t.Run("iterator raises", func(t *testing.T) {
		pid := pidOf(t, c, p, "/pid")
		// gale answers 502 when it holds the head still, else the
		// client's response is cut: never a whole 200.
		if code, body, err := fetch(c, p.url("/iter_raise")); err == nil && code < 500 {
			t.Errorf("a response cut by an exception in the iterator arrived whole: %d %q", code, body)
		}
		waitLog(t, p, "raised inside the iterator", 5*time.Second)
		if again := pidOf(t, c, p, "/pid"); again != pid {
			t.Errorf("the worker changed (%d -> %d) after an application error", pid, again)
		}
	})

	t.Run("client leaves", func(t *testing.T) {
		pid := pidOf(t, c, p, "/pid")
		conn, err := net.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET /sleep?0.3 HTTP/1.1\r\nHost: x\r\n\r\n")
		time.Sleep(100 * time.Millisecond)
		conn.Close() // gale drops the worker's connection mid-request
		waitLog(t, p, "client left", 5*time.Second)
		time.Sleep(400 * time.Millisecond)
		if again := pidOf(t, c, p, "/pid"); again != pid || strings.Contains(p.out.String(), "wsgi worker exited") {
			t.Errorf("the worker did not survive a client that left mid-request (%d -> %d)", pid, again)
		}
	})

	t.Run("long output line", func(t *testing.T) {
		pid := pidOf(t, c, p, "/pid")
		for i := 0; i < 3; i++ {
			if code, body, err := fetch(c, p.url("/long-print")); err != nil || code != 200 || string(body) != "printed" {
				t.Fatalf("a request printing a 100 kB line: %d %q %v", code, body, err)
			}
		}
		if again := pidOf(t, c, p, "/pid"); again != pid {
			t.Errorf("the worker changed (%d -> %d) after printing long lines", pid, again)
		}
	})

	t.Run("upload", func(t *testing.T) {
		data := make([]byte, 10<<20)
		rand.Read(data)
		sum := sha256.Sum256(data)
		resp, err := c.Post(p.url("/upload"), "application/octet-stream", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf("%d %s", len(data), hex.EncodeToString(sum[:])); string(body) != want {
			t.Errorf("10 MiB upload: %q, want %q", body, want)
		}
	})

	t.Run("404", func(t *testing.T) {
		if code, _, _ := fetch(c, p.url("/nothing")); code != 404 {
			t.Errorf("GET /nothing: %d, want the application's 404", code)
		}
	})
}

// checkStreams asserts that the first chunk of path (whose application
// waits for the flag file named after it before producing the last) comes
// before the last is produced.
func checkStreams(t *testing.T, p *proc, path string) {
	t.Helper()
	flag := filepath.Join(t.TempDir(), "flag")
	conn, err := net.DialTimeout("tcp", p.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(8 * time.Second))
	fmt.Fprintf(conn, "GET %s%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path, url.QueryEscape(flag))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first chunk: %q %v", line, err)
	}
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(resp.Body)
	if err != nil || !strings.HasSuffix(string(rest), "last\n") {
		t.Errorf("rest of the stream: %q %v", rest, err)
	}
}

// TestWSGIFlask serves a Flask application: pages, forms, uploads,
// cookies, redirects, errors and a static file, and its output in the log.
func TestWSGIFlask(t *testing.T) {
	needPython(t, "flask")
	dir := t.TempDir()
	writeFile(t, dir, "app.py", wsgiFlaskApp)
	writeFile(t, dir, "static/site.css", "body { color: teal }\n")
	p := startWSGI(t, dir, "-workers", "1", "app:app")
	jar := &cookieJar{m: map[string]string{}}
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	if code, body, err := fetch(c, p.url("/")); err != nil || code != 200 || string(body) != "hello v1" {
		t.Fatalf("GET /: %d %q %v", code, body, err)
	}
	waitLog(t, p, `request="GET /" text="index served"`, 5*time.Second)

	resp, err := c.Get(p.url("/static/site.css"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "body { color: teal }\n" || resp.Header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("static file: %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}

	form := url.Values{"name": {"Zoë & co"}, "tag": {"a", "b"}}
	resp, err = c.PostForm(p.url("/form"), form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "name=Zoë & co tags=a,b" {
		t.Errorf("form POST: %q", body)
	}

	data := make([]byte, 10<<20-1024) // a 10 MiB request with its multipart framing
	rand.Read(data)
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "blob.bin")
	fw.Write(data)
	mw.Close()
	resp, err = c.Post(p.url("/upload"), mw.FormDataContentType(), &mp)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	sum := sha256.Sum256(data)
	if want := fmt.Sprintf("%d %s", len(data), hex.EncodeToString(sum[:])); string(body) != want {
		t.Errorf("upload: %d %q, want %q", resp.StatusCode, body, want)
	}

	resp, err = c.Get(p.url("/cookies"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := len(resp.Header.Values("Set-Cookie")); n != 3 {
		t.Errorf("Set-Cookie headers: %d %v, want 3", n, resp.Header.Values("Set-Cookie"))
	}
	jar.take(resp)
	req, _ := http.NewRequest("GET", p.url("/echo-cookies"), nil)
	req.Header.Set("Cookie", jar.header())
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "a=1,b=2,c=3" {
		t.Errorf("cookies sent back: %q", body)
	}

	resp, err = c.Get(p.url("/old"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 302 || !strings.HasSuffix(resp.Header.Get("Location"), "/version") {
		t.Errorf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, _, _ := fetch(c, p.url("/missing")); code != 404 {
		t.Errorf("GET /missing: %d, want 404", code)
	}
	pid := pidOf(t, c, p, "/pid")
	if code, _, _ := fetch(c, p.url("/fail")); code != 500 {
		t.Errorf("GET /fail: %d, want 500", code)
	}
	waitLog(t, p, "flask view failed", 5*time.Second)
	if code, body, err := fetch(c, p.url("/iter-raise")); err == nil && code < 500 {
		t.Errorf("a response cut by an exception in the generator arrived whole: %d %q", code, body)
	}
	waitLog(t, p, "flask generator failed", 5*time.Second)
	if again := pidOf(t, c, p, "/pid"); again != pid {
		t.Errorf("the worker changed (%d -> %d) after application errors", pid, again)
	}
	checkStreams(t, p, "/stream?flag=")
}

// cookieJar keeps cookies by name, whatever their path.
type cookieJar struct{ m map[string]string }

func (j *cookieJar) take(resp *http.Response) {
	for _, ck := range resp.Cookies() {
		j.m[ck.Name] = ck.Value
	}
}

func (j *cookieJar) header() string {
	var parts []string
	for k, v := range j.m {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, "; ")
}

// hammer GETs path from n clients until stop closes, counting responses
// that are not 200 (and transport errors) as failures.
func hammer(p *proc, path string, n int, stop <-chan struct{}) (ok, failed *counter, done *sync.WaitGroup) {
	ok, failed, done = &counter{}, &counter{}, &sync.WaitGroup{}
	tr := &http.Transport{MaxIdleConnsPerHost: n}
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for i := 0; i < n; i++ {
		done.Add(1)
		go func() {
			defer done.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				code, body, err := fetch(c, p.url(path))
				if err != nil || code != 200 {
					failed.add(fmt.Sprintf("%d %v %.80s", code, err, body))
					continue
				}
				ok.add("")
			}
		}()
	}
	return ok, failed, done
}

// counter counts events and keeps the first few descriptions.
type counter struct {
	mu    sync.Mutex
	n     int
	first []string
}

func (c *counter) add(what string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	if what != "" && len(c.first) < 5 {
		c.first = append(c.first, what)
	}
}

func (c *counter) get() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n, c.first
}
