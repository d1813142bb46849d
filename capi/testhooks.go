//go:build geomloss_testhooks

package main

import "fmt"

// Test builds only: panic on the sentinel value 7777 (see tests/c,
// GEOMLOSS_TEST_HOOKS).
func init() {
	testHook = func(where string, n int64) {
		if n == 7777 {
			panic(fmt.Sprintf("test hook in %s", where))
		}
	}
}
