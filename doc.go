// Package inferd is the root of the inferd module. It holds no code; its
// tests enforce the import rules between packages (deps_test.go).
// See docs/architecture.md for the package map.
package inferd
