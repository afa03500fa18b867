package main

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gale-http/gale/internal/testenv"
)

// siteExamples are the complete site configurations in examples/ that
// users copy (issue 16).
var siteExamples = []string{"wordpress.yaml", "dokuwiki.yaml", "django.yaml"}

var (
	absPathRE  = regexp.MustCompile(`(?m)^(\s*(?:root|alias):\s*)(/[^\s#]+)`)
	backendsRE = regexp.MustCompile(`backends: \[[^\]]*\]`)
)

// siteExample writes examples/<name> into dir as it would be on a
// server: every absolute root and alias made a directory below dir, and,
// when backend is set, the upstream's backends replaced by it. It returns
// the configuration's path.
func siteExample(t *testing.T, dir, name, backend string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "examples", name))
	check(t, err)
	text := absPathRE.ReplaceAllStringFunc(string(raw), func(m string) string {
		sub := absPathRE.FindStringSubmatch(m)
		p := filepath.Join(dir, sub[2])
		check(t, os.MkdirAll(p, 0o755))
		return sub[1] + p
	})
	if backend != "" {
		text = backendsRE.ReplaceAllString(text, "backends: ["+backend+"]")
	}
	cfg := filepath.Join(dir, name)
	check(t, os.WriteFile(cfg, []byte(text), 0o644))
	return cfg
}

// TestSiteExamples: each example site configuration passes gale -t with
// its directories in place, so they cannot rot.
func TestSiteExamples(t *testing.T) {
	for _, name := range siteExamples {
		cfg := siteExample(t, t.TempDir(), name, "")
		if out, err := runGale("-t", "-config", cfg); err != nil || !strings.Contains(out, "test is successful") {
			t.Errorf("%s: gale -t: %v\n%s", name, err, out)
		}
	}
}

// TestDokuWikiExample: examples/dokuwiki.yaml in front of real php-fpm
// and a DokuWiki-shaped tree: doku.php's own nice URLs (userewrite = 2,
// PATH_INFO), lib/exe scripts, assets cached for a year, and none of
// conf/, data/, inc/ or install.php reachable.
func TestDokuWikiExample(t *testing.T) {
	fpm := testenv.StartPHPFPM(t, testenv.PHPFPMOptions{Children: 2})
	site := t.TempDir()
	cfg := siteExample(t, site, "dokuwiki.yaml", fpm.Addr())
	root := filepath.Join(site, "var/www/dokuwiki")
	const secret = "GALE-SECRET"
	for name, body := range map[string]string{
		"doku.php":                       `<?php echo "doku id=", $_GET["id"] ?? "-", " info=", $_SERVER["PATH_INFO"] ?? "-";`,
		"lib/exe/fetch.php":              `<?php echo "fetch ", $_GET["media"];`,
		"lib/tpl/dokuwiki/images/a.png":  "PNG",
		"conf/local.php":                 `<?php $conf["secret"] = "` + secret + `";`,
		"conf/users.auth.php":            secret,
		"conf/acl.auth.txt":              secret,
		"data/pages/start.txt":           secret,
		"inc/init.php":                   `<?php echo "` + secret + `";`,
		"install.php":                    `<?php echo "` + secret + `";`,
		"vendor/autoload.php":            `<?php echo "` + secret + `";`,
		"data/meta/_dokuwiki.changes.gz": secret,
	} {
		writeFile(t, root, name, body)
	}
	p := startGale(t, "-config", cfg)
	c := &http.Client{Timeout: 10 * time.Second}
	wordpressCases(t, c, p, "wiki.example.com", []wpCase{
		{"/", 200, "doku id=- info=", nil},
		{"/doku.php?id=wiki:syntax", 200, "doku id=wiki:syntax info=", nil},
		{"/doku.php/wiki:syntax", 200, "doku id=- info=/wiki:syntax", nil},
		{"/lib/exe/fetch.php?media=logo.png", 200, "fetch logo.png", nil},
		{"/lib/tpl/dokuwiki/images/a.png", 200, "PNG", map[string]string{"Cache-Control": "max-age=31536000"}},
		{"/conf/local.php", 404, "", nil},
		{"/conf/users.auth.php", 404, "", nil}, // a script: the .php location refuses it
		{"/conf/acl.auth.txt", 403, "", nil},
		{"/data/pages/start.txt", 403, "", nil},
		{"/data/meta/_dokuwiki.changes.gz", 403, "", nil},
		{"/inc/init.php", 404, "", nil},
		{"/install.php", 404, "", nil},
		{"/vendor/autoload.php", 404, "", nil},
	})
}
