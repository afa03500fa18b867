package handlers

import "strings"

// mimeType describes what the static handler needs to know about a type.
type mimeType struct {
	ctype string
	// compressible is false for formats that are already compressed
	// (images, video, archives, woff2): recompressing them wastes CPU.
	compressible bool
}

// octetStream is the type of every unknown extension.
var octetStream = mimeType{"application/octet-stream", false}

// mimeTypes maps a lower-case extension (with the dot) to its type. Text
// types carry "; charset=utf-8" since gale serves UTF-8 sites.
var mimeTypes = map[string]mimeType{
	".html":        {"text/html; charset=utf-8", true},
	".htm":         {"text/html; charset=utf-8", true},
	".css":         {"text/css; charset=utf-8", true},
	".js":          {"text/javascript; charset=utf-8", true},
	".mjs":         {"text/javascript; charset=utf-8", true},
	".json":        {"application/json", true},
	".map":         {"application/json", true},
	".webmanifest": {"application/manifest+json", true},
	".xml":         {"application/xml", true},
	".rss":         {"application/rss+xml", true},
	".atom":        {"application/atom+xml", true},
	".txt":         {"text/plain; charset=utf-8", true},
	".md":          {"text/markdown; charset=utf-8", true},
	".csv":         {"text/csv; charset=utf-8", true},
	".svg":         {"image/svg+xml", true},
	".ico":         {"image/x-icon", true},
	".wasm":        {"application/wasm", true},
	".pdf":         {"application/pdf", false},
	".png":         {"image/png", false},
	".jpg":         {"image/jpeg", false},
	".jpeg":        {"image/jpeg", false},
	".gif":         {"image/gif", false},
	".webp":        {"image/webp", false},
	".avif":        {"image/avif", false},
	".mp4":         {"video/mp4", false},
	".webm":        {"video/webm", false},
	".mp3":         {"audio/mpeg", false},
	".ogg":         {"audio/ogg", false},
	".woff":        {"font/woff", false},
	".woff2":       {"font/woff2", false},
	".ttf":         {"font/ttf", true},
	".otf":         {"font/otf", true},
	".zip":         {"application/zip", false},
	".gz":          {"application/gzip", false},
	".zst":         {"application/zstd", false},
	".br":          {"application/octet-stream", false},
	".tar":         {"application/x-tar", true},
}

// mimeByName returns the type of a file name by its extension.
func mimeByName(name string) mimeType {
	dot := strings.LastIndexByte(name, '.')
	if dot < 0 || strings.IndexByte(name[dot:], '/') >= 0 {
		return octetStream
	}
	ext := name[dot:]
	if t, ok := mimeTypes[ext]; ok {
		return t
	}
	if t, ok := mimeTypes[strings.ToLower(ext)]; ok {
		return t
	}
	return octetStream
}
