package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestConfigGateways: a configuration with a cgi-bin location (a shell
// script run itself), an extension location (*.py run by
// /usr/bin/python3, with a configured variable) and pass locations to an
// SCGI and a uwsgi upstream (SCRIPT_NAME the location's prefix, PATH_INFO
// the rest), served by gale from the file.
func TestConfigGateways(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "www/index.html", "home\n")
	sh := writeFile(t, dir, "www/cgi-bin/hi.sh", "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\necho \"sh $PATH_INFO $QUERY_STRING\"\n")
	if err := os.Chmod(sh, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "www/app/hi.py", "import os\nprint('Content-Type: text/plain')\nprint()\nprint('py', os.environ['PATH_INFO'], os.environ['GREETING'])\n")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go serveSCGI(ln)
	uln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer uln.Close()
	go serveUWSGI(uln)
	cfg := writeFile(t, dir, "gale.yaml", fmt.Sprintf(`
upstreams:
  wsgi:
    protocol: scgi
    backends: [%s]
  uw:
    protocol: uwsgi
    backends: [%s]
vhosts:
  - root: www
    locations:
      - prefix: /
      - prefix: /cgi-bin/
        cgi: {max_scripts: 2, timeout: 5s}
      - ext: [.py]
        cgi:
          assign: {.py: python3}
          env: {GREETING: hello}
      - prefix: /wsgi/
        fastcgi: {upstream: wsgi, mode: pass}
      - prefix: /uw/
        fastcgi: {upstream: uw, mode: pass}
`, ln.Addr(), uln.Addr()))
	if out, err := runGale("-t", "-config", cfg); err != nil {
		t.Fatalf("gale -t: %v\n%s", err, out)
	}
	p := startGale(t, "-config", cfg)
	c := &http.Client{Timeout: 5 * time.Second}
	for path, want := range map[string]string{
		"/cgi-bin/hi.sh/x?q=1": "sh /x q=1\n",
		"/app/hi.py/y":         "py /y hello\n",
		"/wsgi/z":              "scgi PATH_INFO=/z SCRIPT_NAME=/wsgi",
		"/uw/w?k=v":            "uwsgi PATH_INFO=/w SCRIPT_NAME=/uw QUERY_STRING=k=v",
		"/index.html":          "home\n",
	} {
		status, body, err := fetchHost(c, p, "localhost", path)
		if err != nil || status != 200 || body != want {
			t.Errorf("%s: %d %q %v, want %q", path, status, body, err, want)
		}
	}
}

func runGale(args ...string) (string, error) {
	out, err := exec.Command(galeBin, args...).CombinedOutput()
	return string(out), err
}

// serveSCGI answers each SCGI request with its PATH_INFO and SCRIPT_NAME.
func serveSCGI(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			br := bufio.NewReader(c)
			n, _ := br.ReadString(':')
			size, _ := strconv.Atoi(strings.TrimSuffix(n, ":"))
			raw := make([]byte, size+1)
			io.ReadFull(br, raw)
			vars := map[string]string{}
			f := strings.Split(string(raw[:size]), "\x00")
			for i := 0; i+1 < len(f); i += 2 {
				vars[f[i]] = f[i+1]
			}
			fmt.Fprintf(c, "Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nscgi PATH_INFO=%s SCRIPT_NAME=%s", vars["PATH_INFO"], vars["SCRIPT_NAME"])
		}()
	}
}

// serveUWSGI answers each uwsgi request (4-byte header, vars with 16-bit
// little-endian lengths) with raw HTTP naming its PATH_INFO, SCRIPT_NAME
// and QUERY_STRING, then closes, as uWSGI does.
func serveUWSGI(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			var h [4]byte
			if _, err := io.ReadFull(c, h[:]); err != nil {
				return
			}
			raw := make([]byte, int(h[1])|int(h[2])<<8)
			if _, err := io.ReadFull(c, raw); err != nil {
				return
			}
			vars := map[string]string{}
			next := func() string {
				n := int(raw[0]) | int(raw[1])<<8
				v := string(raw[2 : 2+n])
				raw = raw[2+n:]
				return v
			}
			for len(raw) >= 4 {
				k := next()
				vars[k] = next()
			}
			body := fmt.Sprintf("uwsgi PATH_INFO=%s SCRIPT_NAME=%s QUERY_STRING=%s", vars["PATH_INFO"], vars["SCRIPT_NAME"], vars["QUERY_STRING"])
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		}()
	}
}
