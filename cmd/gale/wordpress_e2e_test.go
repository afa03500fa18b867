package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
)

// wpIndex is a WordPress-like front controller, written for the test: it
// decides whether to offer pretty permalinks as WordPress 6.1 does
// ($is_apache and $is_nginx in wp-includes/vars.php from
// SERVER_SOFTWARE; got_url_rewrite() and got_mod_rewrite() in
// wp-admin/includes/misc.php, with apache_mod_loaded()), and routes
// permalinks from REQUEST_URI as WP::parse_request does.
const wpIndex = `<?php
$sw = $_SERVER['SERVER_SOFTWARE'] ?? '';
$is_apache = str_contains($sw, 'Apache') || str_contains($sw, 'LiteSpeed');
$is_nginx = str_contains($sw, 'nginx');
$is_iis7 = str_contains($sw, 'Microsoft-IIS/7');
function mod_loaded($mod, $default = false) {
    global $is_apache;
    if (!$is_apache) return false;
    if (function_exists('apache_get_modules')) return in_array($mod, apache_get_modules());
    return $default;
}
$got_url_rewrite = mod_loaded('mod_rewrite', true) || $is_nginx || $is_iis7;
$uri = $_SERVER['REQUEST_URI'];
switch (parse_url($uri, PHP_URL_PATH)) {
case '/':
    echo 'home permalinks=', $got_url_rewrite ? 'pretty' : '/index.php/%postname%/';
    break;
case '/hello-world/':
    echo 'post hello-world uri=', $uri, ' script=', $_SERVER['SCRIPT_NAME'];
    break;
case '/feed/':
    header('Content-Type: application/rss+xml; charset=UTF-8');
    echo 'feed uri=', $uri;
    break;
case '/download/report':
    header('X-Accel-Redirect: /protected/report.pdf');
    echo 'the application body';
    break;
default:
    http_response_code(404);
    echo 'wp 404 ', $uri;
}
`

// TestWordPressPermalinks: with the README's one-liner in front of real
// php-fpm, a WordPress-like front controller offers pretty permalinks
// (issue 16 item 4: it learns from SERVER_SOFTWARE that the server
// rewrites) and /hello-world/ and /feed/ reach index.php with REQUEST_URI
// intact; then examples/wordpress.yaml, as a user would copy it, also
// serves uploads kept outside the root through an alias, for a year, and a
// protected file only by X-Accel-Redirect to its internal location.
func TestWordPressPermalinks(t *testing.T) {
	fpm := testenv.StartPHPFPM(t, testenv.PHPFPMOptions{Children: 2})
	dir := t.TempDir()
	writeFile(t, dir, "www/index.php", wpIndex)
	writeFile(t, dir, "www/wp-content/themes/t/style.css", "body{}")
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	oneLiner := startGale(t, "-root", filepath.Join(dir, "www"), "-fastcgi", fpm.Addr())
	wordpressCases(t, c, oneLiner, "localhost", []wpCase{
		{"/", 200, "home permalinks=pretty", nil},
		{"/hello-world/", 200, "post hello-world uri=/hello-world/ script=/index.php", nil},
		{"/hello-world/?replytocom=5", 200, "post hello-world uri=/hello-world/?replytocom=5 ", nil},
		{"/feed/", 200, "feed uri=/feed/", map[string]string{"Content-Type": "application/rss+xml; charset=UTF-8"}},
		{"/no-such-page/", 404, "wp 404 /no-such-page/", nil},
		{"/wp-content/themes/t/style.css", 200, "body{}", nil},
	})

	site := t.TempDir()
	cfg := siteExample(t, site, "wordpress.yaml", fpm.Addr())
	root := filepath.Join(site, "var/www/wordpress")
	writeFile(t, root, "index.php", wpIndex)
	writeFile(t, root, "wp-config.php", `<?php define('DB_PASSWORD', 'GALE-SECRET');`)
	writeFile(t, root, "wp-content/themes/t/style.css", "body{}")
	writeFile(t, site, "var/lib/wordpress/wp-content/uploads/2024/05/photo.jpg", "the photo")
	writeFile(t, site, "var/lib/wordpress/protected/report.pdf", "the report")
	p := startGale(t, "-config", cfg)
	wordpressCases(t, c, p, "blog.example.com", []wpCase{
		{"/", 200, "home permalinks=pretty", nil},
		{"/hello-world/", 200, "post hello-world uri=/hello-world/ ", nil},
		{"/feed/", 200, "feed uri=/feed/", nil},
		{"/wp-content/uploads/2024/05/photo.jpg", 200, "the photo",
			map[string]string{"Cache-Control": "max-age=31536000", "X-Content-Type-Options": "nosniff"}},
		{"/wp-content/themes/t/style.css", 200, "body{}", nil},
		{"/download/report", 200, "the report", nil},
		{"/protected/report.pdf", 404, "", nil},
		{"/wp-config.php", 404, "", nil},
		{"/wp-admin", 301, "", map[string]string{"Location": "/wp-admin/"}},
		{"/xmlrpc.php", 403, "", nil},
	})
}

type wpCase struct {
	path    string
	status  int
	body    string // the body's start
	headers map[string]string
}

func wordpressCases(t *testing.T, c *http.Client, p *proc, host string, cases []wpCase) {
	t.Helper()
	for _, tc := range cases {
		status, body, hdr := fetchFull(t, c, p, host, tc.path)
		if strings.Contains(body, "GALE-SECRET") || status != tc.status || !strings.HasPrefix(body, tc.body) {
			t.Errorf("%s%s: %d %q, want %d %q", host, tc.path, status, body, tc.status, tc.body)
		}
		for name, want := range tc.headers {
			if got := hdr.Get(name); got != want {
				t.Errorf("%s%s: %s %q, want %q", host, tc.path, name, got, want)
			}
		}
	}
}

// fetchFull GETs path from p with Host host.
func fetchFull(t *testing.T, c *http.Client, p *proc, host, path string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest("GET", p.url(path), nil)
	check(t, err)
	req.Host = host
	resp, err := c.Do(req)
	check(t, err)
	return resp.StatusCode, readAll(t, resp), resp.Header
}
