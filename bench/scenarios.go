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
	if sc.Backend != "" {
		return []byte(helloBody)
	}
	for _, f := range docFiles {
		if f.Path == sc.Path {
			return docContent(f.Size)
		}
	}
	return nil
}
