package e2e

import "testing"

func TestViaHelper(t *testing.T) { _ = readPage(t) }
