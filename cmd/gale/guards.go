package main

import (
	"github.com/gale-http/gale/handlers"
	"github.com/gale-http/gale/internal/config"
)

// withGuards adds a location's protections to h (its handler, maybe
// already wrapped in its rules): rate limit, basic auth, body limit, error
// pages and compression of the application's responses. A location
// without any gets h back as it is, at no cost per request.
func withGuards(cfg *config.Config, vh *config.VHost, loc *config.Location, rt *handlers.Router, h handlers.Handler) (handlers.Handler, error) {
	l, ok := h.(*handlers.Location)
	if !ok {
		l = &handlers.Location{Handler: h}
	}
	guarded := false
	if lr := loc.LimitReq; lr != nil {
		rate, err := config.ParseRate(lr.Rate)
		if err != nil {
			return nil, err
		}
		l.Limit = handlers.NewRateLimit(rate, lr.Burst, lr.Slots, lr.Status)
		l.Limit.NoDelay = lr.NoDelay
		guarded = true
	}
	if a := loc.Auth; a != nil {
		var err error
		if l.Auth, err = handlers.LoadBasicAuth(a.Realm, a.UserFile); err != nil {
			return nil, err
		}
		guarded = true
	}
	// The parser takes the largest body any location allows; every
	// location allowing less checks its own.
	if limit := bodyLimit(cfg, loc); limit < cfg.MaxBodyCeiling() {
		l.MaxBody = limit
		guarded = true
	}
	pages := loc.ErrorPages
	if pages == nil {
		pages = vh.ErrorPages
	}
	if len(pages) > 0 {
		m, err := config.ErrorPageMap(pages)
		if err != nil {
			return nil, err
		}
		l.Errors = handlers.NewErrorPages(m, rt.Internal())
		l.Errors.App = rt
		guarded = true
	}
	if dc := dynCompress(vh, loc); dc != nil {
		l.Compress = dc
		guarded = true
	}
	if !guarded {
		return h, nil
	}
	return l, nil
}

// bodyLimit is the largest request body a location takes.
func bodyLimit(cfg *config.Config, loc *config.Location) int64 {
	if loc.MaxBody > 0 {
		return int64(loc.MaxBody)
	}
	return int64(cfg.Limits.MaxBody)
}

// dynCompress is the compression of a location's application responses,
// nil when it has none (or serves no application).
func dynCompress(vh *config.VHost, loc *config.Location) *handlers.DynCompress {
	c := loc.Compress
	if c == nil {
		c = vh.Compress
	}
	if c == nil || !c.Enabled || (loc.FastCGI == nil && loc.Proxy == nil && loc.CGI == nil) {
		return nil
	}
	dc := &handlers.DynCompress{Types: c.Types, MinLength: int64(c.MinLength)}
	if len(dc.Types) == 0 {
		dc.Types = handlers.CompressibleTypes()
	}
	for _, cd := range c.Codings {
		switch cd {
		case "gzip":
			dc.Gzip = true
		case "zstd":
			dc.Zstd = true
		}
	}
	return dc
}
