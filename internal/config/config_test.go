package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/httpcodec"
)

// check parses and validates text as file "t.yaml" in a directory that
// has a "www" root, and returns the errors, one string each.
func check(t *testing.T, text string) []string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "www"), 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "t.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(file)
	if err == nil {
		err = c.Validate()
	}
	if err == nil {
		return nil
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error of type %T: %v", err, err)
	}
	var out []string
	for _, e := range errs {
		out = append(out, strings.TrimPrefix(e.Error(), file))
	}
	return out
}

const okVHost = "vhosts:\n  - root: www\n"

// TestErrorPositions: every kind of mistake is reported at its line and
// column, with what is wrong.
func TestErrorPositions(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"unknown top-level key", "listn: :80\n" + okVHost, `:1:1: unknown key "listn" in the top level`},
		{"unknown nested key", "timeouts:\n  idel: 3s\n" + okVHost, `:2:3: unknown key "idel" in timeouts`},
		{"unknown key in a list item", "vhosts:\n  - root: www\n    rot: x\n", `:3:5: unknown key "rot" in vhosts[0]`},
		{"wrong type: list for string", "listen: [a, b]\n" + okVHost, `:1:9: listen: want a string, got a list`},
		{"wrong type: word for integer", "loops: four\n" + okVHost, `:1:8: loops: want an integer, got "four"`},
		{"wrong type: scalar for mapping", "log: verbose\n" + okVHost, `:1:6: log: want a mapping, got a scalar`},
		{"bad duration", "timeouts:\n  idle: 10\n" + okVHost, `:2:9: timeouts.idle: bad duration "10"`},
		{"negative duration", "shutdown_timeout: -1s\n" + okVHost, `:1:19: shutdown_timeout: negative duration`},
		{"bad size", "limits:\n  max_body: 3 apples\n" + okVHost, `:2:13: limits.max_body: bad size "3 apples"`},
		{"bad listen address", "listen: localhost\n" + okVHost, `:1:9: listen: bad address "localhost"`},
		{"bad port", "listen: ':http8'\n" + okVHost, `:1:9: listen: bad port "http8"`},
		{"bad admin address", "admin: 9145\n" + okVHost, `:1:8: admin: bad address "9145"`},
		{"bad backend", "upstreams:\n  app:\n    backends: [localhost]\n" + okVHost, `:3:16: upstreams.app.backends[0]: bad backend "localhost"`},
		{"upstream without backends", "upstreams:\n  app:\n    max_conns: 2\n" + okVHost, `:3:5: upstreams.app: no backends`},
		{"bad balance", "upstreams:\n  app:\n    backends: [unix:/s]\n    balance: random\n" + okVHost, `:4:14: upstreams.app.balance: "random" is not one of round_robin, least_conn`},
		{"bad protocol", "upstreams:\n  app:\n    backends: [unix:/s]\n    protocol: ajp\n" + okVHost, `:4:15: upstreams.app.protocol: "ajp" is not one of fastcgi, scgi`},
		{"cgi and fastcgi", "upstreams: {php: {backends: [unix:/s]}}\nvhosts:\n  - root: www\n    locations:\n      - prefix: /\n        fastcgi: {upstream: php}\n        cgi: {}\n",
			`:7:14: vhosts[0].locations[0]: fastcgi and cgi are exclusive`},
		{"cgi interpreter missing", "vhosts:\n  - root: www\n    locations:\n      - ext: [.py]\n        cgi: {assign: {.py: no-such-python-gale}}\n",
			`:5:29: vhosts[0].locations[0].cgi.assign..py: exec: "no-such-python-gale"`},
		{"cgi bad extension", "vhosts:\n  - root: www\n    locations:\n      - prefix: /cgi-bin/\n        cgi: {assign: {py: /bin/sh}}\n",
			`:5:28: vhosts[0].locations[0].cgi.assign.py: bad extension "py"`},
		{"cgi max_scripts", "vhosts:\n  - root: www\n    locations:\n      - prefix: /cgi-bin/\n        cgi: {max_scripts: 0}\n",
			`:5:28: vhosts[0].locations[0].cgi.max_scripts: must be 1 or more`},
		{"missing root", "vhosts:\n  - root: nowhere\n", `:2:11: vhosts[0].root: `},
		{"no root at all", "vhosts:\n  - names: [a.test]\n", `:2:5: vhosts[0].root: missing`},
		{"root is a file", "vhosts:\n  - root: t.yaml\n", `:2:11: vhosts[0].root: `},
		{"unknown upstream", "vhosts:\n  - root: www\n    locations:\n      - prefix: /\n        fastcgi: {upstream: php}\n",
			`:5:29: vhosts[0].locations[0].fastcgi.upstream: no upstream named "php"`},
		{"bad mode", "upstreams: {php: {backends: [unix:/s]}}\nvhosts:\n  - root: www\n    locations:\n      - prefix: /\n        fastcgi: {upstream: php, mode: cgi}\n",
			`:6:40: vhosts[0].locations[0].fastcgi.mode: "cgi" is not one of front_controller, pass`},
		{"prefix and ext", "vhosts:\n  - root: www\n    locations:\n      - prefix: /\n        ext: [.php]\n", `:4:9: vhosts[0].locations[0]: prefix and ext are exclusive`},
		{"prefix without slash", "vhosts:\n  - root: www\n    locations:\n      - prefix: app/\n", `:4:17: vhosts[0].locations[0].prefix: "app/" must start with /`},
		{"two defaults", "vhosts:\n  - {root: www, default: true}\n  - {root: www, default: true, names: [b.test]}\n", `:3:26: vhosts[1].default: only one vhost`},
		{"same name twice", "vhosts:\n  - {root: www, names: [a.test]}\n  - {root: www, names: [A.Test]}\n", `:3:25: vhosts[1].names[0]: "A.Test" is already a name of vhosts[0]`},
		{"bad wildcard", "vhosts:\n  - {root: www, names: [\"a.*.test\"]}\n", `:2:25: vhosts[0].names[0]: bad host name "a.*.test"`},
		{"spawn without command", "upstreams:\n  app:\n    spawn: {socket: /tmp/x.sock}\n" + okVHost, `:3:12: upstreams.app.spawn.command: the program to run is missing`},
		{"spawn of a missing program", "upstreams:\n  app:\n    spawn: {command: [no-such-program-gale], socket: /tmp/x.sock}\n" + okVHost, `:3:23: upstreams.app.spawn.command: exec: "no-such-program-gale"`},
		{"spawn count without {n}", "upstreams:\n  app:\n    spawn: {command: [sh], count: 2, socket: /tmp/x.sock}\n" + okVHost, `:3:46: upstreams.app.spawn.socket: with count 2 the path needs {n}`},
		{"no vhosts", "listen: :80\n", `:1:1: vhosts: at least one vhost is needed`},
		{"duplicate key", "listen: :80\nlisten: :81\n" + okVHost, `:2:1: duplicate key "listen"`},
		{"syntax", "vhosts:\n  - root: www\n  bad\n", `:3:1: syntax: `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := check(t, tc.text)
			for _, e := range errs {
				if strings.HasPrefix(e, tc.want) {
					return
				}
			}
			t.Errorf("want an error starting %q, got %q", tc.want, errs)
		})
	}
}

// TestAllErrorsAtOnce: decoding and meaning errors are reported together,
// in file order.
func TestAllErrorsAtOnce(t *testing.T) {
	errs := check(t, "listen: nope\nloops: x\nvhosts:\n  - root: nowhere\n")
	if len(errs) != 3 || !strings.HasPrefix(errs[0], ":1:") || !strings.HasPrefix(errs[1], ":2:") || !strings.HasPrefix(errs[2], ":4:") {
		t.Fatalf("got %q", errs)
	}
}

// TestDefaultsMatchThePackages: the documented defaults are the ones the
// reactor, the parser, the static handler and the upstreams apply on their
// own, so the file and the one-liner flags behave the same.
func TestDefaultsMatchThePackages(t *testing.T) {
	c := Default()
	l := httpcodec.DefaultLimits()
	got := httpcodec.Limits{
		MaxRequestLine: int(c.Limits.MaxRequestLine), MaxHeaderBytes: int(c.Limits.MaxHeaderBytes),
		MaxHeaders: c.Limits.MaxHeaders, MaxBody: int64(c.Limits.MaxBody),
		MaxChunkExt: int(c.Limits.MaxChunkExt), MaxTrailerBytes: int(c.Limits.MaxTrailerBytes),
	}
	if got != l {
		t.Errorf("limits %+v, httpcodec.DefaultLimits %+v", got, l)
	}
	sc := handlers.DefaultStaticConfig("/")
	if int64(c.Cache.MaxFile) != sc.CacheMaxFile || int64(c.Cache.MaxTotal) != sc.CacheMaxTotal || *c.Compression != sc.Compress {
		t.Errorf("cache %+v compression %v, handlers.DefaultStaticConfig %+v", c.Cache, *c.Compression, sc)
	}
	if c.Listen != ":8080" || c.Timeouts.Idle.D() != 60*time.Second || c.Timeouts.Header.D() != 10*time.Second ||
		c.Limits.MaxRequestsPerConn != 10000 || c.ShutdownTimeout.D() != 30*time.Second {
		t.Errorf("top-level defaults: %+v", c)
	}
	var vh VHost
	setDefaults(reflect.ValueOf(&vh).Elem())
	if !reflect.DeepEqual(vh.Index, sc.Index) {
		t.Errorf("index %q, static default %q", vh.Index, sc.Index)
	}
	var u Upstream
	setDefaults(reflect.ValueOf(&u).Elem())
	if u.Timeouts.Connect.D() != 5*time.Second || u.Timeouts.Read.D() != 60*time.Second || u.MaxMux != 64 || u.MaxFails != 1 || u.Balance != "round_robin" {
		t.Errorf("upstream defaults: %+v", u)
	}
}

// TestDecodeValues: values land in the right fields, defaults fill what
// the file leaves out, relative roots resolve against the file.
func TestDecodeValues(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "www"), 0o755)
	c, err := Parse(filepath.Join(dir, "t.yaml"), []byte(`
listen: 127.0.0.1:81
limits: {max_body: 1GiB}
compression: off
upstreams:
  php:
    backends: unix:/run/php.sock
    balance: least_conn
    timeouts: {read: 2m}
    params: {A: b}
vhosts:
  - names: [x.test]
    root: www
    locations:
      - ext: [.php]
        fastcgi: {upstream: php, mode: pass}
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	u := c.Upstreams["php"]
	if c.Listen != "127.0.0.1:81" || c.Limits.MaxBody != 1<<30 || *c.Compression ||
		!reflect.DeepEqual(u.Backends, []string{"unix:/run/php.sock"}) || u.Balance != "least_conn" ||
		u.Timeouts.Read.D() != 2*time.Minute || u.Timeouts.Connect.D() != 5*time.Second || u.Params["A"] != "b" {
		t.Fatalf("decoded %+v, upstream %+v", c, u)
	}
	vh := c.VHosts[0]
	if vh.Root != filepath.Join(dir, "www") || vh.Locations[0].FastCGI.Index != "/index.php" || vh.Index[0] != "index.html" {
		t.Fatalf("vhost %+v location %+v", vh, vh.Locations[0].FastCGI)
	}
}

// TestEnvOverrides: GALE_* variables override the file; a bad one is
// reported under its name, and so is a value it set that does not
// validate.
func TestEnvOverrides(t *testing.T) {
	dir := t.TempDir()
	c, err := Parse("t.yaml", []byte("listen: :80\nupstreams: {php: {backends: [unix:/a]}}\nvhosts:\n  - root: /nonexistent\n"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"GALE_LISTEN": "127.0.0.1:9", "GALE_ROOT": dir, "GALE_FASTCGI": "127.0.0.1:9000, unix:/b",
		"GALE_LOG_LEVEL": "debug", "GALE_LOOPS": "3", "GALE_ACCESS_LOG": "stdout", "GALE_ADMIN": "127.0.0.1:9145",
		"GALE_MAX_BODY": "1MiB", "GALE_COMPRESSION": "false",
	}
	if err := c.ApplyEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:9" || c.VHosts[0].Root != dir || !reflect.DeepEqual(c.Upstreams["php"].Backends, []string{"127.0.0.1:9000", "unix:/b"}) ||
		c.Log.Level != "debug" || c.Loops != 3 || c.Log.Access != "stdout" || c.Admin != "127.0.0.1:9145" || c.Limits.MaxBody != 1<<20 || *c.Compression {
		t.Fatalf("after env: %+v", c)
	}
	err = c.ApplyEnv(func(k string) (string, bool) {
		v, ok := map[string]string{"GALE_LOOPS": "lots", "GALE_LISTEN": "nohost"}[k]
		return v, ok
	})
	if err == nil || !strings.Contains(err.Error(), "$GALE_LOOPS: want an integer") {
		t.Fatalf("bad GALE_LOOPS: %v", err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `$GALE_LISTEN: listen: bad address "nohost"`) {
		t.Fatalf("bad GALE_LISTEN: %v", err)
	}
}

// TestSetFastCGIWithoutUpstreams: GALE_FASTCGI (and -fastcgi) on a static
// configuration adds an upstream and a front controller at /.
func TestSetFastCGIWithoutUpstreams(t *testing.T) {
	c := Default()
	c.SetRoot(t.TempDir())
	if err := c.SetFastCGI("127.0.0.1:9000"); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	loc := c.VHosts[0].Locations[0]
	if loc.Prefix != "/" || loc.FastCGI.Upstream != "fastcgi" || loc.FastCGI.Mode != "front_controller" {
		t.Fatalf("location %+v %+v", loc, loc.FastCGI)
	}
	c.Upstreams["other"] = &Upstream{Backends: []string{"unix:/x"}}
	if err := c.SetFastCGI("127.0.0.1:9001"); err == nil {
		t.Fatal("two upstreams: GALE_FASTCGI should be ambiguous")
	}
}

// TestExampleConfig: the annotated example in examples/ is valid.
func TestExampleConfig(t *testing.T) {
	c, err := Load("../../examples/gale.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("examples/gale.yaml:\n%v", err)
	}
	if len(c.VHosts) != 2 || c.Upstreams["php_cgi"].Spawn.Count != 2 {
		t.Fatalf("example decoded as %+v", c)
	}
}

func TestSizes(t *testing.T) {
	for in, want := range map[string]Size{"0": 0, "512": 512, "4KiB": 4096, "4K": 4096, "10MB": 10 << 20, "1GiB": 1 << 30, "7 MiB": 7 << 20, "12B": 12} {
		var s Size
		if err := s.parse(in); err != nil || s != want {
			t.Errorf("%q: %d %v, want %d", in, s, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "1.5MiB", "MiB", "1TiB", "99999999999GiB"} {
		var s Size
		if err := s.parse(bad); err == nil {
			t.Errorf("%q accepted as %d", bad, s)
		}
	}
}

// TestErrorOrderWithoutPositions: errors with no place in a file (flags)
// come out in the same order every time.
func TestErrorOrderWithoutPositions(t *testing.T) {
	var first string
	for i := 0; i < 20; i++ {
		c := Default()
		c.Limits = Limits{}
		c.Cache = Cache{}
		err := c.Validate()
		if err == nil {
			t.Fatal("zero limits validated")
		}
		if i == 0 {
			first = err.Error()
		} else if err.Error() != first {
			t.Fatalf("order changed:\n%s\nthen\n%s", first, err)
		}
	}
}
