package main

// testHook, set only in builds with the geomloss_testhooks tag (testhooks.go),
// lets build/test-c.sh make an export panic on purpose and check that the
// panic comes back as GEOMLOSS_ERR_INTERNAL. It is nil in release builds.
var testHook func(where string, n int64)

func hook(where string, n int64) {
	if testHook != nil {
		testHook(where, n)
	}
}
