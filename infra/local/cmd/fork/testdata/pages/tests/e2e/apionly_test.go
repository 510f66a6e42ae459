package e2e

import "testing"

// TestAPIOnly mentions browser in a comment and a string, "browser(t)", but calls no page helper.
func TestAPIOnly(t *testing.T) { _ = apiOnly(t) }
