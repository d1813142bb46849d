/* C tests of the OT solver's entries (geomloss_ot_solve_sample,
 * geomloss_ot_solve) and of the options GEOMLOSS_OPT_TOL, _MAX_ITER, _COST,
 * _REG, _UNBALANCED: one problem's outputs against the closed forms they
 * must satisfy (the plan from the potentials, its marginals = a, b at
 * convergence, products and barycentric maps = the dense plan's, <pi, C>,
 * the dual value), the cost-matrix entry equal to the points' one, a Dirac
 * plan = b, and every refusal naming its buffer. Included by
 * test_geomloss.c (its CHECK macros and data helpers; test_ot() is called
 * from its main); strict C99. */

enum { ON = 7, OM = 5, OD = 2, OK_ = 3, OL = 2 };

static double sqd(const double *p, const double *q) {
  double s = 0;
  int k;
  for (k = 0; k < OD; k++) s += (p[k] - q[k]) * (p[k] - q[k]);
  return s;
}

static void test_ot_options(void) {
  geomloss_options *o = geomloss_options_create();
  double d;
  int64_t i;
  CHECK_STATUS(geomloss_options_get_double(o, GEOMLOSS_OPT_TOL, &d), GEOMLOSS_OK, "");
  CHECK(d == 0, "default tol %g", d);
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_TOL, 1e-9), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_options_get_double(o, GEOMLOSS_OPT_TOL, &d), GEOMLOSS_OK, "");
  CHECK(d == 1e-9, "tol %g", d);
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_TOL, -1), GEOMLOSS_ERR_INVALID_OPTION, "tol: must be positive");
  CHECK_STATUS(geomloss_options_set_int(o, GEOMLOSS_OPT_MAX_ITER, -3), GEOMLOSS_ERR_INVALID_OPTION, "max_iter");
  CHECK_STATUS(geomloss_options_set_int(o, GEOMLOSS_OPT_MAX_ITER, 77), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_options_get_int(o, GEOMLOSS_OPT_MAX_ITER, &i), GEOMLOSS_OK, "");
  CHECK(i == 77, "max_iter %lld", (long long)i);
  CHECK_STATUS(geomloss_options_get_int(o, GEOMLOSS_OPT_COST, &i), GEOMLOSS_OK, "");
  CHECK(i == GEOMLOSS_COST_SQEUCLIDEAN, "default cost %lld", (long long)i);
  CHECK_STATUS(geomloss_options_set_string(o, GEOMLOSS_OPT_COST, "euclidean"), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_options_get_int(o, GEOMLOSS_OPT_COST, &i), GEOMLOSS_OK, "");
  CHECK(i == GEOMLOSS_COST_EUCLIDEAN, "cost %lld", (long long)i);
  CHECK_STATUS(geomloss_options_set_string(o, GEOMLOSS_OPT_COST, "cityblock"), GEOMLOSS_ERR_INVALID_OPTION, "cost: unknown name");
  CHECK(strcmp(geomloss_value_name(GEOMLOSS_OPT_COST, GEOMLOSS_COST_HALFSQEUCLIDEAN), "halfsqeuclidean") == 0, "cost name");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_REG, INFINITY), GEOMLOSS_ERR_INVALID_OPTION, "reg: must be positive and finite");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_UNBALANCED, INFINITY), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_UNBALANCED, -1), GEOMLOSS_ERR_INVALID_OPTION, "unbalanced");
  CHECK_STATUS(geomloss_options_reset(o, GEOMLOSS_OPT_TOL), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_options_get_double(o, GEOMLOSS_OPT_TOL, &d), GEOMLOSS_OK, "");
  CHECK(d == 0, "reset tol %g", d);
  geomloss_options_destroy(o);
}

/* A converged balanced problem: every output against its closed form. */
static void test_ot_sample(void) {
  static double x[ON * OD], y[OM * OD], a[ON], b[OM], v[OM * OK_], u[ON * OL];
  static double value, lin, F[ON], G[OM], ma[ON], mb[OM], ab[ON * OD], ba[OM * OD];
  static double pv[ON * OK_], ptu[OM * OL], plan[ON * OM], niter, merr, C[ON * OM], plan2[ON * OM];
  double sa = 0, sb = 0, eps = 0.3, tol = 1e-12, want, e;
  int i, j, k;
  geomloss_options *o = geomloss_options_create();
  geomloss_buffers *bf = geomloss_buffers_create();

  fill_unif(x, ON * OD, 71);
  fill_unif(y, OM * OD, 72);
  fill_unif(a, ON, 73);
  fill_unif(b, OM, 74);
  fill_unif(v, OM * OK_, 75);
  fill_unif(u, ON * OL, 76);
  for (i = 0; i < ON; i++) sa += (a[i] += 0.5);
  for (j = 0; j < OM; j++) sb += (b[j] += 0.5);
  for (i = 0; i < ON; i++) a[i] /= sa;
  for (j = 0; j < OM; j++) b[j] /= sb;
  for (k = 0; k < OM * OK_; k++) v[k] -= 0.5; /* signed columns */
  geomloss_options_set_double(o, GEOMLOSS_OPT_REG, eps);
  geomloss_options_set_double(o, GEOMLOSS_OPT_TOL, tol);
  geomloss_options_set_int(o, GEOMLOSS_OPT_DEBIAS, 0);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_X, x, ON * OD);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_Y, y, OM * OD);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_A, a, ON);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_B, b, OM);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_V, v, OM * OK_);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_U, u, ON * OL);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_VALUE, &value, 1);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_VALUE_LINEAR, &lin, 1);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_F, F, ON);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_G, G, OM);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_MARGINAL_A, ma, ON);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_MARGINAL_B, mb, OM);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_A_TO_B, ab, ON * OD);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_B_TO_A, ba, OM * OD);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_PLAN_V, pv, ON * OK_);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_PLAN_T_U, ptu, OM * OL);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_PLAN, plan, ON * OM);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_N_ITER, &niter, 1);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_MARGINAL_ERROR, &merr, 1);
  CHECK_STATUS(geomloss_ot_solve_sample(o, GEOMLOSS_F64, ON, OM, OD, bf), GEOMLOSS_OK, "");
  CHECK(geomloss_last_backend() == GEOMLOSS_BACKEND_ONLINE, "backend %d", geomloss_last_backend());
  CHECK(niter >= 1 && niter == floor(niter), "n_iter %g", niter);
  CHECK(merr < tol, "marginal_error %g >= tol", merr);

  /* pi_ij = a_i b_j exp((F_i + G_j - C_ij)/eps), C = |x - y|^2 */
  want = 0;
  for (i = 0; i < ON; i++)
    for (j = 0; j < OM; j++) {
      C[i * OM + j] = sqd(x + i * OD, y + j * OD);
      e = a[i] * b[j] * exp((F[i] + G[j] - C[i * OM + j]) / eps);
      CHECK_NEAR(plan[i * OM + j], e, 1e-14);
      want += e * C[i * OM + j];
    }
  CHECK_NEAR(lin, want, 1e-13);
  want = 0;
  for (i = 0; i < ON; i++) want += a[i] * F[i];
  for (j = 0; j < OM; j++) want += b[j] * G[j];
  CHECK_NEAR(value, want, 1e-13);
  CHECK(value > lin, "value %g <= value_linear %g (the entropy term is positive)", value, lin);
  for (i = 0; i < ON; i++) {
    double row = 0, by[OD] = {0, 0};
    for (j = 0; j < OM; j++) {
      row += plan[i * OM + j];
      for (k = 0; k < OD; k++) by[k] += plan[i * OM + j] * y[j * OD + k];
    }
    CHECK_NEAR(ma[i], row, 1e-14);
    CHECK_NEAR(ma[i], a[i], 1e-11);
    for (k = 0; k < OD; k++) CHECK_NEAR(ab[i * OD + k], by[k] / row, 1e-13);
    for (k = 0; k < OK_; k++) {
      double s = 0;
      for (j = 0; j < OM; j++) s += plan[i * OM + j] * v[j * OK_ + k];
      CHECK_NEAR(pv[i * OK_ + k], s, 1e-14);
    }
  }
  for (j = 0; j < OM; j++) {
    double col = 0, bx[OD] = {0, 0};
    for (i = 0; i < ON; i++) {
      col += plan[i * OM + j];
      for (k = 0; k < OD; k++) bx[k] += plan[i * OM + j] * x[i * OD + k];
    }
    CHECK_NEAR(mb[j], col, 1e-14);
    CHECK_NEAR(mb[j], b[j], 1e-11);
    for (k = 0; k < OD; k++) CHECK_NEAR(ba[j * OD + k], bx[k] / col, 1e-13);
    for (k = 0; k < OL; k++) {
      double s = 0;
      for (i = 0; i < ON; i++) s += plan[i * OM + j] * u[i * OL + k];
      CHECK_NEAR(ptu[j * OL + k], s, 1e-14);
    }
  }

  /* geomloss_ot_solve on the same cost matrix: the same plan. */
  {
    geomloss_buffers *bc = geomloss_buffers_create();
    double value2;
    geomloss_buffers_set(bc, GEOMLOSS_BUF_C, C, ON * OM);
    geomloss_buffers_set(bc, GEOMLOSS_BUF_A, a, ON);
    geomloss_buffers_set(bc, GEOMLOSS_BUF_B, b, OM);
    geomloss_buffers_set(bc, GEOMLOSS_BUF_VALUE, &value2, 1);
    geomloss_buffers_set(bc, GEOMLOSS_BUF_PLAN, plan2, ON * OM);
    CHECK_STATUS(geomloss_ot_solve(o, GEOMLOSS_F64, ON, OM, bc), GEOMLOSS_OK, "");
    CHECK_NEAR(value2, value, 1e-10);
    for (k = 0; k < ON * OM; k++) CHECK_NEAR(plan2[k], plan[k], 1e-10);
    /* errors of the matrix entry, naming the buffer */
    geomloss_buffers_set(bc, GEOMLOSS_BUF_X, x, ON * OD);
    CHECK_STATUS(geomloss_ot_solve(o, GEOMLOSS_F64, ON, OM, bc), GEOMLOSS_ERR_INVALID_ARGUMENT, "x (GEOMLOSS_BUF_X) is not an argument of geomloss_ot_solve");
    geomloss_buffers_set(bc, GEOMLOSS_BUF_X, NULL, 0);
    geomloss_buffers_set(bc, GEOMLOSS_BUF_C, NULL, 0);
    CHECK_STATUS(geomloss_ot_solve(o, GEOMLOSS_F64, ON, OM, bc), GEOMLOSS_ERR_NULL_POINTER, "c is NULL");
    geomloss_buffers_set(bc, GEOMLOSS_BUF_C, C, ON * OM - 1);
    CHECK_STATUS(geomloss_ot_solve(o, GEOMLOSS_F64, ON, OM, bc), GEOMLOSS_ERR_SHAPE, "c has 34 elements, needs 35 (B×N×M = 1×7×5)");
    geomloss_buffers_destroy(bc);
  }

  /* refusals, outputs untouched */
  value = 42;
  geomloss_buffers_set(bf, GEOMLOSS_BUF_PLAN_V, pv, ON * OK_ - 1);
  CHECK_STATUS(geomloss_ot_solve_sample(o, GEOMLOSS_F64, ON, OM, OD, bf), GEOMLOSS_ERR_SHAPE, "plan_v has 20 elements, needs 21 (B×N×K = 1×7×3)");
  geomloss_buffers_set(bf, GEOMLOSS_BUF_PLAN_V, pv, ON * OK_);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_V, v, OM * OK_ - 1);
  CHECK_STATUS(geomloss_ot_solve_sample(o, GEOMLOSS_F64, ON, OM, OD, bf), GEOMLOSS_ERR_SHAPE, "v has 14 elements, not a positive multiple of M = 5");
  geomloss_buffers_set(bf, GEOMLOSS_BUF_V, NULL, 0);
  CHECK_STATUS(geomloss_ot_solve_sample(o, GEOMLOSS_F64, ON, OM, OD, bf), GEOMLOSS_ERR_NULL_POINTER, "v is NULL (GEOMLOSS_BUF_V, the matrix that plan_v multiplies)");
  geomloss_buffers_set(bf, GEOMLOSS_BUF_V, v, OM * OK_);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_COT_VALUE, &e, 1);
  CHECK_STATUS(geomloss_ot_solve_sample(o, GEOMLOSS_F64, ON, OM, OD, bf), GEOMLOSS_ERR_INVALID_ARGUMENT, "cot_value (GEOMLOSS_BUF_COT_VALUE) is not an argument of geomloss_ot_solve_sample");
  geomloss_buffers_set(bf, GEOMLOSS_BUF_COT_VALUE, NULL, 0);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_F_AA, plan2, ON);
  CHECK_STATUS(geomloss_ot_solve_sample(o, GEOMLOSS_F64, ON, OM, OD, bf), GEOMLOSS_ERR_INVALID_ARGUMENT, "F_aa: not computed");
  geomloss_buffers_set(bf, GEOMLOSS_BUF_F_AA, NULL, 0);
  for (i = 0; i < ON; i++) plan2[i] = 1; /* mass 7 against 1 */
  geomloss_buffers_set(bf, GEOMLOSS_BUF_A, plan2, ON);
  CHECK_STATUS(geomloss_ot_solve_sample(o, GEOMLOSS_F64, ON, OM, OD, bf), GEOMLOSS_ERR_VALUE, "total masses differ");
  geomloss_buffers_set(bf, GEOMLOSS_BUF_A, a, ON);
  CHECK_STATUS(geomloss_ot_solve_sample(o, 7, ON, OM, OD, bf), GEOMLOSS_ERR_INVALID_ARGUMENT, "dtype");
  CHECK_STATUS(geomloss_ot_solve_sample(o, GEOMLOSS_F64, ON, OM, OD, NULL), GEOMLOSS_ERR_NULL_POINTER, "bufs is NULL");
  CHECK_STATUS(geomloss_ot_solve_sample(o, GEOMLOSS_F64, 0, OM, OD, bf), GEOMLOSS_ERR_SIZE, "N must be >= 1");
  CHECK(value == 42, "value written on error: %g", value);
  /* geomloss_eval refuses the OT buffers by name */
  {
    geomloss_buffers *be = geomloss_buffers_create();
    double v1;
    geomloss_buffers_set(be, GEOMLOSS_BUF_X, x, ON * OD);
    geomloss_buffers_set(be, GEOMLOSS_BUF_Y, y, OM * OD);
    geomloss_buffers_set(be, GEOMLOSS_BUF_VALUE, &v1, 1);
    geomloss_buffers_set(be, GEOMLOSS_BUF_PLAN, plan2, ON * OM);
    CHECK_STATUS(geomloss_eval(NULL, GEOMLOSS_F64, 1, ON, OM, OD, be), GEOMLOSS_ERR_INVALID_ARGUMENT, "plan (GEOMLOSS_BUF_PLAN) is a buffer of the OT solver");
    geomloss_buffers_destroy(be);
  }
  geomloss_buffers_destroy(bf);
  geomloss_options_destroy(o);
}

/* A Dirac source (N = 1): pi = b, whatever eps; f32 too. */
static void test_ot_dirac(void) {
  static double x[OD] = {0.3, -0.2}, y[OM * OD], b[OM], plan[OM];
  double sb = 0;
  static float xf[OD], yf[OM * OD], bf32[OM], planf[OM];
  int j;
  geomloss_options *o = geomloss_options_create();
  geomloss_buffers *bf = geomloss_buffers_create(), *b32 = geomloss_buffers_create();
  fill_unif(y, OM * OD, 81);
  fill_unif(b, OM, 82);
  for (j = 0; j < OM; j++) sb += (b[j] += 0.1);
  for (j = 0; j < OM; j++) b[j] /= sb;
  to_f32(xf, x, OD);
  to_f32(yf, y, OM * OD);
  to_f32(bf32, b, OM);
  geomloss_options_set_double(o, GEOMLOSS_OPT_BLUR, 0.05);
  geomloss_options_set_int(o, GEOMLOSS_OPT_DEBIAS, 0);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_X, x, OD);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_Y, y, OM * OD);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_B, b, OM);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_PLAN, plan, OM);
  CHECK_STATUS(geomloss_ot_solve_sample(o, GEOMLOSS_F64, 1, OM, OD, bf), GEOMLOSS_OK, "");
  for (j = 0; j < OM; j++) CHECK_NEAR(plan[j], b[j], 1e-12);
  geomloss_buffers_set(b32, GEOMLOSS_BUF_X, xf, OD);
  geomloss_buffers_set(b32, GEOMLOSS_BUF_Y, yf, OM * OD);
  geomloss_buffers_set(b32, GEOMLOSS_BUF_B, bf32, OM);
  geomloss_buffers_set(b32, GEOMLOSS_BUF_PLAN, planf, OM);
  CHECK_STATUS(geomloss_ot_solve_sample(o, GEOMLOSS_F32, 1, OM, OD, b32), GEOMLOSS_OK, "");
  for (j = 0; j < OM; j++) CHECK_NEAR(planf[j], b[j], 1e-5);
  geomloss_buffers_destroy(bf);
  geomloss_buffers_destroy(b32);
  geomloss_options_destroy(o);
}

static void test_ot(void) {
  test_ot_options();
  test_ot_sample();
  test_ot_dirac();
}
