package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSiteRules runs gale from a configuration with every site rule in
// front of real php-cgi and checks each over the wire with Go's client:
// the front controller's refused files (issue 16 item 8), /.well-known/
// (9), a location following symlinks out of the root (10), an alias with
// expires and headers (11, 14), an internal location reached by
// X-Accel-Redirect, allow/deny by address and a deny-all location (13),
// and redirects with captures and variables (12).
func TestSiteRules(t *testing.T) {
	phpCGI, err := exec.LookPath("php-cgi")
	if err != nil {
		t.Fatal("php-cgi is missing: run scripts/install-deps.sh (package php8.2-cgi)")
	}
	dir := t.TempDir()
	const secret = "GALE-SECRET"
	for name, body := range map[string]string{
		"www/index.php":                      `<?php echo "front ", $_SERVER["REQUEST_URI"];`,
		"www/download.php":                   `<?php header("X-Accel-Redirect: " . $_GET["f"]); echo "the application's body";`,
		"www/manage.py":                      secret + " manage.py",
		"www/proj/settings.py":               secret + " SECRET_KEY",
		"www/db.sqlite3":                     secret + " db",
		"www/composer.json":                  secret + " composer",
		"www/data/pages/start.txt":           secret + " page source",
		"www/conf/local.php":                 `<?php echo "` + secret + ` ran conf";`,
		"www/.env":                           secret + " env",
		"www/.well-known/acme-challenge/tok": "tok.thumbprint",
		"www/app.css":                        "body{}",
		"shared/tpl/style.css":               "tpl{}",
		"uploads/2024/a.txt":                 "upload",
		"private/report.pdf":                 "PDF",
	} {
		writeFile(t, dir, name, body)
	}
	for link, target := range map[string]string{"www/lib/tpl": "../../shared/tpl", "www/lib/other": "../../shared/tpl"} {
		check(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, link)), 0o755))
		check(t, os.Symlink(target, filepath.Join(dir, link)))
	}
	check(t, os.Mkdir(filepath.Join(dir, "sock"), 0o700))
	cfg := writeFile(t, dir, "gale.yaml", fmt.Sprintf(`
upstreams:
  php:
    max_conns: 1
    spawn:
      command: [%q, -b, "{socket}"]
      socket: sock/php.sock
      env: {PHP_FCGI_CHILDREN: "0", PHP_FCGI_MAX_REQUESTS: "0"}
vhosts:
  - root: www
    names: [site.test]
    redirects:
      - {match: "^/_media/(.*)$", to: "/lib/exe/fetch.php?media=$1", status: 302}
      - {match: "^/secure/", to: "https://$host$request_uri"}
    locations:
      - prefix: /
        fastcgi: {upstream: php}
      - prefix: /lib/tpl/
        follow_symlinks_outside: true
      - prefix: /wp-content/uploads/
        alias: uploads
        expires: 365d
        headers: {set: {X-Content-Type-Options: nosniff}, remove: [Last-Modified]}
      - prefix: /protected/
        alias: private
        internal: true
      - prefix: /admin/
        allow: [10.0.0.0/8]
      - prefix: /local/
        alias: uploads
        allow: [127.0.0.1]
        deny: ["::1"]
      - prefix: /install/
        deny: [all]
`, phpCGI))
	if out, err := exec.Command(galeBin, "-t", "-config", cfg).CombinedOutput(); err != nil {
		t.Fatalf("gale -t: %v\n%s", err, out)
	}
	p := startGale(t, "-config", cfg, "-loops", "2")
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	waitServed(t, c, p, "/", "front /")
	for _, tc := range []struct {
		item, path string
		status     int
		body       string            // exact
		headers    map[string]string // "" means absent
	}{
		{"8: Python source goes to the app", "/manage.py", 200, "front /manage.py", nil},
		{"8: nested Python source", "/proj/settings.py", 200, "front /proj/settings.py", nil},
		{"8: SQLite database", "/db.sqlite3", 200, "front /db.sqlite3", nil},
		{"8: Composer manifest", "/composer.json", 200, "front /composer.json", nil},
		{"8: DokuWiki page source", "/data/pages/start.txt", 200, "front /data/pages/start.txt", nil},
		{"8: a script in a private directory", "/conf/local.php", 404, "", nil},
		{"8: dotfile", "/.env", 200, "front /.env", nil},
		{"8: control: a stylesheet", "/app.css", 200, "body{}", nil},
		{"9: ACME challenge", "/.well-known/acme-challenge/tok", 200, "tok.thumbprint", nil},
		{"9: no listing of .well-known", "/.well-known/acme-challenge/", 200, "front /.well-known/acme-challenge/", nil},
		{"10: symlink out of the root, allowed here", "/lib/tpl/style.css", 200, "tpl{}", nil},
		{"10: symlink out of the root, default", "/lib/other/style.css", 200, "front /lib/other/style.css", nil},
		{"11+14: alias with expires and headers", "/wp-content/uploads/2024/a.txt", 200, "upload",
			map[string]string{"Cache-Control": "max-age=31536000", "X-Content-Type-Options": "nosniff", "Last-Modified": ""}},
		{"11: alias, missing file", "/wp-content/uploads/none.txt", 404, "", map[string]string{"Cache-Control": ""}},
		{"13: internal location asked by a client", "/protected/report.pdf", 404, "", nil},
		{"13: internal location by X-Accel-Redirect", "/download.php?f=/protected/report.pdf", 200, "PDF", nil},
		{"13: X-Accel-Redirect to a refused file", "/download.php?f=/manage.py", 404, "", nil},
		{"13: allow 10.0.0.0/8 from 127.0.0.1", "/admin/x", 403, "", nil},
		{"13: allow 127.0.0.1", "/local/2024/a.txt", 200, "upload", nil},
		{"13: deny all", "/install/", 403, "", nil},
		{"12: redirect with a capture", "/_media/wiki/logo.png", 302, "",
			map[string]string{"Location": "/lib/exe/fetch.php?media=wiki/logo.png"}},
		{"12: return 301 https://$host$request_uri", "/secure/login?next=/a", 301, "",
			map[string]string{"Location": "https://" + strings.Split(p.addr, ":")[0] + "/secure/login?next=/a"}},
	} {
		resp, err := c.Get(p.url(tc.path))
		check(t, err)
		b := readAll(t, resp)
		if strings.Contains(b, secret) {
			t.Errorf("%s: GET %s served a secret: %q", tc.item, tc.path, b)
			continue
		}
		if resp.StatusCode != tc.status || (tc.body != "" && b != tc.body) {
			t.Errorf("%s: GET %s: %d %q, want %d %q", tc.item, tc.path, resp.StatusCode, b, tc.status, tc.body)
		}
		for name, want := range tc.headers {
			if got := resp.Header.Get(name); got != want {
				t.Errorf("%s: GET %s: %s %q, want %q", tc.item, tc.path, name, got, want)
			}
		}
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	check(t, err)
	return string(b)
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
