package cgi

import "bytes"

// SplitScript splits a request path at the first segment that ends in ext
// (".php"): "/index.php/users/7" gives "/index.php" and "/users/7", the
// front-controller convention. The match must end the path or be followed
// by '/', so "/a.phpx/b" is not split. Without a match, script is path and
// pathInfo is nil. Both results are views into path.
func SplitScript(path []byte, ext string) (script, pathInfo []byte) {
	if ext == "" {
		return path, nil
	}
	for off := 0; ; {
		i := bytes.Index(path[off:], []byte(ext))
		if i < 0 {
			return path, nil
		}
		end := off + i + len(ext)
		if end == len(path) {
			return path, nil
		}
		if path[end] == '/' {
			return path[:end:end], path[end:]
		}
		off += i + 1
	}
}
