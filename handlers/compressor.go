package handlers

// compressQueueLen bounds the entries waiting for compression. When it is
// full (a cold start touching thousands of files), an entry stays
// identity-only until it is filled again.
const compressQueueLen = 1024

// compressLater queues e for the background compressor without blocking.
func (s *Static) compressLater(e *entry) {
	select {
	case s.compressQ <- e:
	default:
	}
}

// compressor builds compressed variants one entry at a time, off the event
// loops: best-ratio gzip and zstd of a 1 MiB file take tens of milliseconds
// each (BenchmarkCompressVariants: about 40 and 55 ms for 1 MiB of Go
// source on the 2-core dev machine; less regular text costs zstd more),
// which on a loop would stall every connection it owns. Until the variants
// are published, hits serve identity, which is always correct.
func (s *Static) compressor() {
	defer s.wg.Done()
	for {
		select {
		case <-s.stop:
			return
		case e := <-s.compressQ:
			if s.cache.get([]byte(e.key)) != e {
				continue // dropped or replaced meanwhile
			}
			ne := e.withVariants()
			if s.watch != nil {
				s.watch.track(ne)
			}
			if !s.cache.replace(e, ne) {
				if s.watch != nil {
					s.watch.forget(ne)
				}
				ne.Release()
			}
		}
	}
}
