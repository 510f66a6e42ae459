package e2e

import "testing"

// readOps drives the page two calls down: readOps → readPage → browser.
func readOps(t *testing.T) string { return readPage(t) }

func TestDeeper(t *testing.T) { _ = readOps(t) }
