package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gale-http/gale/internal/config"
)

// wsgiPipeline is how many requests a worker's connection may carry by
// default (the upstream's Pipeline): a Python worker that finds its next
// request in its socket does not sleep, and a sleep and a wakeup cost it
// more than a small request's own work. Beyond the second, a request waits
// there only while the ones ahead would end within the pipeline window.
const wsgiPipeline = 8

// wsgiCommand is `gale wsgi MODULE:CALLABLE`: the application and its
// static files, what the flags of the subcommand say.
type wsgiCommand struct {
	w        config.WSGI
	static   []config.StaticMount
	timeout  time.Duration
	queue    time.Duration
	pipeline int
}

// staticFlags collects the repeatable -static flag.
type staticFlags []config.StaticMount

func (s *staticFlags) String() string {
	var parts []string
	for _, m := range *s {
		parts = append(parts, m.Prefix+"="+m.Dir)
	}
	return strings.Join(parts, ",")
}

func (s *staticFlags) Set(v string) error {
	m, err := config.ParseStaticMount(v)
	if err != nil {
		return err
	}
	*s = append(*s, m)
	return nil
}

const wsgiUsage = `usage: gale wsgi [flags] MODULE:CALLABLE

Serves a Python WSGI application (Django, Flask, ...) and its static files:
gale runs the workers itself (no gunicorn, no uWSGI) and is the front
server (no nginx). A static/ directory beside the application is served at
/static/ unless -static says otherwise. SIGHUP replaces the workers.

  gale wsgi mysite.wsgi:application
  gale wsgi -reload -static /media/=./media app:app

flags:
`

// runWSGI is `gale wsgi`.
func runWSGI(args []string) error {
	o := &options{}
	c := &wsgiCommand{}
	var static staticFlags
	fs := flag.NewFlagSet("gale wsgi", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), wsgiUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.listen, "listen", ":8080", "listen address, host:port")
	fs.IntVar(&c.w.Workers, "workers", 0, "worker processes (default: one per CPU)")
	fs.BoolVar(&c.w.Reload, "reload", false, "replace the workers when a *.py file below -dir changes (development)")
	fs.StringVar(&c.w.Python, "python", "", "the interpreter (default: $VIRTUAL_ENV/bin/python, else python3)")
	fs.StringVar(&c.w.Dir, "dir", ".", "the application's directory: first on sys.path, the workers' working directory")
	fs.IntVar(&c.w.MaxRequests, "max-requests", 0, "replace a worker after this many requests, plus up to 10% jitter (0: never)")
	var maxRSS string
	fs.StringVar(&maxRSS, "max-rss", "0", "replace a worker whose resident memory grows above this, e.g. 512MiB (0: no limit)")
	fs.DurationVar(&c.timeout, "timeout", 60*time.Second, "a request with no answer for this long gets 504 and its worker is killed and replaced")
	fs.DurationVar(&c.queue, "queue-timeout", 10*time.Second, "a request that waits this long for a free worker gets 503")
	fs.IntVar(&c.pipeline, "pipeline", wsgiPipeline, "requests a worker's connection may carry when every worker is busy: a GET or HEAD waits in its socket instead of gale's queue, behind a request begun less than 20ms ago and, from the third on, only while the ones ahead average under 20ms in all (1: off)")
	fs.Var(&static, "static", "serve a URL prefix from a directory, /prefix/=dir (repeatable; default /static/=./static when it exists)")
	fs.StringVar(&o.admin, "admin", "", "admin listener for /metrics, /healthz, /readyz, host:port")
	fs.StringVar(&o.accessLog, "access-log", "", "access log: a file, \"-\" or \"stdout\" (default: none)")
	fs.StringVar(&o.logLevel, "log-level", "info", "error log level: debug, info, warn, error")
	fs.IntVar(&o.loops, "loops", 0, "number of event loops (default: one per CPU)")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 30*time.Second, "on SIGTERM/SIGINT, how long in-flight requests may take")
	err := fs.Parse(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("gale wsgi: name the application, MODULE:CALLABLE")
	}
	c.w.App = fs.Arg(0)
	if c.w.MaxRSS, err = config.ParseSize(maxRSS); err != nil {
		return fmt.Errorf("-max-rss: %w", err)
	}
	// The flags gale's own options share; the rest are the subcommand's
	// (its -max-requests is a worker's, not a client connection's).
	shared := map[string]bool{"listen": true, "admin": true, "access-log": true, "log-level": true, "loops": true, "shutdown-timeout": true}
	set, given := map[string]bool{}, map[string]bool{}
	fs.Visit(func(f *flag.Flag) {
		given[f.Name] = true
		if shared[f.Name] {
			set[f.Name] = true
		}
	})
	c.static = static
	if !given["static"] {
		if st, err := os.Stat(filepath.Join(c.w.Dir, "static")); err == nil && st.IsDir() {
			c.static = append(c.static, config.StaticMount{Prefix: "/static/", Dir: filepath.Join(c.w.Dir, "static")})
		}
	}
	st := &state{o: o, set: set, wsgi: c}
	defer st.cleanup()
	cfg, err := st.loadConfig()
	if err != nil {
		var errs config.Errors
		if errors.As(err, &errs) && len(errs) > 1 {
			fmt.Fprintln(os.Stderr, err)
			return errExit
		}
		return err
	}
	return st.serve(cfg)
}

// apply adds the application to cfg.
func (c *wsgiCommand) apply(cfg *config.Config) {
	w := c.w
	cfg.AddWSGI(&w, c.static)
	u := cfg.Upstreams["app"]
	u.Timeouts.Read = config.Duration(c.timeout)
	u.Timeouts.Queue = config.Duration(c.queue)
	u.Pipeline = c.pipeline
}
