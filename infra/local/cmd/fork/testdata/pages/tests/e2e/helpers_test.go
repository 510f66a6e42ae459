package e2e

import "testing"

func browser(t *testing.T) string { return "chromium" }

// readPage is a page helper: it calls browser.
func readPage(t *testing.T) string { return browser(t) }

// apiOnly calls nothing of the browser.
func apiOnly(t *testing.T) string { return "api" }
