/* C test of GEOMLOSS_BACKEND_MULTISCALE in the OT solver's plan entry
 * (geomloss_ot_solve_sample_plan): on 400 x 520 uniform points in 2D at
 * reg 0.0003 the multiscale plan truncates (a third of the pairs kept); the
 * run says it ran multiscale, the note that its products run over the kept
 * block pairs; the kept plan's products (plan_v, plan_t_u) agree with an
 * online solve's within 2e-5 relative (the dropped mass the note bounds);
 * its marginal_a is its own product with 1; a cost matrix with multiscale is
 * refused naming the backend. Small enough for the valgrind runs (~30 s
 * there). Included by test_geomloss.c; strict C99. */

enum { MN = 400, MM = 520, MD = 2, MK = 2 };

static double max_rel(const double *got, const double *want, int n) {
  double e = 0, s = 0;
  int i;
  for (i = 0; i < n; i++) {
    if (fabs(got[i] - want[i]) > e) e = fabs(got[i] - want[i]);
    if (fabs(want[i]) > s) s = fabs(want[i]);
  }
  return s > 0 ? e / s : e;
}

static void test_ot_multiscale(void) {
  static double x[MN * MD], y[MM * MD], v[MM * MK], u[MN], ones[MM];
  static double pv[MN * MK], ptu[MM], ma[MN], pv1[MN], pvo[MN * MK], ptuo[MM], value, C[6];
  geomloss_options *o = geomloss_options_create();
  geomloss_buffers *bf = geomloss_buffers_create(), *be = geomloss_buffers_create();
  geomloss_plan h = 0;
  int i;
  double e;

  fill_unif(x, MN * MD, 81);
  fill_unif(y, MM * MD, 82);
  fill_unif(v, MM * MK, 83);
  fill_unif(u, MN, 84);
  for (i = 0; i < MM * MK; i++) v[i] -= 0.5;
  for (i = 0; i < MM; i++) ones[i] = 1;
  geomloss_options_set_double(o, GEOMLOSS_OPT_REG, 0.0003);
  geomloss_options_set_int(o, GEOMLOSS_OPT_DEBIAS, 0);
  geomloss_options_set_int(o, GEOMLOSS_OPT_BACKEND, GEOMLOSS_BACKEND_MULTISCALE);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_X, x, MN * MD);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_Y, y, MM * MD);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_VALUE, &value, 1);
  CHECK_STATUS(geomloss_ot_solve_sample_plan(o, GEOMLOSS_F64, MN, MM, MD, bf, &h), GEOMLOSS_OK, "");
  CHECK(geomloss_last_backend() == GEOMLOSS_BACKEND_MULTISCALE, "multiscale ran %d", geomloss_last_backend());
  CHECK(strstr(geomloss_last_note(), "kept block pairs") != NULL, "note \"%s\"", geomloss_last_note());
  geomloss_buffers_set(be, GEOMLOSS_BUF_V, v, MM * MK);
  geomloss_buffers_set(be, GEOMLOSS_BUF_PLAN_V, pv, MN * MK);
  geomloss_buffers_set(be, GEOMLOSS_BUF_U, u, MN);
  geomloss_buffers_set(be, GEOMLOSS_BUF_PLAN_T_U, ptu, MM);
  geomloss_buffers_set(be, GEOMLOSS_BUF_MARGINAL_A, ma, MN);
  CHECK_STATUS(geomloss_plan_eval(h, be), GEOMLOSS_OK, "");
  geomloss_buffers_destroy(be);
  be = geomloss_buffers_create();
  geomloss_buffers_set(be, GEOMLOSS_BUF_V, ones, MM);
  geomloss_buffers_set(be, GEOMLOSS_BUF_PLAN_V, pv1, MN);
  CHECK_STATUS(geomloss_plan_eval(h, be), GEOMLOSS_OK, "");
  CHECK(memcmp(pv1, ma, sizeof ma) == 0, "marginal_a differs from the plan's product with 1");
  CHECK_STATUS(geomloss_plan_free(h), GEOMLOSS_OK, "");

  /* the online solve (every pair) */
  geomloss_options_set_int(o, GEOMLOSS_OPT_BACKEND, GEOMLOSS_BACKEND_ONLINE);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_V, v, MM * MK);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_PLAN_V, pvo, MN * MK);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_U, u, MN);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_PLAN_T_U, ptuo, MM);
  CHECK_STATUS(geomloss_ot_solve_sample(o, GEOMLOSS_F64, MN, MM, MD, bf), GEOMLOSS_OK, "");
  CHECK(geomloss_last_backend() == GEOMLOSS_BACKEND_ONLINE, "online ran %d", geomloss_last_backend());
  e = max_rel(pv, pvo, MN * MK);
  CHECK(e <= 2e-5, "multiscale vs online plan_v: %.3g relative", e);
  e = max_rel(ptu, ptuo, MM);
  CHECK(e <= 2e-5, "multiscale vs online plan_t_u: %.3g relative", e);

  /* a cost matrix has no points: refused naming the backend */
  for (i = 0; i < 6; i++) C[i] = i;
  geomloss_options_set_int(o, GEOMLOSS_OPT_BACKEND, GEOMLOSS_BACKEND_MULTISCALE);
  geomloss_buffers_destroy(bf);
  bf = geomloss_buffers_create();
  geomloss_buffers_set(bf, GEOMLOSS_BUF_C, C, 6);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_VALUE, &value, 1);
  CHECK_STATUS(geomloss_ot_solve(o, GEOMLOSS_F64, 2, 3, bf), GEOMLOSS_ERR_INVALID_OPTION, "backend: multiscale needs points");
  geomloss_buffers_destroy(bf);
  geomloss_buffers_destroy(be);
  geomloss_options_destroy(o);
}
