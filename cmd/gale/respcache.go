package main

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/internal/config"
)

// cachePolicy makes a location's response cache policy, creating the
// generation's response cache on first use (or keeping prev's, when its
// size did not change: a reload does not empty it).
func (g *generation) cachePolicy(cfg *config.Config, lc *config.LocationCache, prev *generation) *handlers.CachePolicy {
	if g.respCache == nil {
		fp := fingerprint([2]config.Size{cfg.Cache.Responses, cfg.Cache.MaxResponse})
		if prev.respCache != nil && prev.respCacheFP == fp {
			g.respCache = prev.respCache
		} else {
			g.respCache = handlers.NewRespCache(int64(cfg.Cache.Responses), int64(cfg.Cache.MaxResponse))
			if err := g.respCache.Err(); err != nil {
				g.log.Error("response cache: memory refused, some responses will not be cached", "size", int64(cfg.Cache.Responses), "err", err)
			}
		}
		g.respCacheFP = fp
	}
	return &handlers.CachePolicy{
		Cache:                g.respCache,
		TTL:                  lc.TTL.D(),
		StaleWhileRevalidate: lc.StaleWhileRevalidate.D(),
		StaleIfError:         lc.StaleIfError.D(),
		BypassCookies:        handlers.NewCacheBypass(lc.BypassCookies),
		TagHeader:            lc.TagHeader,
		LockTimeout:          lc.LockTimeout.D(),
		HitForMiss:           lc.HitForMiss.D(),
		CDNCacheControl:      lc.CDNCacheControl == nil || *lc.CDNCacheControl,
	}
}

// purge is POST /cache/purge on the admin listener. Exactly one of the
// form values url=, key=, prefix=, tag= or all=1 says what; soft=1 marks
// the entries stale instead of removing them. It answers with the number
// of entries purged ("all" for all=1).
func (a *admin) purge(w http.ResponseWriter, r *http.Request) {
	rc := a.respCache.Load()
	if rc == nil {
		http.Error(w, "no response cache is configured", http.StatusNotFound)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	soft := r.Form.Get("soft") == "1"
	kinds := 0
	for _, k := range []string{"url", "key", "prefix", "tag", "all"} {
		if r.Form.Has(k) {
			kinds++
		}
	}
	if kinds != 1 {
		http.Error(w, "want exactly one of url=, key=, prefix=, tag=, all=1", http.StatusBadRequest)
		return
	}
	n := 0
	switch {
	case r.Form.Has("url"):
		var err error
		if n, err = rc.PurgeURL(r.Form.Get("url"), soft); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	case r.Form.Has("key"):
		n = rc.PurgeKey(r.Form.Get("key"), soft)
	case r.Form.Has("prefix") && r.Form.Get("prefix") != "":
		n = rc.PurgePrefix(r.Form.Get("prefix"), soft)
	case r.Form.Has("tag") && r.Form.Get("tag") != "":
		n = rc.PurgeTag(r.Form.Get("tag"), soft)
	case r.Form.Get("all") == "1":
		rc.PurgeAll(soft)
		fmt.Fprintln(w, "purged all")
		return
	default:
		http.Error(w, "empty prefix or tag, or all= other than 1", http.StatusBadRequest)
		return
	}
	fmt.Fprintln(w, "purged "+strconv.Itoa(n))
}

// cacheCollector reports the response cache's metrics.
type cacheCollector struct{ a *admin }

var (
	descRCLookups   = prometheus.NewDesc("gale_response_cache_lookups_total", "Response cache lookups by result.", []string{"result"}, nil)
	descRCCollapsed = prometheus.NewDesc("gale_response_cache_collapsed_total", "Requests that waited for another request's fetch of their key.", nil, nil)
	descRCStale     = prometheus.NewDesc("gale_response_cache_stale_served_total", "Stale responses served (stale-while-revalidate, stale-if-error).", nil, nil)
	descRCStored    = prometheus.NewDesc("gale_response_cache_stored_total", "Responses stored.", nil, nil)
	descRCPurged    = prometheus.NewDesc("gale_response_cache_purged_total", "Entries purged or invalidated by the admin listener.", nil, nil)
	descRCEvictions = prometheus.NewDesc("gale_response_cache_evictions_total", "Entries evicted for room.", nil, nil)
	descRCBytes     = prometheus.NewDesc("gale_response_cache_bytes", "Memory the response cache holds outside the Go heap: pages, slots, index, and evicted pages still being sent.", nil, nil)
	descRCEntries   = prometheus.NewDesc("gale_response_cache_entries", "Entries in the response cache.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRCLookups, descRCCollapsed, descRCStale, descRCStored, descRCPurged, descRCEvictions, descRCBytes, descRCEntries} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	rc := c.a.respCache.Load()
	if rc == nil {
		return
	}
	s := &rc.Stats
	for _, r := range []struct {
		name string
		n    uint64
	}{{"hit", s.Hit.Load()}, {"miss", s.Miss.Load()}, {"stale", s.Stale.Load()}, {"updating", s.Updating.Load()},
		{"revalidated", s.Revalidated.Load()}, {"bypass", s.Bypass.Load()}, {"uncacheable", s.Uncacheable.Load()},
		{"only_if_cached", s.OnlyIfCached.Load()}} {
		ch <- prometheus.MustNewConstMetric(descRCLookups, prometheus.CounterValue, float64(r.n), r.name)
	}
	ch <- prometheus.MustNewConstMetric(descRCCollapsed, prometheus.CounterValue, float64(s.Collapsed.Load()))
	ch <- prometheus.MustNewConstMetric(descRCStale, prometheus.CounterValue, float64(s.StaleServed.Load()))
	ch <- prometheus.MustNewConstMetric(descRCStored, prometheus.CounterValue, float64(s.Stored.Load()))
	ch <- prometheus.MustNewConstMetric(descRCPurged, prometheus.CounterValue, float64(s.Purged.Load()))
	bytes, entries, ev := rc.Usage()
	ch <- prometheus.MustNewConstMetric(descRCEvictions, prometheus.CounterValue, float64(ev))
	ch <- prometheus.MustNewConstMetric(descRCBytes, prometheus.GaugeValue, float64(bytes))
	ch <- prometheus.MustNewConstMetric(descRCEntries, prometheus.GaugeValue, float64(entries))
}
