/* C tests of the cluster labels (GEOMLOSS_BUF_LABELS_X, _LABELS_Y: int64_t
 * whatever the dtype): with truncate=None the labelled multiscale run is the
 * online one (to 1e-10, f64); other integer values with the same partition
 * give the same result (bit for bit when they keep the labels' order, to
 * rounding when they do not: the clusters are summed in another order); float32 agrees with float64; a batch
 * (B = 2, one label array per item) is its items evaluated alone; the
 * labels are not modified; wrong counts, one side only, a backend that
 * cannot use them, and the grid and OT entries refuse them naming the
 * buffer. Included by test_geomloss.c (its CHECK macros and data helpers;
 * test_labels() is called from its main); strict C99. */

enum { LN = 60, LM = 70, LD = 4 };

/* Evaluates with labels (lx, ly may be NULL) in dtype, B items: value and
 * grad_x (f64 arrays; the f32 call converts). */
static int labels_eval(const geomloss_options *o, int dtype, int64_t B, const double *x,
                       const double *y, const int64_t *lx, int64_t nlx, const int64_t *ly,
                       int64_t nly, double *value, double *gx) {
  geomloss_buffers *bufs = geomloss_buffers_create();
  int st, i;
  float *xf = NULL, *yf = NULL, *vf = NULL, *gf = NULL;
  if (dtype == GEOMLOSS_F32) {
    xf = (float *)calloc((size_t)(B * LN * LD), sizeof(float));
    yf = (float *)calloc((size_t)(B * LM * LD), sizeof(float));
    vf = (float *)calloc((size_t)B, sizeof(float));
    gf = (float *)calloc((size_t)(B * LN * LD), sizeof(float));
    if (!xf || !yf || !vf || !gf) abort();
    to_f32(xf, x, (size_t)(B * LN * LD));
    to_f32(yf, y, (size_t)(B * LM * LD));
    geomloss_buffers_set(bufs, GEOMLOSS_BUF_X, xf, B * LN * LD);
    geomloss_buffers_set(bufs, GEOMLOSS_BUF_Y, yf, B * LM * LD);
    geomloss_buffers_set(bufs, GEOMLOSS_BUF_VALUE, vf, B);
    geomloss_buffers_set(bufs, GEOMLOSS_BUF_GRAD_X, gf, B * LN * LD);
  } else {
    geomloss_buffers_set(bufs, GEOMLOSS_BUF_X, (void *)x, B * LN * LD);
    geomloss_buffers_set(bufs, GEOMLOSS_BUF_Y, (void *)y, B * LM * LD);
    geomloss_buffers_set(bufs, GEOMLOSS_BUF_VALUE, value, B);
    geomloss_buffers_set(bufs, GEOMLOSS_BUF_GRAD_X, gx, B * LN * LD);
  }
  if (lx) geomloss_buffers_set(bufs, GEOMLOSS_BUF_LABELS_X, (void *)lx, nlx);
  if (ly) geomloss_buffers_set(bufs, GEOMLOSS_BUF_LABELS_Y, (void *)ly, nly);
  st = geomloss_eval(o, dtype, B, LN, LM, LD, bufs);
  if (dtype == GEOMLOSS_F32 && st == GEOMLOSS_OK) {
    for (i = 0; i < B; i++) value[i] = vf[i];
    for (i = 0; i < B * LN * LD; i++) gx[i] = gf[i];
  }
  free(xf);
  free(yf);
  free(vf);
  free(gf);
  geomloss_buffers_destroy(bufs);
  return st;
}

static double max_abs_diff(const double *a, const double *b, int n) {
  double m = 0;
  int i;
  for (i = 0; i < n; i++)
    if (fabs(a[i] - b[i]) > m) m = fabs(a[i] - b[i]);
  return m;
}

static void test_labels(void) {
  double *x = dalloc(2 * LN * LD), *y = dalloc(2 * LM * LD);
  double *gx = dalloc(2 * LN * LD), *gon = dalloc(LN * LD), *g2 = dalloc(2 * LN * LD);
  double v[2] = {0, 0}, von = 0, v2[2] = {0, 0};
  int64_t lx[2 * LN], ly[2 * LM], lx2[LN], ly2[LM], lx3[LN], lx0[2 * LN];
  geomloss_options *o = geomloss_options_create();
  int i, b, same;
  fill_unif(x, 2 * LN * LD, 31);
  fill_unif(y, 2 * LM * LD, 32);
  for (i = 0; i < 2 * LM * LD; i++) y[i] = 0.8 * y[i] + 0.3;
  for (i = 0; i < 2 * LN; i++) lx[i] = (int64_t)((i * 7) % 5) * 1000 - 2000;
  for (i = 0; i < 2 * LM; i++) ly[i] = (int64_t)((i * 3) % 4) - 9;
  for (i = 0; i < LN; i++) lx2[i] = 3 * lx[i] + ((int64_t)1 << 50); /* same partition, order */
  for (i = 0; i < LM; i++) ly2[i] = INT64_MIN + (ly[i] + 9);
  for (i = 0; i < LN; i++) lx3[i] = -lx[i] - 7; /* same partition, reversed */
  memcpy(lx0, lx, sizeof lx);
  geomloss_options_set_double(o, GEOMLOSS_OPT_BLUR, 0.1);
  geomloss_options_set_double(o, GEOMLOSS_OPT_DIAMETER, 2.0);
  geomloss_options_set_double(o, GEOMLOSS_OPT_TRUNCATE, INFINITY);

  /* labelled multiscale with truncate=None = online */
  CHECK_STATUS(labels_eval(o, GEOMLOSS_F64, 1, x, y, lx, LN, ly, LM, v, gx), GEOMLOSS_OK, "");
  CHECK(geomloss_last_backend() == GEOMLOSS_BACKEND_MULTISCALE, "labels ran backend %d, want multiscale",
        geomloss_last_backend());
  geomloss_options_set_int(o, GEOMLOSS_OPT_BACKEND, GEOMLOSS_BACKEND_ONLINE);
  CHECK_STATUS(labels_eval(o, GEOMLOSS_F64, 1, x, y, NULL, 0, NULL, 0, &von, gon), GEOMLOSS_OK, "");
  geomloss_options_set_int(o, GEOMLOSS_OPT_BACKEND, GEOMLOSS_BACKEND_MULTISCALE);
  CHECK(v[0] > 0 && fabs(v[0] - von) <= 1e-10 * fabs(von), "labelled %.17g vs online %.17g", v[0], von);
  CHECK(max_abs_diff(gx, gon, LN * LD) <= 1e-10, "labelled vs online grad_x: %g", max_abs_diff(gx, gon, LN * LD));

  /* other integers, same partition: bit for bit in the same order */
  CHECK_STATUS(labels_eval(o, GEOMLOSS_F64, 1, x, y, lx2, LN, ly2, LM, v2, g2), GEOMLOSS_OK, "");
  CHECK(v2[0] == v[0] && max_abs_diff(g2, gx, LN * LD) == 0, "relabelled: %.17g vs %.17g", v2[0], v[0]);
  CHECK_STATUS(labels_eval(o, GEOMLOSS_F64, 1, x, y, lx3, LN, ly, LM, v2, g2), GEOMLOSS_OK, "");
  CHECK(fabs(v2[0] - v[0]) <= 1e-13 * v[0] && max_abs_diff(g2, gx, LN * LD) <= 1e-13,
        "relabelled in reverse: %.17g vs %.17g", v2[0], v[0]);

  /* float32 agrees with float64 */
  CHECK_STATUS(labels_eval(o, GEOMLOSS_F32, 1, x, y, lx, LN, ly, LM, v2, g2), GEOMLOSS_OK, "");
  CHECK(geomloss_last_backend() == GEOMLOSS_BACKEND_MULTISCALE, "f32 labels ran backend %d", geomloss_last_backend());
  CHECK(fabs(v2[0] - v[0]) <= 1e-5 * fabs(v[0]), "f32 %.9g vs f64 %.9g", v2[0], v[0]);
  CHECK(max_abs_diff(g2, gx, LN * LD) <= 1e-5, "f32 vs f64 grad_x: %g", max_abs_diff(g2, gx, LN * LD));

  /* a batch of two is its items alone, bit for bit (default truncation) */
  geomloss_options_reset(o, GEOMLOSS_OPT_TRUNCATE);
  CHECK_STATUS(labels_eval(o, GEOMLOSS_F64, 2, x, y, lx, 2 * LN, ly, 2 * LM, v2, g2), GEOMLOSS_OK, "");
  for (b = 0; b < 2; b++) {
    double vb = 0;
    CHECK_STATUS(labels_eval(o, GEOMLOSS_F64, 1, x + b * LN * LD, y + b * LM * LD, lx + b * LN, LN,
                             ly + b * LM, LM, &vb, gx),
                 GEOMLOSS_OK, "");
    same = vb == v2[b] && max_abs_diff(gx, g2 + b * LN * LD, LN * LD) == 0;
    CHECK(same, "batch item %d: %.17g batched, %.17g alone", b, v2[b], vb);
  }
  CHECK(memcmp(lx, lx0, sizeof lx) == 0, "labels_x was modified");

  /* refusals, naming the buffer; no output written */
  v[0] = v[1] = 42;
  CHECK_STATUS(labels_eval(o, GEOMLOSS_F64, 1, x, y, lx, LN - 1, ly, LM, v, gx), GEOMLOSS_ERR_SHAPE,
               "labels_x has 59 elements, needs 60 (B×N = 1×60)");
  CHECK_STATUS(labels_eval(o, GEOMLOSS_F32, 1, x, y, lx, LN, ly, LM + 1, v, gx), GEOMLOSS_ERR_SHAPE,
               "labels_y has 71 elements, needs 70 (B×M = 1×70)");
  CHECK_STATUS(labels_eval(o, GEOMLOSS_F64, 2, x, y, lx, LN, ly, 2 * LM, v, g2), GEOMLOSS_ERR_SHAPE,
               "labels_x has 60 elements, needs 120 (B×N = 2×60)");
  CHECK_STATUS(labels_eval(o, GEOMLOSS_F64, 1, x, y, lx, LN, NULL, 0, v, gx), GEOMLOSS_ERR_INVALID_ARGUMENT,
               "labels");
  geomloss_options_set_int(o, GEOMLOSS_OPT_BACKEND, GEOMLOSS_BACKEND_ONLINE);
  CHECK_STATUS(labels_eval(o, GEOMLOSS_F64, 1, x, y, lx, LN, ly, LM, v, gx), GEOMLOSS_ERR_INVALID_OPTION,
               "backend");
  CHECK(v[0] == 42 && v[1] == 42, "value written on error: %g %g", v[0], v[1]);
  {
    geomloss_buffers *bufs = geomloss_buffers_create();
    double a[16], bb[16], val = 42;
    int64_t shape[2] = {4, 4};
    for (i = 0; i < 16; i++) a[i] = bb[i] = 1.0 / 16;
    geomloss_buffers_set(bufs, GEOMLOSS_BUF_A, a, 16);
    geomloss_buffers_set(bufs, GEOMLOSS_BUF_B, bb, 16);
    geomloss_buffers_set(bufs, GEOMLOSS_BUF_VALUE, &val, 1);
    geomloss_buffers_set(bufs, GEOMLOSS_BUF_LABELS_X, lx, 16);
    CHECK_STATUS(geomloss_eval_grid(NULL, GEOMLOSS_F64, 1, 2, shape, NULL, bufs), GEOMLOSS_ERR_INVALID_ARGUMENT,
                 "labels_x is set, but grids have no cluster labels of x");
    geomloss_buffers_destroy(bufs);
    bufs = geomloss_buffers_create();
    geomloss_buffers_set(bufs, GEOMLOSS_BUF_X, x, LN * LD);
    geomloss_buffers_set(bufs, GEOMLOSS_BUF_Y, y, LM * LD);
    geomloss_buffers_set(bufs, GEOMLOSS_BUF_VALUE, &val, 1);
    geomloss_buffers_set(bufs, GEOMLOSS_BUF_LABELS_Y, ly, LM);
    CHECK_STATUS(geomloss_ot_solve_sample(NULL, GEOMLOSS_F64, LN, LM, LD, bufs), GEOMLOSS_ERR_INVALID_ARGUMENT,
                 "labels_y (GEOMLOSS_BUF_LABELS_Y) is not an argument of geomloss_ot_solve_sample");
    CHECK(val == 42, "value written on error: %g", val);
    geomloss_buffers_destroy(bufs);
  }
  geomloss_options_destroy(o);
  free(x);
  free(y);
  free(gx);
  free(gon);
  free(g2);
}
