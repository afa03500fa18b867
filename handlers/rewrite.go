package handlers

import (
	"bytes"
	"errors"
	"regexp"

	"github.com/gale-http/gale/httpcodec"
)

// AddRewrite appends an internal rewrite rule (nginx rewrite ... last, in
// server context): a request whose decoded path matches match is served
// as if it had asked for to, built as a redirect target is ($1..$9
// percent-encoded, $uri, $args and the others), without the client
// seeing it: DokuWiki's "^/_media/(.*)$" to
// "/lib/exe/fetch.php?media=$1". As in nginx, a target with a query keeps
// the request's own after it ("?a=1" then "&" and the original), one that
// ends in '?' drops it, and one without '?' keeps the original query.
// REQUEST_URI stays what the client sent; the path (routing, files,
// SCRIPT_NAME, DOCUMENT_URI) and QUERY_STRING are the rewritten ones. The
// rewritten path is normalized again (a capture may hold dots), and one
// that climbs above the root is a 400. Rules, redirects and rewrites,
// are tried in the order added and the first that matches wins: a
// rewritten request is not rewritten again.
func (rd *Redirects) AddRewrite(match, to string) error {
	re, err := regexp.Compile(match)
	if err != nil {
		return err
	}
	parts, err := parseTemplate(to, re.NumSubexp())
	if err != nil {
		return err
	}
	if first := parts[0]; !(first.lit != "" && first.lit[0] == '/' || first.v == varURI) {
		return errRewriteTarget
	}
	literal, _ := re.LiteralPrefix()
	if len(match) == 0 || match[0] != '^' {
		literal = ""
	}
	rd.rules = append(rd.rules, redirectRule{re: re, literal: literal, to: parts, nsub: re.NumSubexp()})
	return nil
}

var errRewriteTarget = errors.New("a rewrite target is a local path: it starts with '/' or $uri")

// CheckRewrite reports what is wrong with a rewrite rule, if anything.
func CheckRewrite(match, to string) error {
	var rd Redirects
	return rd.AddRewrite(match, to)
}

// rewrite serves req as r's target: the path and query are replaced by
// views into ctx.Scratch (valid until the reactor has used the request),
// and the route of an upstream response carries them, since a request
// whose body comes later has its head encoded from the bytes the client
// sent.
func (rd *Redirects) rewrite(ctx *Ctx, req *httpcodec.Request, resp *Response, r *redirectRule) {
	var caps []int
	if r.nsub > 0 {
		caps = r.re.FindSubmatchIndex(req.Path)
	}
	start := len(ctx.Scratch)
	b := rd.appendTarget(ctx.Scratch, req, r, caps)
	target := b[start:]
	rawPath, query, hasQuery := bytes.Cut(target, []byte{'?'})
	pathAt := len(b)
	b, err := httpcodec.NormalizePath(b, rawPath)
	ctx.Scratch = b
	if err != nil {
		errorFor(ctx, req, resp, 400)
		return
	}
	path := b[pathAt:len(b):len(b)]
	switch {
	case !hasQuery:
		query = req.Query
	case len(query) == 0:
		query = nil // "/x?": no query, not even the original
	case query[len(query)-1] == '?':
		query = query[:len(query)-1] // "/x?a=1?": the original dropped
	case len(req.Query) > 0:
		qAt := len(b)
		b = append(append(append(b, query...), '&'), req.Query...)
		query = b[qAt:len(b):len(b)]
	}
	ctx.Scratch = b
	req.Path, req.Query = path, query
	rd.Next.Serve(ctx, req, resp)
	if u := resp.Upstream; u != nil {
		// An HTTP backend gets the rewritten target, as from nginx.
		tAt := len(ctx.Scratch)
		b = appendEscapedPath(ctx.Scratch, path)
		if query != nil {
			b = append(append(b, '?'), query...)
		}
		ctx.Scratch = b
		u.Rewritten, u.Path, u.Query, u.Target = true, path, query, b[tAt:len(b):len(b)]
	}
}

// appendTarget appends r's target for req: literals, captures
// percent-encoded, variables.
func (rd *Redirects) appendTarget(b []byte, req *httpcodec.Request, r *redirectRule, caps []int) []byte {
	for _, p := range r.to {
		switch {
		case p.lit != "":
			b = append(b, p.lit...)
		case p.capture > 0:
			if k := 2 * p.capture; k+1 < len(caps) && caps[k] >= 0 {
				b = appendEscapedPath(b, req.Path[caps[k]:caps[k+1]])
			}
		default:
			b = rd.appendVar(b, req, p.v)
		}
	}
	return b
}
