/* C tests of the plan handles (geomloss_ot_solve_sample_plan, _solve_plan,
 * geomloss_plan_eval, _info, _free) and of the power cost (GEOMLOSS_COST_POWER,
 * GEOMLOSS_OPT_Q): a kept plan's products, marginals, maps, linear cost and
 * dense plan equal the solve call's outputs bit for bit (float64, float32
 * with the power cost, a cost matrix), after the caller's points are
 * overwritten; bad, zero and freed handles and a double free are refused
 * with GEOMLOSS_ERR_INVALID_ARGUMENT; threads sharing a handle get the
 * sequential results. Included by test_geomloss.c; strict C99. */

enum { PN = 9, PM = 7, PD = 3, PK = 2, PL = 3 };

static double sqd3(const double *p, const double *q) {
  double s = 0;
  int k;
  for (k = 0; k < PD; k++) s += (p[k] - q[k]) * (p[k] - q[k]);
  return s;
}

/* The plan outputs of one problem (x, y given) in type T's buffers. */
#define PLAN_OUTS(T)                                                          \
  struct {                                                                    \
    T lin, ma[PN], mb[PM], ab[PN * PD], ba[PM * PD], pv[PN * PK], ptu[PM * PL], \
        plan[PN * PM];                                                        \
  }
typedef PLAN_OUTS(double) plan_outs64;
typedef PLAN_OUTS(float) plan_outs32;

static void set_plan_outs(geomloss_buffers *bf, void *lin, void *ma, void *mb, void *ab, void *ba,
                          void *pv, void *ptu, void *plan) {
  geomloss_buffers_set(bf, GEOMLOSS_BUF_VALUE_LINEAR, lin, 1);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_MARGINAL_A, ma, PN);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_MARGINAL_B, mb, PM);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_A_TO_B, ab, ab ? PN * PD : 0);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_B_TO_A, ba, ba ? PM * PD : 0);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_PLAN_V, pv, PN * PK);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_PLAN_T_U, ptu, PM * PL);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_PLAN, plan, PN * PM);
}

typedef struct {
  geomloss_plan h;
  const double *v, *u;
  const plan_outs64 *want;
  int iters, failures;
} plan_thread_arg;

static void *plan_thread(void *p) {
  plan_thread_arg *t = (plan_thread_arg *)p;
  plan_outs64 got;
  int it;
  geomloss_buffers *bf = geomloss_buffers_create();
  geomloss_buffers_set(bf, GEOMLOSS_BUF_V, (void *)t->v, PM * PK);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_U, (void *)t->u, PN * PL);
  set_plan_outs(bf, &got.lin, got.ma, got.mb, got.ab, got.ba, got.pv, got.ptu, got.plan);
  for (it = 0; it < t->iters; it++) {
    memset(&got, 0, sizeof got);
    if (geomloss_plan_eval(t->h, bf) != GEOMLOSS_OK || memcmp(&got, t->want, sizeof got) != 0)
      t->failures++;
  }
  geomloss_buffers_destroy(bf);
  return NULL;
}

static void test_plan_handles(void) {
  static double x[PN * PD], y[PM * PD], v[PM * PK], u[PN * PL], C[PN * PM], value, value2;
  static float xf[PN * PD], yf[PM * PD], vf[PM * PK], uf[PN * PL];
  static plan_outs64 want, got, wantm, gotm;
  static plan_outs32 want32, got32;
  geomloss_options *o = geomloss_options_create();
  geomloss_buffers *bf = geomloss_buffers_create(), *be = geomloss_buffers_create();
  geomloss_plan h = 0, h32 = 0, hm = 0, dead;
  int dtype = 0, i, j, k;
  int64_t n = 0, m = 0, d = -1;
  double q;
  pthread_t th[4];
  plan_thread_arg args[4];
  const char *it_env = getenv("GEOMLOSS_TEST_THREAD_ITERS");

  fill_unif(x, PN * PD, 91);
  fill_unif(y, PM * PD, 92);
  fill_unif(v, PM * PK, 93);
  fill_unif(u, PN * PL, 94);
  for (i = 0; i < PN; i++)
    for (j = 0; j < PM; j++) C[i * PM + j] = sqd3(x + PD * i, y + PD * j);
  to_f32(xf, x, PN * PD);
  to_f32(yf, y, PM * PD);
  to_f32(vf, v, PM * PK);
  to_f32(uf, u, PN * PL);
  geomloss_options_set_double(o, GEOMLOSS_OPT_REG, 0.1);
  geomloss_options_set_double(o, GEOMLOSS_OPT_TOL, 1e-10);
  geomloss_options_set_int(o, GEOMLOSS_OPT_DEBIAS, 0);

  /* float64, sqeuclidean: the solve's outputs, then the handle's. */
  geomloss_buffers_set(bf, GEOMLOSS_BUF_X, x, PN * PD);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_Y, y, PM * PD);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_V, v, PM * PK);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_U, u, PN * PL);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_VALUE, &value, 1);
  set_plan_outs(bf, &want.lin, want.ma, want.mb, want.ab, want.ba, want.pv, want.ptu, want.plan);
  CHECK_STATUS(geomloss_ot_solve_sample(o, GEOMLOSS_F64, PN, PM, PD, bf), GEOMLOSS_OK, "");
  geomloss_buffers_set(be, GEOMLOSS_BUF_X, x, PN * PD);
  geomloss_buffers_set(be, GEOMLOSS_BUF_Y, y, PM * PD);
  geomloss_buffers_set(be, GEOMLOSS_BUF_VALUE, &value2, 1);
  CHECK_STATUS(geomloss_ot_solve_sample_plan(o, GEOMLOSS_F64, PN, PM, PD, be, &h), GEOMLOSS_OK, "");
  CHECK(h != 0 && value2 == value, "handle %llu, value %g vs %g", (unsigned long long)h, value2, value);
  CHECK_STATUS(geomloss_ot_solve_sample_plan(o, GEOMLOSS_F64, PN, PM, PD, be, NULL), GEOMLOSS_ERR_NULL_POINTER, "plan");
  for (k = 0; k < PN * PD; k++) x[k] = -1e300; /* the plan keeps its own points */
  geomloss_buffers_destroy(be);
  be = geomloss_buffers_create();
  geomloss_buffers_set(be, GEOMLOSS_BUF_V, v, PM * PK);
  geomloss_buffers_set(be, GEOMLOSS_BUF_U, u, PN * PL);
  set_plan_outs(be, &got.lin, got.ma, got.mb, got.ab, got.ba, got.pv, got.ptu, got.plan);
  CHECK_STATUS(geomloss_plan_eval(h, be), GEOMLOSS_OK, "");
  CHECK(memcmp(&got, &want, sizeof got) == 0, "float64 plan outputs from the handle differ from the solve's");
  CHECK_STATUS(geomloss_plan_info(h, &dtype, &n, &m, &d), GEOMLOSS_OK, "");
  CHECK(dtype == GEOMLOSS_F64 && n == PN && m == PM && d == PD, "info %d %lld %lld %lld", dtype, (long long)n, (long long)m, (long long)d);
  CHECK_STATUS(geomloss_plan_info(h, NULL, NULL, NULL, NULL), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_plan_eval(h, NULL), GEOMLOSS_ERR_NULL_POINTER, "bufs");
  geomloss_buffers_set(be, GEOMLOSS_BUF_X, x, PN * PD);
  CHECK_STATUS(geomloss_plan_eval(h, be), GEOMLOSS_ERR_INVALID_ARGUMENT, "x (GEOMLOSS_BUF_X) is not an argument of geomloss_plan_eval");
  geomloss_buffers_set(be, GEOMLOSS_BUF_X, NULL, 0);

  /* Threads sharing the handle: every result equals the sequential one. */
  for (k = 0; k < 4; k++) {
    args[k].h = h;
    args[k].v = v;
    args[k].u = u;
    args[k].want = &want;
    args[k].iters = it_env ? atoi(it_env) : 50;
    args[k].failures = 0;
    CHECK(pthread_create(&th[k], NULL, plan_thread, &args[k]) == 0, "pthread_create");
  }
  for (k = 0; k < 4; k++) {
    pthread_join(th[k], NULL);
    CHECK(args[k].failures == 0, "thread %d: %d evaluations failed or differed", k, args[k].failures);
  }

  /* Freed, double-freed, zero and forged handles. */
  CHECK_STATUS(geomloss_plan_free(h), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_plan_free(h), GEOMLOSS_ERR_INVALID_ARGUMENT, "not a live plan handle");
  CHECK_STATUS(geomloss_plan_eval(h, be), GEOMLOSS_ERR_INVALID_ARGUMENT, "not a live plan handle");
  CHECK_STATUS(geomloss_plan_info(h, &dtype, &n, &m, &d), GEOMLOSS_ERR_INVALID_ARGUMENT, "not a live plan handle");
  CHECK_STATUS(geomloss_plan_free(0), GEOMLOSS_ERR_INVALID_ARGUMENT, "not a live plan handle");
  CHECK_STATUS(geomloss_plan_eval(0xdeadbeefcafeULL, be), GEOMLOSS_ERR_INVALID_ARGUMENT, "not a live plan handle");
  dead = h;

  /* float32 with the power cost |x-y|^1.5/1.5 (the portable path). */
  CHECK_STATUS(geomloss_options_set_string(o, GEOMLOSS_OPT_COST, "power"), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_Q, 0.5), GEOMLOSS_ERR_INVALID_OPTION, "q");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_Q, 1.5), GEOMLOSS_OK, "");
  geomloss_options_get_double(o, GEOMLOSS_OPT_Q, &q);
  CHECK(q == 1.5, "q %g", q);
  geomloss_options_set_double(o, GEOMLOSS_OPT_TOL, 1e-5);
  geomloss_buffers_destroy(bf);
  bf = geomloss_buffers_create();
  geomloss_buffers_set(bf, GEOMLOSS_BUF_X, xf, PN * PD);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_Y, yf, PM * PD);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_V, vf, PM * PK);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_U, uf, PN * PL);
  set_plan_outs(bf, &want32.lin, want32.ma, want32.mb, want32.ab, want32.ba, want32.pv, want32.ptu, want32.plan);
  CHECK_STATUS(geomloss_ot_solve_sample(o, GEOMLOSS_F32, PN, PM, PD, bf), GEOMLOSS_OK, "");
  CHECK(strcmp(geomloss_last_engine(), "portable") == 0, "power cost: engine %s, want portable (note \"%s\")",
        geomloss_last_engine(), geomloss_last_note());
  CHECK_STATUS(geomloss_ot_solve_sample_plan(o, GEOMLOSS_F32, PN, PM, PD, bf, &h32), GEOMLOSS_OK, "");
  CHECK(h32 != 0 && h32 != dead, "float32 handle %llu (the freed one was %llu)", (unsigned long long)h32, (unsigned long long)dead);
  set_plan_outs(bf, &got32.lin, got32.ma, got32.mb, got32.ab, got32.ba, got32.pv, got32.ptu, got32.plan);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_X, NULL, 0);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_Y, NULL, 0);
  CHECK_STATUS(geomloss_plan_eval(h32, bf), GEOMLOSS_OK, "");
  CHECK(memcmp(&got32, &want32, sizeof got32) == 0, "float32 power-cost plan outputs from the handle differ");
  CHECK_STATUS(geomloss_plan_info(h32, &dtype, NULL, NULL, NULL), GEOMLOSS_OK, "");
  CHECK(dtype == GEOMLOSS_F32, "dtype %d", dtype);
  CHECK_STATUS(geomloss_plan_free(h32), GEOMLOSS_OK, "");

  /* A cost matrix's plan: no barycentric maps. */
  geomloss_options_reset(o, 0);
  geomloss_options_set_double(o, GEOMLOSS_OPT_REG, 0.1);
  geomloss_buffers_destroy(bf);
  bf = geomloss_buffers_create();
  geomloss_buffers_set(bf, GEOMLOSS_BUF_C, C, PN * PM);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_V, v, PM * PK);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_U, u, PN * PL);
  set_plan_outs(bf, &wantm.lin, wantm.ma, wantm.mb, NULL, NULL, wantm.pv, wantm.ptu, wantm.plan);
  CHECK_STATUS(geomloss_ot_solve(o, GEOMLOSS_F64, PN, PM, bf), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_ot_solve_plan(o, GEOMLOSS_F64, PN, PM, bf, &hm), GEOMLOSS_OK, "");
  set_plan_outs(bf, &gotm.lin, gotm.ma, gotm.mb, NULL, NULL, gotm.pv, gotm.ptu, gotm.plan);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_C, NULL, 0);
  CHECK_STATUS(geomloss_plan_eval(hm, bf), GEOMLOSS_OK, "");
  CHECK(memcmp(&gotm, &wantm, sizeof gotm) == 0, "cost-matrix plan outputs from the handle differ");
  CHECK_STATUS(geomloss_plan_info(hm, NULL, NULL, NULL, &d), GEOMLOSS_OK, "");
  CHECK(d == 0, "cost-matrix plan: D %lld, want 0", (long long)d);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_A_TO_B, gotm.ab, PN * PD);
  CHECK_STATUS(geomloss_plan_eval(hm, bf), GEOMLOSS_ERR_INVALID_ARGUMENT, "a_to_b");
  CHECK_STATUS(geomloss_plan_free(hm), GEOMLOSS_OK, "");

  geomloss_buffers_destroy(bf);
  geomloss_buffers_destroy(be);
  geomloss_options_destroy(o);
}

/* geomloss_ot_solve_sample_batch: B = 2 problems in one call equal the two
 * single calls bit for bit (value, F, plan_v, a_to_b); a bad item is named. */
static void test_ot_batch(void) {
  enum { B = 2 };
  static double x[B * PN * PD], y[B * PM * PD], v[B * PM * PK], val[B], F[B * PN], pv[B * PN * PK],
      ab[B * PN * PD], val1, F1[PN], pv1[PN * PK], ab1[PN * PD];
  geomloss_options *o = geomloss_options_create();
  geomloss_buffers *bf = geomloss_buffers_create(), *b1 = geomloss_buffers_create();
  int b;
  fill_unif(x, B * PN * PD, 95);
  fill_unif(y, B * PM * PD, 96);
  fill_unif(v, B * PM * PK, 97);
  geomloss_options_set_double(o, GEOMLOSS_OPT_REG, 0.1);
  geomloss_options_set_int(o, GEOMLOSS_OPT_DEBIAS, 0);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_X, x, B * PN * PD);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_Y, y, B * PM * PD);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_V, v, B * PM * PK);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_VALUE, val, B);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_F, F, B * PN);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_PLAN_V, pv, B * PN * PK);
  geomloss_buffers_set(bf, GEOMLOSS_BUF_A_TO_B, ab, B * PN * PD);
  CHECK_STATUS(geomloss_ot_solve_sample_batch(o, GEOMLOSS_F64, B, PN, PM, PD, bf), GEOMLOSS_OK, "");
  for (b = 0; b < B; b++) {
    geomloss_buffers_set(b1, GEOMLOSS_BUF_X, x + b * PN * PD, PN * PD);
    geomloss_buffers_set(b1, GEOMLOSS_BUF_Y, y + b * PM * PD, PM * PD);
    geomloss_buffers_set(b1, GEOMLOSS_BUF_V, v + b * PM * PK, PM * PK);
    geomloss_buffers_set(b1, GEOMLOSS_BUF_VALUE, &val1, 1);
    geomloss_buffers_set(b1, GEOMLOSS_BUF_F, F1, PN);
    geomloss_buffers_set(b1, GEOMLOSS_BUF_PLAN_V, pv1, PN * PK);
    geomloss_buffers_set(b1, GEOMLOSS_BUF_A_TO_B, ab1, PN * PD);
    CHECK_STATUS(geomloss_ot_solve_sample(o, GEOMLOSS_F64, PN, PM, PD, b1), GEOMLOSS_OK, "");
    CHECK(val1 == val[b] && memcmp(F1, F + b * PN, sizeof F1) == 0 && memcmp(pv1, pv + b * PN * PK, sizeof pv1) == 0 &&
              memcmp(ab1, ab + b * PN * PD, sizeof ab1) == 0,
          "batch item %d differs from the single call", b);
  }
  x[PN * PD] = NAN; /* item 1 */
  CHECK_STATUS(geomloss_ot_solve_sample_batch(o, GEOMLOSS_F64, B, PN, PM, PD, bf), GEOMLOSS_ERR_VALUE, "item 1: ");
  CHECK_STATUS(geomloss_ot_solve_sample_batch(o, GEOMLOSS_F64, 0, PN, PM, PD, bf), GEOMLOSS_ERR_SIZE, "B must be >= 1");
  geomloss_buffers_destroy(bf);
  geomloss_buffers_destroy(b1);
  geomloss_options_destroy(o);
}
