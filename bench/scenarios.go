package main

import (
	"fmt"
	"strings"
)

// Kind says how a scenario loads the server.
type Kind int

const (
	// KindWrk measures throughput, latency and CPU with wrk.
	KindWrk Kind = iota
	// KindIdle opens many idle keep-alive connections and measures RSS.
	KindIdle
	// KindSlow downloads a large file with many slow readers and measures RSS.
	KindSlow
	// KindLoris measures wrk's throughput alone and beside many connections
	// trickling request heads (slowloris).
	KindLoris
	// KindSlowRead measures the server's CPU while many connections wait
	// for a large response they never read, and wrk's throughput alone and
	// beside them.
	KindSlowRead
)

// Scenario is one named benchmark.
type Scenario struct {
	Name     string
	Desc     string
	Kind     Kind
	Path     string // URL path requested
	Pipeline int    // requests per write (wrk Lua script), 0 for one
	Backend  string // "php" or "go" for a FastCGI backend, "" for none
	// WSGI serves a Flask application with `gale wsgi` (gale runs the
	// workers); servers without a WSGI host of their own are n/a, and the
	// nginx+gunicorn and nginx+uwsgi stack rows run it instead.
	WSGI bool
	// CGI runs cgi-bin/hello.sh, a process per request.
	CGI bool
	// Peers, when set, are the only servers besides gale that run the
	// scenario; the others are n/a with NAWhy.
	Peers []string
	NAWhy string
	// Cache puts the backend behind the server's response cache, a 1 s
	// micro-cache of its 200s with a lock (collapsed forwarding), stale
	// while updating and background updates: nginx's fastcgi_cache
	// recipe, gale's cache: {ttl: 1s, stale_while_revalidate: 10s}.
	// Servers without a response cache are n/a.
	Cache bool
}

// allScenarios lists every scenario in report order.
var allScenarios = []Scenario{
	{Name: "static-612", Desc: "612 B file", Path: "/612.bin"},
	{Name: "static-4k", Desc: "4 KiB file", Path: "/4k.bin"},
	{Name: "static-64k", Desc: "64 KiB file", Path: "/64k.bin"},
	{Name: "static-1m", Desc: "1 MiB file", Path: "/1m.bin"},
	{Name: "pipeline-4k", Desc: "4 KiB file, 16 pipelined requests per write", Path: "/4k.bin", Pipeline: 16},
	{Name: "php-hello", Desc: "hello.php on php-fpm (pm=static, 4 children)", Path: helloURLPath, Backend: "php"},
	{Name: "fcgi-go", Desc: "Go net/http/fcgi hello backend", Path: helloURLPath, Backend: "go"},
	{Name: "wsgi-flask", Desc: "Flask hello on 4 workers run by gale wsgi (Debian's python3-flask); nginx+gunicorn, nginx+uwsgi: the same app, 4 processes", Path: wsgiURLPath, WSGI: true},
	{Name: "proxy-go", Desc: "Go net/http hello backend over HTTP/1.1 (reverse proxy, keep-alive where the server has it)", Path: proxyURLPath, Backend: backendGoHTTP},
	{Name: "gunicorn-flask", Desc: "Flask hello on gunicorn (4 sync workers), reverse proxy", Path: wsgiURLPath, Backend: backendGunicorn,
		Peers: []string{"nginx"}, NAWhy: "issue 13 compares gale -proxy with nginx here; proxy-go has every HTTP proxy"},
	{Name: "uwsgi-flask", Desc: "Flask hello on uWSGI (4 processes, uwsgi protocol on a unix socket)", Path: wsgiURLPath, Backend: backendUWSGI,
		Peers: []string{"nginx"}, NAWhy: "no uwsgi_pass-like client compared here (issue 14: gale vs nginx)"},
	{Name: "cgi-hello", Desc: "#!/bin/sh CGI script, a process per request", Path: cgiURLPath, CGI: true,
		Peers: []string{"lighttpd", "nginx+fcgiwrap"}, NAWhy: "no CGI of its own (nginx: see nginx+fcgiwrap)"},
	{Name: "cache-hit", Desc: "hello.php on php-fpm behind the response cache (1 s micro-cache: nearly all hits)", Path: helloURLPath, Backend: "php", Cache: true},
	{Name: "idle-10k", Desc: "10,000 idle keep-alive connections after one request each", Kind: KindIdle, Path: "/612.bin"},
	{Name: "slow-500", Desc: "500 slow readers of the 16 MiB file", Kind: KindSlow, Path: "/16m.bin"},
	{Name: "slowloris", Desc: "4 KiB file with wrk, alone and beside 1,000 connections trickling a header byte every 2 s", Kind: KindLoris, Path: "/4k.bin"},
	{Name: "slow-read-1000", Desc: "server CPU with 1,000 connections that requested the 16 MiB file and read nothing; 4 KiB file with wrk, alone and beside them", Kind: KindSlowRead, Path: "/4k.bin"},
}

// selectScenarios resolves a comma-separated list ("" or "all" = every one).
func selectScenarios(list string) ([]Scenario, error) {
	if list == "" || list == "all" {
		return allScenarios, nil
	}
	var out []Scenario
	for _, name := range strings.Split(list, ",") {
		sc, ok := scenarioByName(strings.TrimSpace(name))
		if !ok {
			return nil, fmt.Errorf("unknown scenario %q (have: %s)", name, scenarioNames())
		}
		out = append(out, sc)
	}
	return out, nil
}

func scenarioByName(name string) (Scenario, bool) {
	for _, sc := range allScenarios {
		if sc.Name == name {
			return sc, true
		}
	}
	return Scenario{}, false
}

func scenarioNames() string {
	names := make([]string, len(allScenarios))
	for i, sc := range allScenarios {
		names[i] = sc.Name
	}
	return strings.Join(names, ",")
}

// expectedBody is what a correct server answers for sc's path.
func expectedBody(sc Scenario) []byte {
	if sc.Backend != "" || sc.WSGI || sc.CGI {
		return []byte(helloBody)
	}
	for _, f := range docFiles {
		if f.Path == sc.Path {
			return docContent(f.Size)
		}
	}
	return nil
}

// proxyURLPath is what proxy-go requests (the backend answers any path).
const proxyURLPath = "/hello"

// runsHere reports why srv does not run sc ("" when it does): the scenario's
// peer list, WSGI hosting and the stack rows' backends.
func runsHere(sc Scenario, srv Server) string {
	name := srv.Name()
	if name == "gale" {
		return ""
	}
	if _, ok := srv.(stackServer); ok {
		return "" // its Runs already picked the scenario
	}
	if sc.WSGI {
		// nginx, lighttpd, h2o and Caddy host no Python: nginx+gunicorn and
		// nginx+uwsgi are the rows with an application server behind nginx.
		return "no WSGI host of its own (see nginx+gunicorn, nginx+uwsgi)"
	}
	if sc.Peers == nil {
		return ""
	}
	for _, p := range sc.Peers {
		if p == name {
			return ""
		}
	}
	return sc.NAWhy
}
