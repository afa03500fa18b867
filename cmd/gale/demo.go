package main

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed demo
var demoFS embed.FS

// extractDemo writes the embedded demo site into a fresh temporary
// directory, so it is served by the same static handler (cache, ETags,
// compression) as any other root. The caller removes the directory.
func extractDemo() (string, error) {
	dir, err := os.MkdirTemp("", "gale-demo-")
	if err != nil {
		return "", fmt.Errorf("demo site: %w", err)
	}
	sub, _ := fs.Sub(demoFS, "demo")
	if err := os.CopyFS(dir, sub); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("demo site: %w", err)
	}
	return filepath.Clean(dir), nil
}
