package e2e

// Drives the page through playwright-core, inline.
