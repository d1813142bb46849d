package goldentest

import "testing"

// Array is a golden array: its shape and row-major data (non-finite values
// decoded from the file's "NaN", "Infinity", "-Infinity" strings).
type Array = goldenArray

// ImageCase is one public golden image case (GeomLoss 0.2.6's
// sinkhorn_images.sinkhorn_divergence in float64; schema in
// testdata/README.md, "images"): Dim-dimensional grids of side N, B pairs of
// densities, the parameters given to the reference (nil: its default) and
// its result (Status "error" where it raises).
type ImageCase struct {
	ID     string
	Tags   []string
	Params struct {
		P          int
		Blur       *float64
		Reach      *float64
		Scaling    float64
		Debias     bool
		Potentials bool
	}
	Dim, B, N int
	Inputs    struct{ A, B Array }
	Cotangent map[string]Array
	Result    struct {
		Status string
		Value  *Array
		F, G   *Array
		Grad   map[string]*Array
	}
}

// Images returns the golden image cases, read once with the sample cases
// (loadGolden); a missing file or an empty list fails the test.
func Images(t testing.TB) []ImageCase {
	loadFile()
	if golden.err != nil {
		t.Fatalf("golden data: %v (set GEOMLOSS_GOLDEN)", golden.err)
	}
	if len(golden.images) == 0 {
		t.Fatal("golden data has no image cases")
	}
	return golden.images
}
