package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// djangoProject makes a Django project in a temporary directory the way a
// developer does: startproject, sqlite, migrate, a superuser, collectstatic
// into ./static (which `gale wsgi` serves at /static/ by default).
func djangoProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	run := func(env []string, args ...string) {
		t.Helper()
		cmd := exec.Command(wsgiPython, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	run(nil, "-m", "django", "startproject", "mysite", ".")
	settings := filepath.Join(dir, "mysite", "settings.py")
	b, err := os.ReadFile(settings)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "DEBUG = True", "DEBUG = False", 1)
	s = strings.Replace(s, "ALLOWED_HOSTS = []", "ALLOWED_HOSTS = ['*']", 1)
	s += "\nSTATIC_ROOT = BASE_DIR / 'static'\n"
	writeFile(t, dir, "mysite/settings.py", s)
	urls, err := os.ReadFile(filepath.Join(dir, "mysite", "urls.py"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "mysite/urls.py", string(urls)+`

def boom(request):
    raise RuntimeError("django view failed")


urlpatterns += [path("boom/", boom)]
`)
	run(nil, "manage.py", "migrate", "--noinput")
	run([]string{"DJANGO_SUPERUSER_PASSWORD=gale-test-pw"}, "manage.py", "createsuperuser", "--noinput", "--username", "admin", "--email", "admin@example.com")
	run(nil, "manage.py", "collectstatic", "--noinput")
	return dir
}

var csrfField = regexp.MustCompile(`name="csrfmiddlewaretoken" value="([^"]+)"`)

// TestWSGIDjango serves a Django 3.2 project with gale wsgi: the admin's
// login with its CSRF token, the session, the admin's static files
// (served by gale), and the 404 and 500 pages.
func TestWSGIDjango(t *testing.T) {
	needPython(t, "django")
	dir := djangoProject(t)
	checkDjango(t, startWSGI(t, dir, "-workers", "2", "mysite.wsgi:application"), dir)
}

// TestUWSGIDjango: the same project under uWSGI (--socket, what nginx's
// uwsgi_pass speaks) behind gale's uwsgi upstream, its collected static
// files served by gale through an alias (issue 14).
func TestUWSGIDjango(t *testing.T) {
	needPython(t, "django")
	requirePeers(t, "/usr/bin/uwsgi", "/usr/lib/uwsgi/plugins/python3_plugin.so")
	dir := djangoProject(t)
	_, uw := startPython(t, dir, "/usr/bin/uwsgi", "--plugin", "python3", "--socket", "ADDR", "--chdir", dir,
		"--module", "mysite.wsgi:application", "--master", "--processes", "2", "--die-on-term", "--disable-logging")
	cfg := writeFile(t, t.TempDir(), "gale.yaml", fmt.Sprintf(`
upstreams:
  django: {protocol: uwsgi, backends: [%s]}
vhosts:
  - root: %s
    locations:
      - {prefix: /, fastcgi: {upstream: django, mode: pass}}
      - {prefix: /static/, alias: %s}
`, uw, dir, filepath.Join(dir, "static")))
	checkDjango(t, startGale(t, "-config", cfg, "-loops", "2"), dir)
}

// checkDjango drives the project in dir served by p.
func checkDjango(t *testing.T, p *proc, dir string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := c.Get(p.url(path))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	post := func(path string, form url.Values) *http.Response {
		t.Helper()
		resp, err := c.PostForm(p.url(path), form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	if resp, _ := get("/admin/"); resp.StatusCode != 302 || !strings.HasPrefix(resp.Header.Get("Location"), "/admin/login/") {
		t.Fatalf("GET /admin/ signed out: %d %q; want a redirect to the login", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := get("/admin/login/?next=/admin/")
	m := csrfField.FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("login page: %d, CSRF field found: %v", resp.StatusCode, m != nil)
	}
	login := url.Values{"username": {"admin"}, "password": {"gale-test-pw"}, "next": {"/admin/"}}
	if resp := post("/admin/login/?next=/admin/", login); resp.StatusCode != 403 {
		t.Errorf("login without the CSRF token: %d, want 403", resp.StatusCode)
	}
	login.Set("csrfmiddlewaretoken", m[1])
	if resp := post("/admin/login/?next=/admin/", login); resp.StatusCode != 302 || resp.Header.Get("Location") != "/admin/" {
		t.Fatalf("login: %d %q; want a redirect to /admin/", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, page := get("/admin/"); resp.StatusCode != 200 || !strings.Contains(page, "Site administration") {
		t.Errorf("GET /admin/ signed in: %d, %d bytes; want the site administration", resp.StatusCode, len(page))
	}

	css, err := os.ReadFile(filepath.Join(dir, "static", "admin", "css", "base.css"))
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := get("/static/admin/css/base.css"); resp.StatusCode != 200 || body != string(css) ||
		resp.Header.Get("Last-Modified") == "" {
		t.Errorf("admin stylesheet: %d, %d bytes (want %d), Last-Modified %q", resp.StatusCode, len(body), len(css), resp.Header.Get("Last-Modified"))
	}
	if resp, page := get("/no/such/page/"); resp.StatusCode != 404 || !strings.Contains(page, "Not Found") {
		t.Errorf("GET /no/such/page/: %d; want Django's 404 page", resp.StatusCode)
	}
	if resp, page := get("/boom/"); resp.StatusCode != 500 || !strings.Contains(page, "Server Error") {
		t.Errorf("GET /boom/: %d; want Django's 500 page", resp.StatusCode)
	}
}
