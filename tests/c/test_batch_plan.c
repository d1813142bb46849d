/* C tests of the batch plan entries (geomloss_ot_solve_sample_batch_plan,
 * geomloss_ot_solve_batch_plan): every item's handle gives, bit for bit, the
 * plan outputs of geomloss_ot_solve_sample_plan / _solve_plan on that item
 * alone (float64 points, float32 points, cost matrices), and the batch's own
 * outputs are the batch call's; plans NULL is refused naming it; a failing
 * item keeps no plan (all handles 0, the error names the item); a refused B
 * writes nothing; each handle frees once. Included by test_geomloss.c after
 * test_plan.c (its PN, PM, PD, PK, PL and helpers); strict C99. */

enum { BB = 3 };

static void test_batch_plans(void) {
  static double x[BB * PN * PD], y[BB * PM * PD], v[PM * PK], u[PN * PL], C[BB * PN * PM], val[BB], val1;
  static float xf[BB * PN * PD], yf[BB * PM * PD], vf[PM * PK], uf[PN * PL];
  static plan_outs64 want, got;
  static plan_outs32 want32, got32;
  geomloss_options *o = geomloss_options_create();
  geomloss_buffers *bf = geomloss_buffers_create(), *b1 = geomloss_buffers_create(), *be = geomloss_buffers_create();
  geomloss_plan hs[BB], h1 = 0, guard[BB + 1];
  int b, i, j, k;

  fill_unif(x, BB * PN * PD, 71);
  fill_unif(y, BB * PM * PD, 72);
  fill_unif(v, PM * PK, 73);
  fill_unif(u, PN * PL, 74);
  for (b = 0; b < BB; b++)
    for (i = 0; i < PN; i++)
      for (j = 0; j < PM; j++) C[(b * PN + i) * PM + j] = sqd3(x + (b * PN + i) * PD, y + (b * PM + j) * PD);
  to_f32(xf, x, BB * PN * PD);
  to_f32(yf, y, BB * PM * PD);
  to_f32(vf, v, PM * PK);
  to_f32(uf, u, PN * PL);
  geomloss_options_set_double(o, GEOMLOSS_OPT_REG, 0.1);
  geomloss_options_set_double(o, GEOMLOSS_OPT_TOL, 1e-10);
  geomloss_options_set_int(o, GEOMLOSS_OPT_DEBIAS, 0);

  /* float64 points: the batch's handles vs each item's single plan. */
  geomloss_buffers_set(bf, GEOMLOSS_BUF_X, x, BB * PN * PD);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_Y, y, BB * PM * PD);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_VALUE, val, BB);
  CHECK_STATUS(geomloss_ot_solve_sample_batch_plan(o, GEOMLOSS_F64, BB, PN, PM, PD, bf, hs), GEOMLOSS_OK, "");
  geomloss_buffers_set(be, GEOMLOSS_BUF_V, v, PM * PK);
  geomloss_buffers_set(be, GEOMLOSS_BUF_U, u, PN * PL);
  for (b = 0; b < BB; b++) {
    CHECK(hs[b] != 0 && (b == 0 || hs[b] != hs[b - 1]), "item %d: handle %llu", b, (unsigned long long)hs[b]);
    geomloss_buffers_set(b1, GEOMLOSS_BUF_X, x + b * PN * PD, PN * PD);
    geomloss_buffers_set(b1, GEOMLOSS_BUF_Y, y + b * PM * PD, PM * PD);
    geomloss_buffers_set(b1, GEOMLOSS_BUF_VALUE, &val1, 1);
    CHECK_STATUS(geomloss_ot_solve_sample_plan(o, GEOMLOSS_F64, PN, PM, PD, b1, &h1), GEOMLOSS_OK, "");
    CHECK(val1 == val[b], "item %d: value %.17g, single call %.17g", b, val[b], val1);
    set_plan_outs(be, &want.lin, want.ma, want.mb, want.ab, want.ba, want.pv, want.ptu, want.plan);
    CHECK_STATUS(geomloss_plan_eval(h1, be), GEOMLOSS_OK, "");
    set_plan_outs(be, &got.lin, got.ma, got.mb, got.ab, got.ba, got.pv, got.ptu, got.plan);
    memset(&got, 0, sizeof got);
    CHECK_STATUS(geomloss_plan_eval(hs[b], be), GEOMLOSS_OK, "");
    CHECK(memcmp(&got, &want, sizeof got) == 0, "float64 item %d: the batch handle's plan outputs differ from the single plan's", b);
    CHECK_STATUS(geomloss_plan_free(h1), GEOMLOSS_OK, "");
  }
  for (b = 0; b < BB; b++) {
    CHECK_STATUS(geomloss_plan_free(hs[b]), GEOMLOSS_OK, "");
    CHECK_STATUS(geomloss_plan_free(hs[b]), GEOMLOSS_ERR_INVALID_ARGUMENT, "not a live plan handle");
  }

  /* Errors: plans NULL; a failing item keeps nothing; a refused B writes nothing. */
  CHECK_STATUS(geomloss_ot_solve_sample_batch_plan(o, GEOMLOSS_F64, BB, PN, PM, PD, bf, NULL), GEOMLOSS_ERR_NULL_POINTER, "plans");
  x[2 * PN * PD + 1] = NAN; /* item 2 */
  for (b = 0; b < BB; b++) hs[b] = 12345;
  CHECK_STATUS(geomloss_ot_solve_sample_batch_plan(o, GEOMLOSS_F64, BB, PN, PM, PD, bf, hs), GEOMLOSS_ERR_VALUE, "item 2: ");
  for (b = 0; b < BB; b++) CHECK(hs[b] == 0, "failed batch: handle %d is %llu, want 0", b, (unsigned long long)hs[b]);
  x[2 * PN * PD + 1] = 0.5;
  for (k = 0; k <= BB; k++) guard[k] = 777;
  CHECK_STATUS(geomloss_ot_solve_sample_batch_plan(o, GEOMLOSS_F64, 0, PN, PM, PD, bf, guard), GEOMLOSS_ERR_SIZE, "B must be >= 1");
  CHECK_STATUS(geomloss_ot_solve_sample_batch_plan(o, GEOMLOSS_F64, -2, PN, PM, PD, bf, guard), GEOMLOSS_ERR_SIZE, "B must be >= 1");
  CHECK(guard[0] == 777, "a refused B wrote the handles array");
  geomloss_buffers_set(bf, GEOMLOSS_BUF_VALUE, val, BB - 1);
  CHECK_STATUS(geomloss_ot_solve_sample_batch_plan(o, GEOMLOSS_F64, BB, PN, PM, PD, bf, hs), GEOMLOSS_ERR_SHAPE, "value has 2 elements, needs 3");
  geomloss_buffers_set(bf, GEOMLOSS_BUF_VALUE, NULL, 0);

  /* float32 points, one item's handle vs the single float32 plan. */
  geomloss_buffers_destroy(bf);
  bf = geomloss_buffers_create();
  geomloss_buffers_set(bf, GEOMLOSS_BUF_X, xf, BB * PN * PD);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_Y, yf, BB * PM * PD);
  geomloss_options_set_double(o, GEOMLOSS_OPT_TOL, 1e-5);
  CHECK_STATUS(geomloss_ot_solve_sample_batch_plan(o, GEOMLOSS_F32, BB, PN, PM, PD, bf, hs), GEOMLOSS_OK, "");
  geomloss_buffers_destroy(b1);
  b1 = geomloss_buffers_create();
  geomloss_buffers_set(b1, GEOMLOSS_BUF_X, xf + PN * PD, PN * PD);
  geomloss_buffers_set(b1, GEOMLOSS_BUF_Y, yf + PM * PD, PM * PD);
  CHECK_STATUS(geomloss_ot_solve_sample_plan(o, GEOMLOSS_F32, PN, PM, PD, b1, &h1), GEOMLOSS_OK, "");
  geomloss_buffers_destroy(be);
  be = geomloss_buffers_create();
  geomloss_buffers_set(be, GEOMLOSS_BUF_V, vf, PM * PK);
  geomloss_buffers_set(be, GEOMLOSS_BUF_U, uf, PN * PL);
  set_plan_outs(be, &want32.lin, want32.ma, want32.mb, want32.ab, want32.ba, want32.pv, want32.ptu, want32.plan);
  CHECK_STATUS(geomloss_plan_eval(h1, be), GEOMLOSS_OK, "");
  set_plan_outs(be, &got32.lin, got32.ma, got32.mb, got32.ab, got32.ba, got32.pv, got32.ptu, got32.plan);
  CHECK_STATUS(geomloss_plan_eval(hs[1], be), GEOMLOSS_OK, "");
  CHECK(memcmp(&got32, &want32, sizeof got32) == 0, "float32 item 1: the batch handle's plan outputs differ");
  CHECK_STATUS(geomloss_plan_free(h1), GEOMLOSS_OK, "");
  for (b = 0; b < BB; b++) CHECK_STATUS(geomloss_plan_free(hs[b]), GEOMLOSS_OK, "");

  /* Cost matrices: item 2's handle vs the single matrix plan. */
  geomloss_options_reset(o, 0);
  geomloss_options_set_double(o, GEOMLOSS_OPT_REG, 0.1);
  geomloss_buffers_destroy(bf);
  bf = geomloss_buffers_create();
  geomloss_buffers_set(bf, GEOMLOSS_BUF_C, C, BB * PN * PM);
  CHECK_STATUS(geomloss_ot_solve_batch_plan(o, GEOMLOSS_F64, BB, PN, PM, bf, hs), GEOMLOSS_OK, "");
  geomloss_buffers_destroy(b1);
  b1 = geomloss_buffers_create();
  geomloss_buffers_set(b1, GEOMLOSS_BUF_C, C + 2 * PN * PM, PN * PM);
  CHECK_STATUS(geomloss_ot_solve_plan(o, GEOMLOSS_F64, PN, PM, b1, &h1), GEOMLOSS_OK, "");
  geomloss_buffers_destroy(be);
  be = geomloss_buffers_create();
  geomloss_buffers_set(be, GEOMLOSS_BUF_V, v, PM * PK);
  geomloss_buffers_set(be, GEOMLOSS_BUF_U, u, PN * PL);
  set_plan_outs(be, &want.lin, want.ma, want.mb, NULL, NULL, want.pv, want.ptu, want.plan);
  CHECK_STATUS(geomloss_plan_eval(h1, be), GEOMLOSS_OK, "");
  set_plan_outs(be, &got.lin, got.ma, got.mb, NULL, NULL, got.pv, got.ptu, got.plan);
  CHECK_STATUS(geomloss_plan_eval(hs[2], be), GEOMLOSS_OK, "");
  CHECK(memcmp(&got, &want, sizeof got) == 0, "matrix item 2: the batch handle's plan outputs differ");
  CHECK_STATUS(geomloss_ot_solve_batch_plan(o, GEOMLOSS_F64, BB, PN, PM, bf, NULL), GEOMLOSS_ERR_NULL_POINTER, "plans");
  CHECK_STATUS(geomloss_plan_free(h1), GEOMLOSS_OK, "");
  for (b = 0; b < BB; b++) CHECK_STATUS(geomloss_plan_free(hs[b]), GEOMLOSS_OK, "");

  geomloss_buffers_destroy(bf);
  geomloss_buffers_destroy(b1);
  geomloss_buffers_destroy(be);
  geomloss_options_destroy(o);
}
