package handlers

import (
	"bytes"
	"errors"
	"strings"
)

// DefaultRefuse is what a front controller never serves as a file nor runs
// as a script, unless its configuration says otherwise: the sources and
// data of Python apps that share the directory (settings.py holds
// SECRET_KEY, db.sqlite3 the users), database dumps, environment files,
// editors' backups of scripts (config.php~ is config.php's source),
// Composer's manifests, and the private top-level directories of
// DokuWiki's and similar layouts (pages, change logs with addresses and
// user names, configuration, command-line scripts, libraries). Dotfiles
// (.env, .git) are refused by the static handler already.
var DefaultRefuse = []string{
	"*.py", "*.pyc", "*.pyo", "*.sqlite", "*.sqlite3", "*.db", "*.sql",
	"*.env", "*.bak", "*.swp", "*~",
	"composer.json", "composer.lock",
	"/vendor/", "/conf/", "/data/", "/bin/",
}

// RefuseList matches request paths against refuse patterns:
//
//   - "*.py" (a leading '*'): a path whose last segment ends with ".py";
//   - "/vendor/" (a leading and trailing '/'): a path below that directory
//     of the root (top level only: plugins bundle their own vendor/
//     directories of assets);
//   - "composer.json" (a name): a path whose last segment is that name.
//
// Matching is exact (case-sensitive, as the filesystem is) and allocates
// nothing. The zero value refuses nothing.
type RefuseList struct {
	suffixes [][]byte // "*.py" -> ".py"
	dirs     [][]byte // "/vendor/"
	names    [][]byte // "/composer.json" (with the slash before the name)
}

// NewRefuseList compiles patterns (see RefuseList).
func NewRefuseList(patterns []string) (RefuseList, error) {
	var rl RefuseList
	for _, p := range patterns {
		if err := CheckRefusePattern(p); err != nil {
			return RefuseList{}, err
		}
		switch {
		case p[0] == '*':
			rl.suffixes = append(rl.suffixes, []byte(p[1:]))
		case p[0] == '/':
			rl.dirs = append(rl.dirs, []byte(p))
		default:
			rl.names = append(rl.names, []byte("/"+p))
		}
	}
	return rl, nil
}

// CheckRefusePattern reports why p is not a refuse pattern, if it is not.
func CheckRefusePattern(p string) error {
	switch {
	case p == "" || p == "*" || p == "/" || p == "//":
		return errors.New("empty refuse pattern " + quote(p))
	case p[0] == '*':
		if strings.ContainsAny(p[1:], "*/") {
			return errors.New("bad refuse pattern " + quote(p) + ": *SUFFIX matches the end of a name (\"*.py\")")
		}
	case p[0] == '/':
		if len(p) < 3 || p[len(p)-1] != '/' || strings.Contains(p, "*") || strings.Contains(p, "//") {
			return errors.New("bad refuse pattern " + quote(p) + ": /DIR/ names a directory of the root (\"/vendor/\")")
		}
	default:
		if strings.ContainsAny(p, "*/") {
			return errors.New("bad refuse pattern " + quote(p) + ": want *SUFFIX, /DIR/ or a file name")
		}
	}
	return nil
}

func quote(s string) string { return `"` + s + `"` }

// Match reports whether the clean absolute path p is refused.
func (rl *RefuseList) Match(p []byte) bool {
	for _, d := range rl.dirs {
		if bytes.HasPrefix(p, d) || (len(p) == len(d)-1 && bytes.HasPrefix(d, p)) {
			return true // below the directory, or the directory itself without its slash
		}
	}
	if len(rl.suffixes) == 0 && len(rl.names) == 0 {
		return false
	}
	// The last segment, with its slash ("/composer.json"). A trailing slash
	// names a directory, not a file: nothing to match.
	i := bytes.LastIndexByte(p, '/')
	if i < 0 || i == len(p)-1 {
		return false
	}
	last := p[i:]
	for _, s := range rl.suffixes {
		if len(last) > len(s) && bytes.HasSuffix(last, s) {
			return true
		}
	}
	for _, n := range rl.names {
		if bytes.Equal(last, n) {
			return true
		}
	}
	return false
}
