package e2e

import "testing"

func TestDirect(t *testing.T) { _ = browser(t) }
