// Package main stands in for a function's main package; the template rules only check that it exists.
package main

func main() {}
