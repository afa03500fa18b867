package reactor

// skipBody steps over the body of l.req at the start of p when all of it is
// there, validating chunked framing on the way, so the next pipelined
// request starts exactly where the parser says this body ends. done is
// false when the body has not fully arrived; n is then meaningless.
func (l *loop) skipBody(p []byte) (n int, done bool, err error) {
	req := &l.req
	if !req.Chunked {
		if int64(len(p)) < req.ContentLength {
			return 0, false, nil
		}
		return int(req.ContentLength), true, nil
	}
	d := &l.chunked
	d.Reset(&l.parser.Limits)
	for {
		k, _, err := d.Decode(p[n:])
		n += k
		switch {
		case err != nil:
			return n, false, err
		case d.Done():
			return n, true, nil
		case k == 0:
			return 0, false, nil
		}
	}
}
