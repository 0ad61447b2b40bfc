//go:build !linux

package content

func pageOutValueLog(string) {}
