package main

import (
	"bytes"
	"fmt"
	"go/format"
	"regexp"
	"strings"
)

// modulePath is the form of a Go module path a fork may take: slash-separated elements of
// letters, digits and ._~- (the characters module paths allow).
var modulePath = regexp.MustCompile(`^[A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*$`)

// checkModulePath refuses a module path go would refuse.
func checkModulePath(path string) error {
	if !modulePath.MatchString(path) || strings.HasPrefix(path, ".") || strings.Contains(path, "..") {
		return fmt.Errorf("module path %q: want slash-separated names such as example.com/jobs", path)
	}
	return nil
}

// rewriteModule replaces the module path from with to wherever data names it as a module path:
// alone or as the start of a package path (from + "/..."). An occurrence inside a URL (after a
// "/", as in https://github.com/...) names the upstream repository, not a module, and is kept, and
// so is one that is only the start of a longer name (from + "-extra").
func rewriteModule(data []byte, from, to string) []byte {
	old := []byte(from)
	if from == to || !bytes.Contains(data, old) {
		return data
	}
	var out bytes.Buffer
	for {
		i := bytes.Index(data, old)
		if i < 0 {
			out.Write(data)
			return out.Bytes()
		}
		end := i + len(old)
		inURL := i > 0 && data[i-1] == '/'
		longer := end < len(data) && isNameByte(data[end])
		out.Write(data[:i])
		if inURL || longer {
			out.Write(old)
		} else {
			out.WriteString(to)
		}
		data = data[end:]
	}
}

// isNameByte reports whether b can continue a path element.
func isNameByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '-'
}

// rewriteGoModule is rewriteModule for a Go source file, formatted afterwards: the new path may
// sort differently among the imports, and gofmt keeps import blocks sorted.
func rewriteGoModule(src []byte, from, to string) ([]byte, error) {
	out := rewriteModule(src, from, to)
	if bytes.Equal(out, src) {
		return src, nil
	}
	formatted, err := format.Source(out)
	if err != nil {
		return nil, fmt.Errorf("gofmt after rewriting the module path: %w", err)
	}
	return formatted, nil
}
