package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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
