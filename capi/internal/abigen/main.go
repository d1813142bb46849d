// Command abigen writes every copy of the C ABI's facts from the one source,
// include/geomloss.h: the Go constants and tables of capi/internal/abi
// (abi_gen.go), the C tables of capi/state.c (capi/abi_gen.h), the Python
// (bindings/python/geomloss/_abi.py) and Julia (GeomLoss/src/abi.jl)
// constants, and the version lines of the Python and Julia manifests.
//
// The header is parsed, not compiled: enums are `typedef enum geomloss_x {
// ... } geomloss_x;` with one `GEOMLOSS_NAME = value` per enumerator and its
// comment just before it (or trailing on its line). A status's comment starts
// with its "description"; an option's with [int], [double] or [int, or
// string] geomloss_<enum>; a buffer key's with "name": [B][N][D] what.
// Value names are the lower-cased suffixes (GEOMLOSS_LOSS_SINKHORN →
// "sinkhorn").
//
// Run from anywhere in the repository: go generate ./capi (or
// go run ./capi/internal/abigen). The drift test (go test
// ./capi/internal/abigen) fails when a committed copy differs.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

func main() {
	root, err := repoRoot()
	if err == nil {
		err = write(root)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "abigen:", err)
		os.Exit(1)
	}
}

// write regenerates every file that differs.
func write(root string) error {
	files, err := Generate(root)
	if err != nil {
		return err
	}
	for _, path := range sortedKeys(files) {
		full := filepath.Join(root, path)
		if cur, err := os.ReadFile(full); err == nil && bytes.Equal(cur, files[path]) {
			continue
		}
		if err := os.WriteFile(full, files[path], 0o644); err != nil {
			return err
		}
		fmt.Println("abigen: wrote", path)
	}
	return nil
}

func sortedKeys(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// repoRoot is the nearest directory above the working directory holding
// include/geomloss.h and go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, headerFile)); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no repository root (with %s) above the working directory", headerFile)
		}
		dir = parent
	}
}
