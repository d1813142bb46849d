/* C tests of the libgeomloss ABI (include/geomloss.h): every entry point,
 * closed-form values, every error path with its status and message, the
 * progress callback, options, and concurrent evaluations equal to serial ones
 * bit for bit. Compiled as strict C99 (build/test-c.sh), and run plain, under
 * AddressSanitizer + UBSan and under valgrind. Prints a summary; exit status
 * 0 iff every check passed.
 *
 * GEOMLOSS_TEST_THREAD_ITERS overrides the 200 evaluations per thread of the
 * concurrency test (valgrind serialises threads; build/test-c.sh keeps 200). */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geomloss.h"

int cxx_smoke(void); /* test_cxx.cpp */

static int checks, failures;

#define CHECK(cond, ...)                                                         \
  do {                                                                           \
    checks++;                                                                    \
    if (!(cond)) {                                                               \
      failures++;                                                                \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);            \
      fprintf(stderr, __VA_ARGS__);                                              \
      fprintf(stderr, "\n");                                                     \
    }                                                                            \
  } while (0)

/* Checks a call's status and that the last error contains substr ("" = any;
 * for GEOMLOSS_OK the last error must be empty). */
#define CHECK_STATUS(call, want, substr)                                                  \
  do {                                                                                    \
    int st_ = (call);                                                                     \
    const char *msg_ = geomloss_last_error();                                             \
    CHECK(st_ == (want), "%s returned %d (%s), want %d; message: %s", #call, st_,         \
          geomloss_status_string(st_), (int)(want), msg_);                                \
    if ((want) == GEOMLOSS_OK)                                                            \
      CHECK(msg_[0] == '\0', "last error after success is \"%s\"", msg_);                 \
    else                                                                                  \
      CHECK(strstr(msg_, (substr)) != NULL, "message \"%s\" lacks \"%s\"", msg_, (substr)); \
  } while (0)

#define CHECK_NEAR(got, want, tol)                                                          \
  do {                                                                                      \
    double g_ = (double)(got), w_ = (double)(want);                                         \
    CHECK(fabs(g_ - w_) <= (tol), "%s = %.10g, want %.10g (tol %g)", #got, g_, w_, (double)(tol)); \
  } while (0)

/* ---- deterministic data ------------------------------------------------------ */

static uint64_t rng_state;
static void rng_seed(uint64_t s) { rng_state = s * 0x9E3779B97F4A7C15ull + 1; }
static double rng_unif(void) { /* splitmix64 → [0, 1) */
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (double)(z >> 11) / 9007199254740992.0;
}
static void fill_unif(double *v, size_t n, uint64_t seed) {
  size_t i;
  rng_seed(seed);
  for (i = 0; i < n; i++) v[i] = rng_unif();
}
static double *dalloc(size_t n) {
  double *p = (double *)calloc(n ? n : 1, sizeof(double));
  if (!p) abort();
  return p;
}
static void to_f32(float *dst, const double *src, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) dst[i] = (float)src[i];
}

/* Plain f64 evaluation of the value only. */
static int eval_value(const geomloss_options *o, int64_t B, int64_t N, int64_t M, int64_t D,
                      const double *x, const double *y, double *value) {
  return geomloss_eval_f64(o, B, N, M, D, x, y, NULL, NULL, NULL, NULL, NULL, value, NULL, NULL,
                           NULL, NULL, NULL, NULL);
}

/* ---- version, statuses, names ------------------------------------------------ */

static void test_version(void) {
  CHECK(strcmp(geomloss_version(), GEOMLOSS_VERSION_STRING) == 0, "version %s vs header %s",
        geomloss_version(), GEOMLOSS_VERSION_STRING);
  CHECK(geomloss_version_number() == GEOMLOSS_VERSION_NUMBER, "version number %d",
        geomloss_version_number());
}

static void test_status_strings(void) {
  static const char *const want[] = {"ok", "invalid argument", "invalid option", "shape mismatch",
                                     "invalid value", "out of memory or over a memory cap",
                                     "unsupported", "internal error", "null pointer",
                                     "invalid size", "cancelled", "device failure"};
  int s;
  for (s = 0; s <= GEOMLOSS_ERR_DEVICE; s++)
    CHECK(strcmp(geomloss_status_string(s), want[s]) == 0, "status %d: %s", s,
          geomloss_status_string(s));
  CHECK(strcmp(geomloss_status_string(-1), "unknown status") == 0, "-1");
  CHECK(strcmp(geomloss_status_string(12), "unknown status") == 0, "12");
  CHECK(strcmp(geomloss_status_string(INT32_MAX), "unknown status") == 0, "max");
}

static void test_value_names(void) {
  static const char *const losses[] = {"sinkhorn", "hausdorff", "energy", "gaussian", "laplacian"};
  static const char *const backends[] = {"auto", "tensorized", "online", "multiscale"};
  static const char *const devices[] = {"auto", "cpu", "gpu"};
  geomloss_options *o = geomloss_options_create();
  int v;
  int64_t got;
  for (v = 1; v <= 5; v++) {
    const char *n = geomloss_value_name(GEOMLOSS_OPT_LOSS, v);
    CHECK(n && strcmp(n, losses[v - 1]) == 0, "loss %d: %s", v, n ? n : "(null)");
    CHECK_STATUS(geomloss_options_set_string(o, GEOMLOSS_OPT_LOSS, losses[v - 1]), GEOMLOSS_OK, "");
    CHECK_STATUS(geomloss_options_get_int(o, GEOMLOSS_OPT_LOSS, &got), GEOMLOSS_OK, "");
    CHECK(got == v, "loss %s read back as %d", losses[v - 1], (int)got);
  }
  for (v = 0; v <= 3; v++) {
    const char *n = geomloss_value_name(GEOMLOSS_OPT_BACKEND, v);
    CHECK(n && strcmp(n, backends[v]) == 0, "backend %d", v);
    CHECK_STATUS(geomloss_options_set_string(o, GEOMLOSS_OPT_BACKEND, backends[v]), GEOMLOSS_OK, "");
    CHECK_STATUS(geomloss_options_get_int(o, GEOMLOSS_OPT_BACKEND, &got), GEOMLOSS_OK, "");
    CHECK(got == v, "backend %s read back as %d", backends[v], (int)got);
  }
  for (v = 0; v <= 2; v++) {
    const char *n = geomloss_value_name(GEOMLOSS_OPT_DEVICE, v);
    CHECK(n && strcmp(n, devices[v]) == 0, "device %d", v);
    CHECK_STATUS(geomloss_options_set_string(o, GEOMLOSS_OPT_DEVICE, devices[v]), GEOMLOSS_OK, "");
    CHECK_STATUS(geomloss_options_get_int(o, GEOMLOSS_OPT_DEVICE, &got), GEOMLOSS_OK, "");
    CHECK(got == v, "device %s read back as %d", devices[v], (int)got);
  }
  CHECK(geomloss_value_name(GEOMLOSS_OPT_LOSS, 0) == NULL, "loss 0");
  CHECK(geomloss_value_name(GEOMLOSS_OPT_LOSS, 6) == NULL, "loss 6");
  CHECK(geomloss_value_name(GEOMLOSS_OPT_BACKEND, -1) == NULL, "backend -1");
  CHECK(geomloss_value_name(GEOMLOSS_OPT_DEVICE, 3) == NULL, "device 3");
  CHECK(geomloss_value_name(GEOMLOSS_OPT_BLUR, 0) == NULL, "blur has no names");
  CHECK(geomloss_value_name(999, 0) == NULL, "unknown key");
  geomloss_options_destroy(o);
}

/* ---- options ------------------------------------------------------------------- */

static void test_options(void) {
  geomloss_options *o = geomloss_options_create(), *c;
  int64_t i;
  double d;
  char small[8];
  size_t len;
  static const struct {
    int key;
    int64_t def;
  } ints[] = {{GEOMLOSS_OPT_LOSS, GEOMLOSS_LOSS_SINKHORN}, {GEOMLOSS_OPT_P, 2},
              {GEOMLOSS_OPT_DEBIAS, 1}, {GEOMLOSS_OPT_BACKEND, GEOMLOSS_BACKEND_AUTO},
              {GEOMLOSS_OPT_THREADS, 0}, {GEOMLOSS_OPT_DEVICE, GEOMLOSS_DEVICE_AUTO}};
  static const struct {
    int key;
    double def;
  } dbls[] = {{GEOMLOSS_OPT_BLUR, 0.05},    {GEOMLOSS_OPT_REACH, 0},
              {GEOMLOSS_OPT_DIAMETER, 0},   {GEOMLOSS_OPT_SCALING, 0.5},
              {GEOMLOSS_OPT_TRUNCATE, 5},   {GEOMLOSS_OPT_CLUSTER_SCALE, 0}};
  size_t k;

  CHECK(o != NULL, "create");
  CHECK(geomloss_last_error()[0] == '\0', "create leaves no error");
  for (k = 0; k < sizeof ints / sizeof ints[0]; k++) {
    CHECK_STATUS(geomloss_options_get_int(o, ints[k].key, &i), GEOMLOSS_OK, "");
    CHECK(i == ints[k].def, "default of int key %d is %lld", ints[k].key, (long long)i);
  }
  for (k = 0; k < sizeof dbls / sizeof dbls[0]; k++) {
    CHECK_STATUS(geomloss_options_get_double(o, dbls[k].key, &d), GEOMLOSS_OK, "");
    CHECK(d == dbls[k].def, "default of double key %d is %g", dbls[k].key, d);
  }

  /* valid settings, read back */
  CHECK_STATUS(geomloss_options_set_int(o, GEOMLOSS_OPT_P, 1), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_options_set_int(o, GEOMLOSS_OPT_DEBIAS, 0), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_options_set_int(o, GEOMLOSS_OPT_THREADS, 3), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_options_set_int(o, GEOMLOSS_OPT_LOSS, GEOMLOSS_LOSS_GAUSSIAN), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_BLUR, 0.25), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_REACH, 2.0), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_REACH, INFINITY), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_DIAMETER, 3.0), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_SCALING, 0.9), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_TRUNCATE, INFINITY), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_CLUSTER_SCALE, 0.1), GEOMLOSS_OK, "");
  geomloss_options_get_int(o, GEOMLOSS_OPT_P, &i);
  CHECK(i == 1, "p %lld", (long long)i);
  geomloss_options_get_int(o, GEOMLOSS_OPT_DEBIAS, &i);
  CHECK(i == 0, "debias %lld", (long long)i);
  geomloss_options_get_int(o, GEOMLOSS_OPT_THREADS, &i);
  CHECK(i == 3, "threads %lld", (long long)i);
  geomloss_options_get_double(o, GEOMLOSS_OPT_BLUR, &d);
  CHECK(d == 0.25, "blur %g", d);
  geomloss_options_get_double(o, GEOMLOSS_OPT_REACH, &d);
  CHECK(isinf(d), "reach %g", d);
  geomloss_options_get_double(o, GEOMLOSS_OPT_TRUNCATE, &d);
  CHECK(isinf(d), "truncate %g", d);
  geomloss_options_get_double(o, GEOMLOSS_OPT_SCALING, &d);
  CHECK(d == 0.9, "scaling %g", d);

  /* clone copies, and is independent */
  c = geomloss_options_clone(o);
  CHECK(c != NULL, "clone: %s", geomloss_last_error());
  geomloss_options_get_double(c, GEOMLOSS_OPT_DIAMETER, &d);
  CHECK(d == 3.0, "cloned diameter %g", d);
  geomloss_options_set_double(c, GEOMLOSS_OPT_DIAMETER, 7.0);
  geomloss_options_get_double(o, GEOMLOSS_OPT_DIAMETER, &d);
  CHECK(d == 3.0, "original diameter after clone's change %g", d);
  geomloss_options_destroy(c);
  CHECK(geomloss_options_clone(NULL) == NULL, "clone(NULL)");
  CHECK(strstr(geomloss_last_error(), "opts is NULL") != NULL, "clone(NULL) message %s",
        geomloss_last_error());

  /* reset one key, then all */
  CHECK_STATUS(geomloss_options_reset(o, GEOMLOSS_OPT_BLUR), GEOMLOSS_OK, "");
  geomloss_options_get_double(o, GEOMLOSS_OPT_BLUR, &d);
  CHECK(d == 0.05, "blur after reset %g", d);
  geomloss_options_get_int(o, GEOMLOSS_OPT_P, &i);
  CHECK(i == 1, "p untouched by reset of blur: %lld", (long long)i);
  CHECK_STATUS(geomloss_options_reset(o, GEOMLOSS_OPT_THREADS), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_options_reset(o, 0), GEOMLOSS_OK, "");
  for (k = 0; k < sizeof ints / sizeof ints[0]; k++) {
    geomloss_options_get_int(o, ints[k].key, &i);
    CHECK(i == ints[k].def, "int key %d after reset all: %lld", ints[k].key, (long long)i);
  }
  for (k = 0; k < sizeof dbls / sizeof dbls[0]; k++) {
    geomloss_options_get_double(o, dbls[k].key, &d);
    CHECK(d == dbls[k].def, "double key %d after reset all: %g", dbls[k].key, d);
  }
  CHECK_STATUS(geomloss_options_reset(o, 99), GEOMLOSS_ERR_INVALID_OPTION, "option key 99 is unknown");
  CHECK_STATUS(geomloss_options_reset(NULL, 1), GEOMLOSS_ERR_NULL_POINTER, "opts is NULL");

  /* errors: NULL, unknown keys, wrong types, out of range; opts unchanged */
  CHECK_STATUS(geomloss_options_set_int(NULL, GEOMLOSS_OPT_P, 2), GEOMLOSS_ERR_NULL_POINTER, "opts is NULL");
  CHECK_STATUS(geomloss_options_set_double(NULL, GEOMLOSS_OPT_BLUR, 1), GEOMLOSS_ERR_NULL_POINTER, "opts is NULL");
  CHECK_STATUS(geomloss_options_set_string(NULL, GEOMLOSS_OPT_LOSS, "energy"), GEOMLOSS_ERR_NULL_POINTER, "opts is NULL");
  CHECK_STATUS(geomloss_options_get_int(NULL, GEOMLOSS_OPT_P, &i), GEOMLOSS_ERR_NULL_POINTER, "opts is NULL");
  CHECK_STATUS(geomloss_options_get_double(NULL, GEOMLOSS_OPT_BLUR, &d), GEOMLOSS_ERR_NULL_POINTER, "opts is NULL");
  CHECK_STATUS(geomloss_options_get_int(o, GEOMLOSS_OPT_P, NULL), GEOMLOSS_ERR_NULL_POINTER, "value is NULL");
  CHECK_STATUS(geomloss_options_get_double(o, GEOMLOSS_OPT_BLUR, NULL), GEOMLOSS_ERR_NULL_POINTER, "value is NULL");
  CHECK_STATUS(geomloss_options_set_progress(NULL, NULL, NULL), GEOMLOSS_ERR_NULL_POINTER, "opts is NULL");
  CHECK_STATUS(geomloss_options_set_int(o, 0, 1), GEOMLOSS_ERR_INVALID_OPTION, "option key 0 is unknown");
  CHECK_STATUS(geomloss_options_set_int(o, 21, 1), GEOMLOSS_ERR_INVALID_OPTION, "option key 21 is unknown");
  CHECK_STATUS(geomloss_options_set_double(o, -5, 1), GEOMLOSS_ERR_INVALID_OPTION, "option key -5 is unknown");
  CHECK_STATUS(geomloss_options_get_int(o, 42, &i), GEOMLOSS_ERR_INVALID_OPTION, "option key 42 is unknown");
  CHECK_STATUS(geomloss_options_set_int(o, GEOMLOSS_OPT_BLUR, 1), GEOMLOSS_ERR_INVALID_OPTION, "blur is a floating-point option");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_P, 2.0), GEOMLOSS_ERR_INVALID_OPTION, "p is an integer option");
  CHECK_STATUS(geomloss_options_get_double(o, GEOMLOSS_OPT_LOSS, &d), GEOMLOSS_ERR_INVALID_OPTION, "loss is an integer option");
  CHECK_STATUS(geomloss_options_get_int(o, GEOMLOSS_OPT_REACH, &i), GEOMLOSS_ERR_INVALID_OPTION, "reach is a floating-point option");
  CHECK_STATUS(geomloss_options_set_string(o, GEOMLOSS_OPT_BLUR, "0.1"), GEOMLOSS_ERR_INVALID_OPTION, "blur is not an enumerated option");
  CHECK_STATUS(geomloss_options_set_string(o, GEOMLOSS_OPT_LOSS, "wasserstein"), GEOMLOSS_ERR_INVALID_OPTION, "loss: unknown name \"wasserstein\"");
  CHECK_STATUS(geomloss_options_set_string(o, GEOMLOSS_OPT_BACKEND, "Online"), GEOMLOSS_ERR_INVALID_OPTION, "backend: unknown name");
  CHECK_STATUS(geomloss_options_set_string(o, GEOMLOSS_OPT_DEVICE, "tpu"), GEOMLOSS_ERR_INVALID_OPTION, "device: unknown name");
  CHECK_STATUS(geomloss_options_set_string(o, GEOMLOSS_OPT_LOSS, NULL), GEOMLOSS_ERR_NULL_POINTER, "value is NULL");
  CHECK_STATUS(geomloss_options_set_string(o, 77, "x"), GEOMLOSS_ERR_INVALID_OPTION, "option key 77 is unknown");
  CHECK_STATUS(geomloss_options_set_int(o, GEOMLOSS_OPT_LOSS, 0), GEOMLOSS_ERR_INVALID_OPTION, "loss: unknown value 0");
  CHECK_STATUS(geomloss_options_set_int(o, GEOMLOSS_OPT_LOSS, 6), GEOMLOSS_ERR_INVALID_OPTION, "loss: unknown value 6");
  CHECK_STATUS(geomloss_options_set_int(o, GEOMLOSS_OPT_BACKEND, 4), GEOMLOSS_ERR_INVALID_OPTION, "backend: unknown value 4");
  CHECK_STATUS(geomloss_options_set_int(o, GEOMLOSS_OPT_DEVICE, -1), GEOMLOSS_ERR_INVALID_OPTION, "device: unknown value -1");
  CHECK_STATUS(geomloss_options_set_int(o, GEOMLOSS_OPT_P, 3), GEOMLOSS_ERR_INVALID_OPTION, "p: must be 1 or 2, got 3");
  CHECK_STATUS(geomloss_options_set_int(o, GEOMLOSS_OPT_P, INT64_MIN), GEOMLOSS_ERR_INVALID_OPTION, "p: must be 1 or 2");
  CHECK_STATUS(geomloss_options_set_int(o, GEOMLOSS_OPT_DEBIAS, 2), GEOMLOSS_ERR_INVALID_OPTION, "debias: must be 0 or 1");
  CHECK_STATUS(geomloss_options_set_int(o, GEOMLOSS_OPT_THREADS, -1), GEOMLOSS_ERR_INVALID_OPTION, "threads: must lie in");
  CHECK_STATUS(geomloss_options_set_int(o, GEOMLOSS_OPT_THREADS, INT64_MAX), GEOMLOSS_ERR_INVALID_OPTION, "threads: must lie in");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_BLUR, 0), GEOMLOSS_ERR_INVALID_OPTION, "blur: must be a positive finite number, got 0");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_BLUR, -1), GEOMLOSS_ERR_INVALID_OPTION, "blur: must be a positive finite number, got -1");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_BLUR, NAN), GEOMLOSS_ERR_INVALID_OPTION, "blur: must be a positive finite number, got NaN");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_BLUR, INFINITY), GEOMLOSS_ERR_INVALID_OPTION, "blur: must be a positive finite number");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_REACH, -0.5), GEOMLOSS_ERR_INVALID_OPTION, "reach: must be positive");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_REACH, NAN), GEOMLOSS_ERR_INVALID_OPTION, "reach: must be positive");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_DIAMETER, INFINITY), GEOMLOSS_ERR_INVALID_OPTION, "diameter: must be positive and finite");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_DIAMETER, -1), GEOMLOSS_ERR_INVALID_OPTION, "diameter: must be positive and finite");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_SCALING, 1.0), GEOMLOSS_ERR_INVALID_OPTION, "scaling: must lie in (0, 1), got 1");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_SCALING, 0.0), GEOMLOSS_ERR_INVALID_OPTION, "scaling: must lie in (0, 1), got 0");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_TRUNCATE, 0.0), GEOMLOSS_ERR_INVALID_OPTION, "truncate: must be positive");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_CLUSTER_SCALE, -1), GEOMLOSS_ERR_INVALID_OPTION, "cluster_scale: must be positive and finite");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_CLUSTER_SCALE, NAN), GEOMLOSS_ERR_INVALID_OPTION, "cluster_scale");
  /* nothing above changed the defaults */
  for (k = 0; k < sizeof ints / sizeof ints[0]; k++) {
    geomloss_options_get_int(o, ints[k].key, &i);
    CHECK(i == ints[k].def, "int key %d changed by a failed setter: %lld", ints[k].key, (long long)i);
  }
  for (k = 0; k < sizeof dbls / sizeof dbls[0]; k++) {
    geomloss_options_get_double(o, dbls[k].key, &d);
    CHECK(d == dbls[k].def, "double key %d changed by a failed setter: %g", dbls[k].key, d);
  }

  /* last_error_copy: full length returned, truncation, NUL termination */
  geomloss_options_set_int(o, GEOMLOSS_OPT_P, 3);
  len = geomloss_last_error_copy(small, sizeof small);
  CHECK(len == strlen(geomloss_last_error()), "copy length %zu", len);
  CHECK(strlen(small) == sizeof small - 1 && strncmp(small, geomloss_last_error(), 7) == 0,
        "truncated copy \"%s\"", small);
  CHECK(geomloss_last_error_copy(NULL, 0) == len, "copy(NULL, 0)");
  /* a success clears it */
  geomloss_options_set_int(o, GEOMLOSS_OPT_P, 2);
  CHECK(geomloss_last_error()[0] == '\0' && geomloss_last_error_copy(small, sizeof small) == 0 &&
            small[0] == '\0', "cleared: \"%s\"", geomloss_last_error());

  geomloss_options_destroy(o);
  geomloss_options_destroy(NULL); /* no-op */
}

/* ---- closed-form values ------------------------------------------------------- */

static void test_translation(void) {
  /* S(x, x + t) = |t|^2 / 2 for the balanced debiased Sinkhorn divergence with
   * p = 2 (up to the blur's bias), and its gradient w.r.t. x_i is -t/N. */
  enum { N = 50, D = 3 };
  static const double t[D] = {0.3, -0.2, 0.1};
  double x[N * D], y[N * D], gx[N * D], gy[N * D], v = -1, v2 = -1, want = 0;
  float xf[N * D], yf[N * D], vf = -1, gxf[N * D];
  geomloss_options *o = geomloss_options_create();
  int i, k;
  double maxerr = 0, maxerrf = 0;
  fill_unif(x, N * D, 1);
  for (i = 0; i < N; i++)
    for (k = 0; k < D; k++) y[i * D + k] = x[i * D + k] + t[k];
  for (k = 0; k < D; k++) want += t[k] * t[k] / 2;
  geomloss_options_set_double(o, GEOMLOSS_OPT_BLUR, 1e-3);
  geomloss_options_set_double(o, GEOMLOSS_OPT_SCALING, 0.9);
  CHECK_STATUS(geomloss_eval_f64(o, 1, N, N, D, x, y, NULL, NULL, NULL, NULL, NULL, &v, NULL, NULL,
                                 gx, gy, NULL, NULL),
               GEOMLOSS_OK, "");
  CHECK_NEAR(v, want, 1e-5);
  for (i = 0; i < N; i++)
    for (k = 0; k < D; k++) {
      double e = fabs(gx[i * D + k] + t[k] / N), e2 = fabs(gy[i * D + k] - t[k] / N);
      if (e > maxerr) maxerr = e;
      if (e2 > maxerr) maxerr = e2;
    }
  CHECK(maxerr < 1e-6, "translation gradient error %g", maxerr);

  /* float32 agrees with float64 */
  to_f32(xf, x, N * D);
  to_f32(yf, y, N * D);
  CHECK_STATUS(geomloss_eval_f32(o, 1, N, N, D, xf, yf, NULL, NULL, NULL, NULL, NULL, &vf, NULL,
                                 NULL, gxf, NULL, NULL, NULL),
               GEOMLOSS_OK, "");
  CHECK_NEAR(vf, v, 1e-4 * fabs(v) + 1e-6);
  for (i = 0; i < N * D; i++) {
    double e = fabs((double)gxf[i] - gx[i]);
    if (e > maxerrf) maxerrf = e;
  }
  CHECK(maxerrf < 1e-5, "f32 vs f64 gradient error %g", maxerrf);

  /* cot_value scales gradients; value is unchanged */
  {
    double cv = 2.5, gx2[N * D];
    CHECK_STATUS(geomloss_eval_f64(o, 1, N, N, D, x, y, NULL, NULL, &cv, NULL, NULL, &v2, NULL,
                                   NULL, gx2, NULL, NULL, NULL),
                 GEOMLOSS_OK, "");
    CHECK(v2 == v, "value with a cotangent %g vs %g", v2, v);
    maxerr = 0;
    for (i = 0; i < N * D; i++) {
      double e = fabs(gx2[i] - 2.5 * gx[i]);
      if (e > maxerr) maxerr = e;
    }
    CHECK(maxerr < 1e-12, "cotangent scaling error %g", maxerr);
  }
  geomloss_options_destroy(o);
}

static void test_identical_zero(void) {
  /* Every loss of identical clouds is 0. */
  enum { N = 40, D = 2 };
  double x[N * D], v;
  float xf[N * D], vf;
  int loss;
  geomloss_options *o = geomloss_options_create();
  fill_unif(x, N * D, 2);
  to_f32(xf, x, N * D);
  for (loss = GEOMLOSS_LOSS_SINKHORN; loss <= GEOMLOSS_LOSS_LAPLACIAN; loss++) {
    int p;
    geomloss_options_set_int(o, GEOMLOSS_OPT_LOSS, loss);
    for (p = 1; p <= 2; p++) {
      geomloss_options_set_int(o, GEOMLOSS_OPT_P, p);
      v = -1;
      CHECK_STATUS(eval_value(o, 1, N, N, D, x, x, &v), GEOMLOSS_OK, "");
      CHECK(fabs(v) < 1e-9, "%s p=%d: S(x, x) = %g", geomloss_value_name(GEOMLOSS_OPT_LOSS, loss),
            p, v);
      vf = -1;
      CHECK_STATUS(geomloss_eval_f32(o, 1, N, N, D, xf, xf, NULL, NULL, NULL, NULL, NULL, &vf,
                                     NULL, NULL, NULL, NULL, NULL, NULL),
                   GEOMLOSS_OK, "");
      CHECK(fabs(vf) < 1e-4, "%s p=%d f32: S(x, x) = %g",
            geomloss_value_name(GEOMLOSS_OPT_LOSS, loss), p, (double)vf);
    }
  }
  /* NULL options = defaults */
  v = -1;
  CHECK_STATUS(eval_value(NULL, 1, N, N, D, x, x, &v), GEOMLOSS_OK, "");
  CHECK(fabs(v) < 1e-9, "defaults: S(x, x) = %g", v);
  geomloss_options_destroy(o);
}

static void test_outputs_and_report(void) {
  /* B = 2 equals two B = 1 runs; explicit uniform weights equal NULL weights;
   * every output is written; the last-run report; backends. */
  enum { B = 2, N = 30, M = 20, D = 3 };
  double x[B * N * D], y[B * M * D], a[B * N], b[B * M];
  double v[B], F[B * N], G[B * M], gx[B * N * D], gy[B * M * D], ga[B * N], gb[B * M];
  double v1, F1[N], gx1[N * D], v2[B];
  geomloss_options *o = geomloss_options_create();
  int i, same = 1;
  fill_unif(x, B * N * D, 3);
  fill_unif(y, B * M * D, 4);
  for (i = 0; i < B * M * D; i++) y[i] = 0.5 * y[i] + 0.3;
  for (i = 0; i < B * N; i++) a[i] = 1.0 / N;
  for (i = 0; i < B * M; i++) b[i] = 1.0 / M;
  geomloss_options_set_double(o, GEOMLOSS_OPT_BLUR, 0.1);
  geomloss_options_set_double(o, GEOMLOSS_OPT_DIAMETER, 2.0);
  CHECK_STATUS(geomloss_eval_f64(o, B, N, M, D, x, y, NULL, NULL, NULL, NULL, NULL, v, F, G, gx,
                                 gy, ga, gb),
               GEOMLOSS_OK, "");
  CHECK(v[0] > 0 && v[1] > 0 && isfinite(v[0]) && isfinite(v[1]), "values %g %g", v[0], v[1]);
  /* auto picks the fastest exact backend for the engine: online on the CPU */
  CHECK(geomloss_last_backend() == GEOMLOSS_BACKEND_ONLINE, "auto on a small problem ran %d",
        geomloss_last_backend());
  CHECK(geomloss_last_device() == GEOMLOSS_DEVICE_CPU, "device %d", geomloss_last_device());
  CHECK(geomloss_last_engine()[0] != '\0', "engine name empty");
  for (i = 0; i < B * N; i++) same &= isfinite(F[i]) && isfinite(ga[i]);
  for (i = 0; i < B * M; i++) same &= isfinite(G[i]) && isfinite(gb[i]);
  for (i = 0; i < B * N * D; i++) same &= isfinite(gx[i]);
  for (i = 0; i < B * M * D; i++) same &= isfinite(gy[i]);
  CHECK(same, "non-finite outputs");

  /* batch item 1 alone (the diameter is fixed above: estimated, it would span
   * the whole batch, as in GeomLoss, and change the eps-schedule) */
  CHECK_STATUS(geomloss_eval_f64(o, 1, N, M, D, x + N * D, y + M * D, NULL, NULL, NULL, NULL, NULL,
                                 &v1, F1, NULL, gx1, NULL, NULL, NULL),
               GEOMLOSS_OK, "");
  CHECK_NEAR(v1, v[1], 1e-12);
  CHECK_NEAR(F1[3], F[N + 3], 1e-12);
  CHECK_NEAR(gx1[7], gx[N * D + 7], 1e-12);

  /* explicit uniform weights */
  CHECK_STATUS(geomloss_eval_f64(o, B, N, M, D, x, y, a, b, NULL, NULL, NULL, v2, NULL, NULL, NULL,
                                 NULL, NULL, NULL),
               GEOMLOSS_OK, "");
  CHECK_NEAR(v2[0], v[0], 1e-10);
  CHECK_NEAR(v2[1], v[1], 1e-10);

  /* cot_F: gradient of sum(F) w.r.t. x equals (F(x+h) - F(x-h))/2h summed; here
   * only check it changes the gradient and keeps values */
  {
    double cf[B * N], zero[B] = {0, 0}, gxc[B * N * D], vc[B];
    int changed = 0;
    for (i = 0; i < B * N; i++) cf[i] = 1;
    CHECK_STATUS(geomloss_eval_f64(o, B, N, M, D, x, y, NULL, NULL, zero, cf, NULL, vc, NULL, NULL,
                                   gxc, NULL, NULL, NULL),
                 GEOMLOSS_OK, "");
    CHECK(vc[0] == v[0] && vc[1] == v[1], "values with cotangents");
    for (i = 0; i < B * N * D; i++) changed |= gxc[i] != gx[i];
    CHECK(changed, "cot_F did not change grad_x");
  }

  /* backends: online agrees with tensorized; multiscale (small clouds: untruncated) agrees too */
  geomloss_options_set_int(o, GEOMLOSS_OPT_BACKEND, GEOMLOSS_BACKEND_ONLINE);
  CHECK_STATUS(eval_value(o, B, N, M, D, x, y, v2), GEOMLOSS_OK, "");
  CHECK(geomloss_last_backend() == GEOMLOSS_BACKEND_ONLINE, "online ran %d", geomloss_last_backend());
  CHECK_NEAR(v2[0], v[0], 1e-10);
  geomloss_options_set_int(o, GEOMLOSS_OPT_BACKEND, GEOMLOSS_BACKEND_MULTISCALE);
  CHECK_STATUS(eval_value(o, B, N, M, D, x, y, v2), GEOMLOSS_OK, "");
  CHECK(geomloss_last_backend() == GEOMLOSS_BACKEND_MULTISCALE, "multiscale ran %d",
        geomloss_last_backend());
  CHECK_NEAR(v2[0], v[0], 1e-10);
  CHECK(strstr(geomloss_last_note(), "multiscale") != NULL, "note \"%s\"", geomloss_last_note());
  geomloss_options_set_int(o, GEOMLOSS_OPT_BACKEND, GEOMLOSS_BACKEND_TENSORIZED);
  CHECK_STATUS(eval_value(o, B, N, M, D, x, y, v2), GEOMLOSS_OK, "");
  CHECK(geomloss_last_backend() == GEOMLOSS_BACKEND_TENSORIZED, "tensorized ran %d",
        geomloss_last_backend());
  /* no substitution of the backend (device auto may say why no GPU ran) */
  CHECK(strstr(geomloss_last_note(), "tensorized") == NULL, "note \"%s\"", geomloss_last_note());
  geomloss_options_set_int(o, GEOMLOSS_OPT_DEVICE, GEOMLOSS_DEVICE_CPU);
  CHECK_STATUS(eval_value(o, B, N, M, D, x, y, v2), GEOMLOSS_OK, "");
  CHECK(geomloss_last_note()[0] == '\0', "device cpu, tensorized: note \"%s\"", geomloss_last_note());
  geomloss_options_set_int(o, GEOMLOSS_OPT_DEVICE, GEOMLOSS_DEVICE_AUTO);

  /* threads = 1 gives the same bits as all cores */
  geomloss_options_set_int(o, GEOMLOSS_OPT_BACKEND, GEOMLOSS_BACKEND_ONLINE);
  CHECK_STATUS(eval_value(o, B, N, M, D, x, y, v), GEOMLOSS_OK, "");
  geomloss_options_set_int(o, GEOMLOSS_OPT_THREADS, 1);
  CHECK_STATUS(eval_value(o, B, N, M, D, x, y, v2), GEOMLOSS_OK, "");
  CHECK(memcmp(v, v2, sizeof v) == 0, "threads=1 %.17g vs all %.17g", v2[0], v[0]);

  /* device: cpu runs, gpu is unsupported (for now), auto runs on the cpu */
  geomloss_options_set_int(o, GEOMLOSS_OPT_DEVICE, GEOMLOSS_DEVICE_CPU);
  CHECK_STATUS(eval_value(o, B, N, M, D, x, y, v2), GEOMLOSS_OK, "");
  geomloss_options_set_int(o, GEOMLOSS_OPT_DEVICE, GEOMLOSS_DEVICE_GPU);
  v2[0] = 42;
  CHECK_STATUS(eval_value(o, B, N, M, D, x, y, v2), GEOMLOSS_ERR_UNSUPPORTED, "device: gpu requested but unavailable");
  CHECK(v2[0] == 42, "output written on error");
  CHECK(geomloss_last_backend() == -1 && geomloss_last_device() == -1 &&
            geomloss_last_engine()[0] == '\0',
        "report not cleared after an error");
  geomloss_options_destroy(o);
}

/* ---- error paths ----------------------------------------------------------------- */

static void test_errors(void) {
  enum { N = 6, M = 5, D = 2 };
  double x[N * D], y[M * D], a[N], b[M], v = 42, F[N], gx[N * D], cv = 1, bad[N * D];
  float xf[N * D], yf[M * D], vf = 42;
  geomloss_options *o = geomloss_options_create();
  double *fake;
  int i;
  fill_unif(x, N * D, 5);
  fill_unif(y, M * D, 6);
  to_f32(xf, x, N * D);
  to_f32(yf, y, M * D);
  for (i = 0; i < N; i++) a[i] = 1.0 / N, F[i] = 42;
  for (i = 0; i < M; i++) b[i] = 1.0 / M;
  for (i = 0; i < N * D; i++) gx[i] = 42;

#define EV(opts, B_, N_, M_, D_, x_, y_, a_, b_, cv_, val_)                                  \
  geomloss_eval_f64(opts, B_, N_, M_, D_, x_, y_, a_, b_, cv_, NULL, NULL, val_, F, NULL, gx, \
                    NULL, NULL, NULL)
  /* NULL pointers */
  CHECK_STATUS(EV(o, 1, N, M, D, NULL, y, NULL, NULL, NULL, &v), GEOMLOSS_ERR_NULL_POINTER, "x is NULL");
  CHECK_STATUS(EV(o, 1, N, M, D, x, NULL, NULL, NULL, NULL, &v), GEOMLOSS_ERR_NULL_POINTER, "y is NULL");
  CHECK_STATUS(EV(o, 1, N, M, D, x, y, NULL, NULL, NULL, NULL), GEOMLOSS_ERR_NULL_POINTER, "value is NULL");
  CHECK_STATUS(geomloss_eval_f32(o, 1, N, M, D, xf, NULL, NULL, NULL, NULL, NULL, NULL, &vf, NULL,
                                 NULL, NULL, NULL, NULL, NULL),
               GEOMLOSS_ERR_NULL_POINTER, "y is NULL");
  /* sizes */
  CHECK_STATUS(EV(o, 0, N, M, D, x, y, NULL, NULL, NULL, &v), GEOMLOSS_ERR_SIZE, "B must be >= 1, got 0");
  CHECK_STATUS(EV(o, 1, 0, M, D, x, y, NULL, NULL, NULL, &v), GEOMLOSS_ERR_SIZE, "N must be >= 1, got 0");
  CHECK_STATUS(EV(o, 1, N, -3, D, x, y, NULL, NULL, NULL, &v), GEOMLOSS_ERR_SIZE, "M must be >= 1, got -3");
  CHECK_STATUS(EV(o, 1, N, M, INT64_MIN, x, y, NULL, NULL, NULL, &v), GEOMLOSS_ERR_SIZE, "D must be >= 1");
  CHECK_STATUS(EV(o, 1, INT64_C(1) << 40, M, D, x, y, NULL, NULL, NULL, &v), GEOMLOSS_ERR_SIZE, "x (B*N*D)");
  CHECK_STATUS(EV(o, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, x, y, NULL, NULL, NULL, &v), GEOMLOSS_ERR_SIZE, "more than 2^40 elements");
  CHECK_STATUS(EV(o, 1, N, INT64_C(1) << 21, INT64_C(1) << 20, x, y, NULL, NULL, NULL, &v), GEOMLOSS_ERR_SIZE, "y (B*M*D)");
  /* non-finite values */
  memcpy(bad, x, sizeof x);
  bad[7] = NAN;
  CHECK_STATUS(EV(o, 1, N, M, D, bad, y, NULL, NULL, NULL, &v), GEOMLOSS_ERR_VALUE, "x: element 7 is not finite");
  bad[7] = x[7];
  bad[2] = -INFINITY;
  CHECK_STATUS(EV(o, 1, M, N, D, y, bad, NULL, NULL, NULL, &v), GEOMLOSS_ERR_VALUE, "y: element 2 is not finite");
  bad[2] = x[2];
  {
    double cvbad = INFINITY;
    CHECK_STATUS(EV(o, 1, N, M, D, x, y, NULL, NULL, &cvbad, &v), GEOMLOSS_ERR_VALUE, "cotangent of the value");
    CHECK_STATUS(EV(o, 1, N, M, D, x, y, NULL, NULL, &cv, &v), GEOMLOSS_OK, "");
    v = 42;
    for (i = 0; i < N; i++) F[i] = 42;
    for (i = 0; i < N * D; i++) gx[i] = 42;
  }
  {
    float xbad[N * D];
    memcpy(xbad, xf, sizeof xf);
    xbad[0] = (float)NAN;
    CHECK_STATUS(geomloss_eval_f32(o, 1, N, M, D, xbad, yf, NULL, NULL, NULL, NULL, NULL, &vf,
                                   NULL, NULL, NULL, NULL, NULL, NULL),
                 GEOMLOSS_ERR_VALUE, "x: element 0 is not finite");
    CHECK(vf == 42, "f32 output written on error");
  }
  /* weights */
  a[2] = -0.1;
  CHECK_STATUS(EV(o, 1, N, M, D, x, y, a, NULL, NULL, &v), GEOMLOSS_ERR_VALUE, "weight 2 of batch item 0 is negative");
  a[2] = NAN;
  CHECK_STATUS(EV(o, 1, N, M, D, x, y, a, NULL, NULL, &v), GEOMLOSS_ERR_VALUE, "a (weights of x): element 2 is not finite");
  for (i = 0; i < N; i++) a[i] = 0;
  CHECK_STATUS(EV(o, 1, N, M, D, x, y, a, NULL, NULL, &v), GEOMLOSS_ERR_VALUE, "all weights of batch item 0 are zero");
  for (i = 0; i < N; i++) a[i] = 1.0 / N;
  b[0] = 1;
  CHECK_STATUS(EV(o, 1, N, M, D, x, y, a, b, NULL, &v), GEOMLOSS_ERR_VALUE, "set reach for unbalanced transport");
  /* ...which unbalanced transport accepts */
  geomloss_options_set_double(o, GEOMLOSS_OPT_REACH, 0.5);
  CHECK_STATUS(geomloss_eval_f64(o, 1, N, M, D, x, y, a, b, NULL, NULL, NULL, &v, NULL, NULL, NULL,
                                 NULL, NULL, NULL),
               GEOMLOSS_OK, "");
  v = 42;
  /* cross-option rule: hausdorff is balanced only */
  geomloss_options_set_int(o, GEOMLOSS_OPT_LOSS, GEOMLOSS_LOSS_HAUSDORFF);
  CHECK_STATUS(EV(o, 1, N, M, D, x, y, NULL, NULL, NULL, &v), GEOMLOSS_ERR_INVALID_OPTION, "hausdorff loss is balanced only");
  geomloss_options_reset(o, 0);
  b[0] = 1.0 / M;
  /* kernel losses accept signed weights */
  geomloss_options_set_int(o, GEOMLOSS_OPT_LOSS, GEOMLOSS_LOSS_ENERGY);
  a[0] = -0.5;
  a[1] = 0.5 + 2.0 / N;
  CHECK_STATUS(geomloss_eval_f64(o, 1, N, M, D, x, y, a, b, NULL, NULL, NULL, &v, NULL, NULL, NULL,
                                 NULL, NULL, NULL),
               GEOMLOSS_OK, "");
  v = 42;
  geomloss_options_reset(o, 0);
  /* memory cap of the tensorized backend */
  {
    enum { BIG = 8200 };
    double *bx = dalloc(BIG), vb = 42;
    geomloss_options_set_int(o, GEOMLOSS_OPT_BACKEND, GEOMLOSS_BACKEND_TENSORIZED);
    CHECK_STATUS(geomloss_eval_f64(o, 1, BIG, BIG, 1, bx, bx, NULL, NULL, NULL, NULL, NULL, &vb,
                                   NULL, NULL, NULL, NULL, NULL, NULL),
                 GEOMLOSS_ERR_MEMORY, "use backend online");
    CHECK(vb == 42, "output written on error");
    free(bx);
    geomloss_options_reset(o, 0);
  }
  /* an options pointer that is not a live options object */
  fake = dalloc(64);
  CHECK_STATUS(EV((const geomloss_options *)(void *)fake, 1, N, M, D, x, y, NULL, NULL, NULL, &v),
               GEOMLOSS_ERR_INVALID_ARGUMENT, "opts is not a live geomloss_options");
  CHECK_STATUS(geomloss_options_set_int((geomloss_options *)(void *)fake, GEOMLOSS_OPT_P, 1),
               GEOMLOSS_ERR_INVALID_ARGUMENT, "opts is not a live geomloss_options");
  CHECK(geomloss_options_clone((const geomloss_options *)(void *)fake) == NULL, "clone of a fake");
  free(fake);

  /* nothing was written by any failed call */
  CHECK(v == 42, "value written on error: %g", v);
  for (i = 0; i < N; i++) CHECK(F[i] == 42, "F[%d] written on error", i);
  for (i = 0; i < N * D; i++) CHECK(gx[i] == 42, "grad_x[%d] written on error", i);
  /* and no input was ever written */
  {
    double x0[N * D];
    fill_unif(x0, N * D, 5);
    CHECK(memcmp(x0, x, sizeof x) == 0, "x was modified");
  }
#undef EV
  geomloss_options_destroy(o);
}

/* ---- progress -------------------------------------------------------------------- */

struct progress_log {
  int calls, bad_order, wrong_thread, saw_item2;
  int64_t last_iter, last_total;
  pthread_t caller;
  char stage[64];
};

static int on_progress(const char *stage, int64_t iter, int64_t total, void *user) {
  struct progress_log *log = (struct progress_log *)user;
  if (!pthread_equal(pthread_self(), log->caller)) log->wrong_thread++;
  if (log->calls > 0 && strcmp(stage, log->stage) == 0 && iter < log->last_iter) log->bad_order++;
  if (iter < 0 || total < 0 || (total > 0 && iter > total)) log->bad_order++;
  log->calls++;
  if (strstr(stage, "batch item 2") != NULL) log->saw_item2 = 1;
  log->last_iter = iter;
  log->last_total = total;
  strncpy(log->stage, stage, sizeof log->stage - 1);
  log->stage[sizeof log->stage - 1] = '\0';
  /* the ABI may be used from inside the callback (not evaluations) */
  (void)geomloss_status_string(0);
  return 0;
}

static void test_progress(void) {
  enum { N = 30, D = 2 };
  double x[N * D], y[N * D], v, v0, gx[N * D], gx0[N * D];
  struct progress_log log;
  geomloss_options *o = geomloss_options_create();
  memset(&log, 0, sizeof log);
  log.caller = pthread_self();
  fill_unif(x, N * D, 7);
  fill_unif(y, N * D, 8);
  CHECK_STATUS(geomloss_eval_f64(o, 1, N, N, D, x, y, NULL, NULL, NULL, NULL, NULL, &v0, NULL,
                                 NULL, gx0, NULL, NULL, NULL),
               GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_options_set_progress(o, on_progress, &log), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_eval_f64(o, 1, N, N, D, x, y, NULL, NULL, NULL, NULL, NULL, &v, NULL, NULL,
                                 gx, NULL, NULL, NULL),
               GEOMLOSS_OK, "");
  CHECK(log.calls > 1, "progress called %d times", log.calls);
  CHECK(log.bad_order == 0, "progress out of order %d times", log.bad_order);
  CHECK(log.wrong_thread == 0, "progress called %d times off the caller's thread", log.wrong_thread);
  CHECK(strstr(log.stage, "sinkhorn") != NULL, "stage \"%s\"", log.stage);
  CHECK(log.last_total > 0 && log.last_iter == log.last_total, "last report %lld/%lld",
        (long long)log.last_iter, (long long)log.last_total);
  CHECK(v == v0 && memcmp(gx, gx0, sizeof gx) == 0, "progress changed the results");
  /* a clone keeps the callback; a batch reports per item; kernel losses report too */
  {
    geomloss_options *c = geomloss_options_clone(o);
    double x2[2 * N * D], y2[2 * N * D], v2[2];
    memcpy(x2, x, sizeof x);
    memcpy(x2 + N * D, y, sizeof y);
    memcpy(y2, y, sizeof y);
    memcpy(y2 + N * D, x, sizeof x);
    log.calls = 0;
    log.saw_item2 = 0;
    CHECK_STATUS(eval_value(c, 2, N, N, D, x2, y2, v2), GEOMLOSS_OK, "");
    CHECK(log.calls > 2, "clone's callback called %d times", log.calls);
    /* batch items may run concurrently (one per core): each reports its own stage */
    CHECK(log.saw_item2, "no report for batch item 2 (last stage \"%s\")", log.stage);
    log.calls = 0;
    geomloss_options_set_int(c, GEOMLOSS_OPT_LOSS, GEOMLOSS_LOSS_GAUSSIAN);
    CHECK_STATUS(eval_value(c, 1, N, N, D, x, y, &v), GEOMLOSS_OK, "");
    CHECK(log.calls >= 1 && strstr(log.stage, "gaussian") != NULL, "gaussian: %d calls, \"%s\"",
          log.calls, log.stage);
    geomloss_options_destroy(c);
  }
  /* no callback on failure before the computation */
  log.calls = 0;
  CHECK_STATUS(eval_value(o, 1, 0, N, D, x, y, &v), GEOMLOSS_ERR_SIZE, "N must be");
  CHECK(log.calls == 0, "progress called on a failed call");
  /* removing it: silent */
  CHECK_STATUS(geomloss_options_set_progress(o, NULL, NULL), GEOMLOSS_OK, "");
  CHECK_STATUS(eval_value(o, 1, N, N, D, x, y, &v), GEOMLOSS_OK, "");
  CHECK(log.calls == 0, "removed callback called %d times", log.calls);
  /* reset(0) removes it too */
  geomloss_options_set_progress(o, on_progress, &log);
  geomloss_options_reset(o, 0);
  CHECK_STATUS(eval_value(o, 1, N, N, D, x, y, &v), GEOMLOSS_OK, "");
  CHECK(log.calls == 0, "callback survived reset(0): %d calls", log.calls);
  geomloss_options_destroy(o);
}

/* ---- concurrency ------------------------------------------------------------------- */

enum { NPROB = 8, CN = 24, CM = 17, CD = 3, NTHREADS = 8 };

struct problem {
  double x[CN * CD], y[CM * CD];
  float xf[CN * CD], yf[CM * CD];
  double v, gx[CN * CD];
  float vf, gyf[CM * CD];
};
static struct problem probs[NPROB];
static geomloss_options *shared_opts;
static int thread_iters = 200;

struct worker {
  int id, mismatches, errors, msg_mismatches;
};

static void *worker_main(void *arg) {
  struct worker *w = (struct worker *)arg;
  int it;
  for (it = 0; it < thread_iters; it++) {
    struct problem *p = &probs[(w->id + it) % NPROB];
    if (it % 2 == 0) {
      double v, gx[CN * CD];
      if (geomloss_eval_f64(shared_opts, 1, CN, CM, CD, p->x, p->y, NULL, NULL, NULL, NULL, NULL,
                            &v, NULL, NULL, gx, NULL, NULL, NULL) != GEOMLOSS_OK)
        w->errors++;
      else if (memcmp(&v, &p->v, sizeof v) != 0 || memcmp(gx, p->gx, sizeof gx) != 0)
        w->mismatches++;
      if (geomloss_last_error()[0] != '\0') w->msg_mismatches++;
    } else {
      float v, gy[CM * CD];
      if (geomloss_eval_f32(shared_opts, 1, CN, CM, CD, p->xf, p->yf, NULL, NULL, NULL, NULL, NULL,
                            &v, NULL, NULL, NULL, gy, NULL, NULL) != GEOMLOSS_OK)
        w->errors++;
      else if (memcmp(&v, &p->vf, sizeof v) != 0 || memcmp(gy, p->gyf, sizeof gy) != 0)
        w->mismatches++;
    }
    /* per-thread error messages: an error here, with this thread's id in it */
    if (it % 10 == 0) {
      char want[64];
      double v;
      snprintf(want, sizeof want, "N must be >= 1, got -%d", w->id + 1);
      if (geomloss_eval_f64(shared_opts, 1, -(w->id + 1), CM, CD, p->x, p->y, NULL, NULL, NULL,
                            NULL, NULL, &v, NULL, NULL, NULL, NULL, NULL, NULL) !=
              GEOMLOSS_ERR_SIZE ||
          strstr(geomloss_last_error(), want) == NULL)
        w->msg_mismatches++;
    }
  }
  return NULL;
}

static void test_concurrency(void) {
  pthread_t th[NTHREADS];
  struct worker w[NTHREADS];
  int i, k, mism = 0, errs = 0, msgs = 0;
  const char *env = getenv("GEOMLOSS_TEST_THREAD_ITERS");
  if (env && atoi(env) > 0) thread_iters = atoi(env);
  shared_opts = geomloss_options_create();
  geomloss_options_set_double(shared_opts, GEOMLOSS_OPT_BLUR, 0.1);
  for (k = 0; k < NPROB; k++) {
    struct problem *p = &probs[k];
    fill_unif(p->x, CN * CD, 100 + k);
    fill_unif(p->y, CM * CD, 200 + k);
    to_f32(p->xf, p->x, CN * CD);
    to_f32(p->yf, p->y, CM * CD);
    CHECK_STATUS(geomloss_eval_f64(shared_opts, 1, CN, CM, CD, p->x, p->y, NULL, NULL, NULL, NULL,
                                   NULL, &p->v, NULL, NULL, p->gx, NULL, NULL, NULL),
                 GEOMLOSS_OK, "");
    CHECK_STATUS(geomloss_eval_f32(shared_opts, 1, CN, CM, CD, p->xf, p->yf, NULL, NULL, NULL,
                                   NULL, NULL, &p->vf, NULL, NULL, NULL, p->gyf, NULL, NULL),
                 GEOMLOSS_OK, "");
  }
  for (i = 0; i < NTHREADS; i++) {
    w[i].id = i;
    w[i].mismatches = w[i].errors = w[i].msg_mismatches = 0;
    CHECK(pthread_create(&th[i], NULL, worker_main, &w[i]) == 0, "pthread_create");
  }
  for (i = 0; i < NTHREADS; i++) {
    pthread_join(th[i], NULL);
    mism += w[i].mismatches;
    errs += w[i].errors;
    msgs += w[i].msg_mismatches;
  }
  CHECK(errs == 0, "%d concurrent evaluations failed", errs);
  CHECK(mism == 0, "%d concurrent evaluations differ from the serial ones", mism);
  CHECK(msgs == 0, "%d per-thread error messages were wrong", msgs);
  geomloss_options_destroy(shared_opts);
}

/* ---- panics -------------------------------------------------------------------------- */

/* With a library built with the geomloss_testhooks tag (build/test-c.sh sets
 * GEOMLOSS_TEST_HOOKS=1 then), the sentinel 7777 makes an export panic: the
 * panic must come back as GEOMLOSS_ERR_INTERNAL, leave outputs and options
 * untouched, and leave the library usable. In release builds 7777 is an
 * ordinary value. */
static void test_panics(void) {
  geomloss_options *o = geomloss_options_create();
  int hooks = getenv("GEOMLOSS_TEST_HOOKS") != NULL;
  int64_t threads = -1;
  double *x = dalloc(7778), *y = dalloc(7778), v = 42, xs[4] = {0, 0, 1, 1};
  struct progress_log log;
  memset(&log, 0, sizeof log);
  log.caller = pthread_self();
  if (!hooks) {
    CHECK_STATUS(geomloss_options_set_int(o, GEOMLOSS_OPT_THREADS, 7777), GEOMLOSS_OK, "");
    CHECK_STATUS(eval_value(o, 1, 1, 1, 7777, x, y, &v), GEOMLOSS_OK, "");
    CHECK(fabs(v) < 1e-9, "7777-D identical points: %g", v);
  } else {
    CHECK_STATUS(geomloss_options_set_int(o, GEOMLOSS_OPT_THREADS, 7777), GEOMLOSS_ERR_INTERNAL,
                 "internal error: panic: test hook in geomloss_options_set_int");
    geomloss_options_get_int(o, GEOMLOSS_OPT_THREADS, &threads);
    CHECK(threads == 0, "threads after a panicking setter: %lld", (long long)threads);
    CHECK_STATUS(eval_value(o, 1, 1, 1, 7777, x, y, &v), GEOMLOSS_ERR_INTERNAL,
                 "internal error: panic: test hook in geomloss_eval");
    CHECK(strstr(geomloss_last_error(), "at main.eval") != NULL, "no panic site in \"%s\"",
          geomloss_last_error());
    CHECK(v == 42, "value written by a panicking evaluation");
    CHECK(geomloss_last_backend() == -1, "report after a panic");
    geomloss_options_set_progress(o, on_progress, &log);
    CHECK_STATUS(eval_value(o, 1, 1, 1, 7778, x, y, &v), GEOMLOSS_ERR_INTERNAL,
                 "internal error: panic: test hook in the progress delivery");
    CHECK(v == 42 && log.calls == 0, "value %g, %d progress calls after a panic", v, log.calls);
  }
  /* still usable */
  CHECK_STATUS(eval_value(o, 1, 2, 2, 2, xs, xs, &v), GEOMLOSS_OK, "");
  free(x);
  free(y);
  geomloss_options_destroy(o);
  if (hooks) printf("panic hooks: checked\n");
}

/* ---- keyed buffers (geomloss_eval) ------------------------------------------------ */

enum { KB = 2, KN = 13, KM = 9, KD = 3 };

/* All outputs of one problem, in one precision. */
struct outs64 {
  double v[KB], F[KB * KN], G[KB * KM], gx[KB * KN * KD], gy[KB * KM * KD], ga[KB * KN],
      gb[KB * KM];
};
struct outs32 {
  float v[KB], F[KB * KN], G[KB * KM], gx[KB * KN * KD], gy[KB * KM * KD], ga[KB * KN],
      gb[KB * KM];
};

/* The number of elements each key needs for KB, KN, KM, KD. */
static int64_t key_count(int key) {
  switch (key) {
  case GEOMLOSS_BUF_X: case GEOMLOSS_BUF_GRAD_X: return KB * KN * KD;
  case GEOMLOSS_BUF_Y: case GEOMLOSS_BUF_GRAD_Y: return KB * KM * KD;
  case GEOMLOSS_BUF_A: case GEOMLOSS_BUF_COT_F: case GEOMLOSS_BUF_F: case GEOMLOSS_BUF_GRAD_A: return KB * KN;
  case GEOMLOSS_BUF_B: case GEOMLOSS_BUF_COT_G: case GEOMLOSS_BUF_G: case GEOMLOSS_BUF_GRAD_B: return KB * KM;
  default: return KB; /* value, cot_value */
  }
}

static void test_buffers(void) {
  static const struct {
    int key;
    const char *name;
  } keys[] = {{GEOMLOSS_BUF_X, "x"},         {GEOMLOSS_BUF_Y, "y"},
              {GEOMLOSS_BUF_A, "a"},         {GEOMLOSS_BUF_B, "b"},
              {GEOMLOSS_BUF_COT_VALUE, "cot_value"}, {GEOMLOSS_BUF_COT_F, "cot_F"},
              {GEOMLOSS_BUF_COT_G, "cot_G"}, {GEOMLOSS_BUF_VALUE, "value"},
              {GEOMLOSS_BUF_F, "F"},         {GEOMLOSS_BUF_G, "G"},
              {GEOMLOSS_BUF_GRAD_X, "grad_x"}, {GEOMLOSS_BUF_GRAD_Y, "grad_y"},
              {GEOMLOSS_BUF_GRAD_A, "grad_a"}, {GEOMLOSS_BUF_GRAD_B, "grad_b"}};
  const size_t nkeys = sizeof keys / sizeof keys[0];
  static double x[KB * KN * KD], y[KB * KM * KD], a[KB * KN], b[KB * KM], cv[KB], cf[KB * KN],
      cg[KB * KM];
  static float xf[KB * KN * KD], yf[KB * KM * KD], af[KB * KN], bf[KB * KM], cvf[KB],
      cff[KB * KN], cgf[KB * KM];
  static struct outs64 ref, got;
  static struct outs32 ref32, got32;
  void *in64[7], *out64[7], *in32[7], *out32[7];
  geomloss_options *o = geomloss_options_create();
  geomloss_buffers *bufs = geomloss_buffers_create(), *b32 = geomloss_buffers_create();
  size_t k;
  int i, loss, untouched;
  char want[96];

  CHECK(bufs != NULL && b32 != NULL, "buffers_create: %s", geomloss_last_error());
  fill_unif(x, KB * KN * KD, 31);
  fill_unif(y, KB * KM * KD, 32);
  fill_unif(a, KB * KN, 33);
  fill_unif(b, KB * KM, 34);
  fill_unif(cv, KB, 35);
  fill_unif(cf, KB * KN, 36);
  fill_unif(cg, KB * KM, 37);
  for (i = 0; i < KB * KN; i++) a[i] = (0.5 + a[i]);
  for (i = 0; i < KB * KM; i++) b[i] = (0.5 + b[i]);
  to_f32(xf, x, KB * KN * KD);
  to_f32(yf, y, KB * KM * KD);
  to_f32(af, a, KB * KN);
  to_f32(bf, b, KB * KM);
  to_f32(cvf, cv, KB);
  to_f32(cff, cf, KB * KN);
  to_f32(cgf, cg, KB * KM);
  in64[0] = x, in64[1] = y, in64[2] = a, in64[3] = b, in64[4] = cv, in64[5] = cf, in64[6] = cg;
  out64[0] = got.v, out64[1] = got.F, out64[2] = got.G, out64[3] = got.gx, out64[4] = got.gy,
  out64[5] = got.ga, out64[6] = got.gb;
  in32[0] = xf, in32[1] = yf, in32[2] = af, in32[3] = bf, in32[4] = cvf, in32[5] = cff, in32[6] = cgf;
  out32[0] = got32.v, out32[1] = got32.F, out32[2] = got32.G, out32[3] = got32.gx,
  out32[4] = got32.gy, out32[5] = got32.ga, out32[6] = got32.gb;
  for (k = 0; k < nkeys; k++) {
    void *p64 = k < 7 ? in64[k] : out64[k - 7], *p32 = k < 7 ? in32[k] : out32[k - 7];
    CHECK_STATUS(geomloss_buffers_set(bufs, keys[k].key, p64, key_count(keys[k].key)), GEOMLOSS_OK, "");
    CHECK_STATUS(geomloss_buffers_set(b32, keys[k].key, p32, key_count(keys[k].key)), GEOMLOSS_OK, "");
  }
  geomloss_options_set_double(o, GEOMLOSS_OPT_BLUR, 0.2);
  geomloss_options_set_double(o, GEOMLOSS_OPT_REACH, 0.7); /* unbalanced: weights need not match */

  /* bit for bit equal to the positional functions, every output, every loss */
  for (loss = GEOMLOSS_LOSS_SINKHORN; loss <= GEOMLOSS_LOSS_LAPLACIAN; loss++) {
    geomloss_options_set_int(o, GEOMLOSS_OPT_LOSS, loss);
    if (loss == GEOMLOSS_LOSS_HAUSDORFF) geomloss_options_set_double(o, GEOMLOSS_OPT_REACH, 0);
    if (loss == GEOMLOSS_LOSS_HAUSDORFF) { /* balanced: equal masses */
      for (i = 0; i < KB * KN; i++) a[i] = 1.0 / KN, af[i] = (float)a[i];
      for (i = 0; i < KB * KM; i++) b[i] = 1.0 / KM, bf[i] = (float)b[i];
    }
    CHECK_STATUS(geomloss_eval_f64(o, KB, KN, KM, KD, x, y, a, b, cv, cf, cg, ref.v, ref.F, ref.G,
                                   ref.gx, ref.gy, ref.ga, ref.gb),
                 GEOMLOSS_OK, "");
    memset(&got, 0, sizeof got);
    CHECK_STATUS(geomloss_eval(o, GEOMLOSS_F64, KB, KN, KM, KD, bufs), GEOMLOSS_OK, "");
    CHECK(memcmp(&got, &ref, sizeof ref) == 0, "%s: geomloss_eval f64 differs from geomloss_eval_f64",
          geomloss_value_name(GEOMLOSS_OPT_LOSS, loss));
    CHECK_STATUS(geomloss_eval_f32(o, KB, KN, KM, KD, xf, yf, af, bf, cvf, cff, cgf, ref32.v,
                                   ref32.F, ref32.G, ref32.gx, ref32.gy, ref32.ga, ref32.gb),
                 GEOMLOSS_OK, "");
    memset(&got32, 0, sizeof got32);
    CHECK_STATUS(geomloss_eval(o, GEOMLOSS_F32, KB, KN, KM, KD, b32), GEOMLOSS_OK, "");
    CHECK(memcmp(&got32, &ref32, sizeof ref32) == 0,
          "%s: geomloss_eval f32 differs from geomloss_eval_f32",
          geomloss_value_name(GEOMLOSS_OPT_LOSS, loss));
    CHECK(geomloss_last_backend() >= 0 && geomloss_last_engine()[0] != '\0', "report after geomloss_eval");
  }
  geomloss_options_reset(o, 0);
  geomloss_options_set_double(o, GEOMLOSS_OPT_REACH, 0.7);

  /* each buffer one element short (and one long) is refused by name; no output written */
  memset(&got, 0x5a, sizeof got);
  memcpy(&ref, &got, sizeof got);
  for (k = 0; k < nkeys; k++) {
    void *p = k < 7 ? in64[k] : out64[k - 7];
    int64_t n = key_count(keys[k].key);
    snprintf(want, sizeof want, "%s has %lld elements, needs %lld", keys[k].name,
             (long long)(n - 1), (long long)n);
    geomloss_buffers_set(bufs, keys[k].key, p, n - 1);
    CHECK_STATUS(geomloss_eval(o, GEOMLOSS_F64, KB, KN, KM, KD, bufs), GEOMLOSS_ERR_SHAPE, want);
    snprintf(want, sizeof want, "%s has %lld elements, needs %lld", keys[k].name,
             (long long)(n + 1), (long long)n);
    geomloss_buffers_set(bufs, keys[k].key, p, n + 1);
    CHECK_STATUS(geomloss_eval(o, GEOMLOSS_F64, KB, KN, KM, KD, bufs), GEOMLOSS_ERR_SHAPE, want);
    geomloss_buffers_set(bufs, keys[k].key, p, n);
    CHECK(geomloss_last_backend() == -1, "report not cleared after an error");
  }
  CHECK(memcmp(&got, &ref, sizeof got) == 0, "an output was written by a refused evaluation");
  /* the example of the header: grad_x of 599 for 1×200×3 */
  {
    geomloss_buffers *g = geomloss_buffers_create();
    double *px = dalloc(600), *py = dalloc(600), *pg = dalloc(600), pv = 42;
    geomloss_buffers_set(g, GEOMLOSS_BUF_X, px, 600);
    geomloss_buffers_set(g, GEOMLOSS_BUF_Y, py, 600);
    geomloss_buffers_set(g, GEOMLOSS_BUF_VALUE, &pv, 1);
    geomloss_buffers_set(g, GEOMLOSS_BUF_GRAD_X, pg, 599);
    CHECK_STATUS(geomloss_eval(NULL, GEOMLOSS_F64, 1, 200, 200, 3, g), GEOMLOSS_ERR_SHAPE,
                 "grad_x has 599 elements, needs 600 (B×N×D = 1×200×3)");
    /* required buffers, removal */
    geomloss_buffers_set(g, GEOMLOSS_BUF_GRAD_X, NULL, 12345);
    CHECK_STATUS(geomloss_eval(NULL, GEOMLOSS_F64, 1, 200, 200, 3, g), GEOMLOSS_OK, "");
    CHECK(fabs(pv) < 1e-9, "identical zero clouds: %g", pv);
    geomloss_buffers_set(g, GEOMLOSS_BUF_X, NULL, 0);
    CHECK_STATUS(geomloss_eval(NULL, GEOMLOSS_F64, 1, 200, 200, 3, g), GEOMLOSS_ERR_NULL_POINTER,
                 "x is NULL (GEOMLOSS_BUF_X");
    geomloss_buffers_set(g, GEOMLOSS_BUF_X, px, 600);
    geomloss_buffers_set(g, GEOMLOSS_BUF_VALUE, NULL, 0);
    CHECK_STATUS(geomloss_eval(NULL, GEOMLOSS_F64, 1, 200, 200, 3, g), GEOMLOSS_ERR_NULL_POINTER,
                 "value is NULL");
    geomloss_buffers_destroy(g);
    free(px), free(py), free(pg);
  }
  /* set: bad keys and counts leave the buffers unchanged */
  CHECK_STATUS(geomloss_buffers_set(NULL, GEOMLOSS_BUF_X, x, 1), GEOMLOSS_ERR_NULL_POINTER, "bufs is NULL");
  CHECK_STATUS(geomloss_buffers_set(bufs, 0, x, 1), GEOMLOSS_ERR_INVALID_ARGUMENT, "buffer key 0 is unknown");
  CHECK_STATUS(geomloss_buffers_set(bufs, -7, NULL, 0), GEOMLOSS_ERR_INVALID_ARGUMENT, "buffer key -7");
  CHECK_STATUS(geomloss_buffers_set(bufs, 10, x, 1), GEOMLOSS_ERR_UNSUPPORTED, "buffer key 10 is not supported");
  CHECK_STATUS(geomloss_buffers_set(bufs, GEOMLOSS_BUF_LATER_BEGIN, x, 1), GEOMLOSS_ERR_UNSUPPORTED, "not supported");
  CHECK_STATUS(geomloss_buffers_set(bufs, INT32_MAX, x, 1), GEOMLOSS_ERR_UNSUPPORTED, "not supported");
  CHECK_STATUS(geomloss_buffers_set(bufs, GEOMLOSS_BUF_GRAD_X, got.gx, -1), GEOMLOSS_ERR_SIZE,
               "grad_x: count must be >= 0");
  CHECK_STATUS(geomloss_eval(o, GEOMLOSS_F64, KB, KN, KM, KD, bufs), GEOMLOSS_OK, "");
  /* eval: bad dtype, NULL and dead objects, sizes */
  CHECK_STATUS(geomloss_eval(o, 0, KB, KN, KM, KD, bufs), GEOMLOSS_ERR_INVALID_ARGUMENT, "dtype: unknown element type 0");
  CHECK_STATUS(geomloss_eval(o, 3, KB, KN, KM, KD, bufs), GEOMLOSS_ERR_INVALID_ARGUMENT, "dtype");
  CHECK_STATUS(geomloss_eval(o, GEOMLOSS_F64, KB, KN, KM, KD, NULL), GEOMLOSS_ERR_NULL_POINTER, "bufs is NULL");
  CHECK_STATUS(geomloss_eval(o, GEOMLOSS_F64, KB, 0, KM, KD, bufs), GEOMLOSS_ERR_SIZE, "N must be >= 1, got 0");
  CHECK_STATUS(geomloss_eval(o, GEOMLOSS_F64, KB, INT64_C(1) << 40, KM, KD, bufs), GEOMLOSS_ERR_SIZE, "x (B*N*D)");
  /* the same buffers in the other precision: the counts fit, the values are floats */
  CHECK_STATUS(geomloss_eval(o, GEOMLOSS_F32, KB, KN, KM, KD, b32), GEOMLOSS_OK, "");
  {
    double *fake = dalloc(64);
    CHECK_STATUS(geomloss_eval(o, GEOMLOSS_F64, KB, KN, KM, KD, (const geomloss_buffers *)(void *)fake),
                 GEOMLOSS_ERR_INVALID_ARGUMENT, "bufs is not a live geomloss_buffers");
    CHECK_STATUS(geomloss_buffers_set((geomloss_buffers *)(void *)fake, GEOMLOSS_BUF_X, x, 1),
                 GEOMLOSS_ERR_INVALID_ARGUMENT, "bufs is not a live geomloss_buffers");
    free(fake);
  }
  /* inputs are never written */
  untouched = 1;
  {
    double x0[KB * KN * KD];
    fill_unif(x0, KB * KN * KD, 31);
    untouched = memcmp(x0, x, sizeof x0) == 0;
  }
  CHECK(untouched, "x was modified");
  geomloss_buffers_destroy(bufs);
  geomloss_buffers_destroy(b32);
  geomloss_buffers_destroy(NULL); /* no-op */
  geomloss_options_destroy(o);
}

/* ---- cancellation --------------------------------------------------------------------- */

struct cancel_log {
  int calls, after; /* after: calls once cancelled */
  int cancel_at;    /* return 1 on this call (1 = the first) */
};

static int cancel_progress(const char *stage, int64_t iter, int64_t total, void *user) {
  struct cancel_log *c = (struct cancel_log *)user;
  (void)stage, (void)iter, (void)total;
  c->calls++;
  if (c->calls > c->cancel_at) c->after++;
  return c->calls >= c->cancel_at ? 1 : 0;
}

static void test_cancel(void) {
  enum { N = 60, D = 2 };
  double x[N * D], y[N * D], v = 42, gx[N * D];
  geomloss_options *o = geomloss_options_create();
  geomloss_buffers *bufs = geomloss_buffers_create();
  struct cancel_log c;
  int i, loss;
  fill_unif(x, N * D, 41);
  fill_unif(y, N * D, 42);
  for (i = 0; i < N * D; i++) gx[i] = 42;
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_X, x, N * D);
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_Y, y, N * D);
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_VALUE, &v, 1);
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_GRAD_X, gx, N * D);
  geomloss_options_set_double(o, GEOMLOSS_OPT_BLUR, 0.01);
  /* return 1 on the first call: CANCELLED after exactly one call, every loss */
  for (loss = GEOMLOSS_LOSS_SINKHORN; loss <= GEOMLOSS_LOSS_LAPLACIAN; loss++) {
    geomloss_options_set_int(o, GEOMLOSS_OPT_LOSS, loss);
    memset(&c, 0, sizeof c);
    c.cancel_at = 1;
    geomloss_options_set_progress(o, cancel_progress, &c);
    CHECK_STATUS(geomloss_eval(o, GEOMLOSS_F64, 1, N, N, D, bufs), GEOMLOSS_ERR_CANCELLED,
                 "cancelled by the progress callback");
    CHECK(c.calls == 1, "%s: %d calls for a cancel on the first",
          geomloss_value_name(GEOMLOSS_OPT_LOSS, loss), c.calls);
    CHECK(geomloss_last_backend() == -1, "report after a cancel");
  }
  /* later, through the positional function, in float32 too: no call after the cancel */
  geomloss_options_set_int(o, GEOMLOSS_OPT_LOSS, GEOMLOSS_LOSS_SINKHORN);
  memset(&c, 0, sizeof c);
  c.cancel_at = 3;
  CHECK_STATUS(geomloss_eval_f64(o, 1, N, N, D, x, y, NULL, NULL, NULL, NULL, NULL, &v, NULL, NULL,
                                 gx, NULL, NULL, NULL),
               GEOMLOSS_ERR_CANCELLED, "cancelled");
  CHECK(c.calls == 3 && c.after == 0, "cancel on call 3: %d calls, %d after", c.calls, c.after);
  {
    float xf[N * D], yf[N * D], vf = 42;
    to_f32(xf, x, N * D);
    to_f32(yf, y, N * D);
    memset(&c, 0, sizeof c);
    c.cancel_at = 1;
    CHECK_STATUS(geomloss_eval_f32(o, 1, N, N, D, xf, yf, NULL, NULL, NULL, NULL, NULL, &vf, NULL,
                                   NULL, NULL, NULL, NULL, NULL),
                 GEOMLOSS_ERR_CANCELLED, "cancelled");
    CHECK(c.calls == 1 && vf == 42, "f32 cancel: %d calls, value %g", c.calls, (double)vf);
  }
  CHECK(v == 42, "value written by a cancelled evaluation");
  for (i = 0; i < N * D; i++) CHECK(gx[i] == 42, "grad_x[%d] written by a cancelled evaluation", i);
  /* a callback returning 0 lets it finish, and the options remain usable */
  memset(&c, 0, sizeof c);
  c.cancel_at = 1 << 30;
  CHECK_STATUS(geomloss_eval(o, GEOMLOSS_F64, 1, N, N, D, bufs), GEOMLOSS_OK, "");
  CHECK(c.calls > 1 && isfinite(v) && v != 42, "%d calls, value %g", c.calls, v);
  geomloss_buffers_destroy(bufs);
  geomloss_options_destroy(o);
}

/* ---- the OT solver ---------------------------------------------------------------------- */

#include "test_ot.c"
#include "test_plan.c"
#include "test_batch_plan.c"
#include "test_ot_multiscale.c"

/* ---- cluster labels ---------------------------------------------------------------------- */

#include "test_labels.c"

/* ---- main ----------------------------------------------------------------------------- */

/* ---- grids: geomloss_eval_grid, geomloss_images_barycenter ------------------------ */

#define GN 16
#define GP (GN * GN)

/* A 6x6 box of mass 1 on a GN x GN grid, its corner at (r, c). */
static void grid_box(double *v, int r, int c) {
  int i, j;
  memset(v, 0, GP * sizeof(double));
  for (i = r; i < r + 6; i++)
    for (j = c; j < c + 6; j++) v[i * GN + j] = 1.0 / 36;
}

/* Value (and optionally grad_a, F) of one GN x GN pair through keyed buffers. */
static int grid_eval(const geomloss_options *o, const double *a, const double *b, double *value,
                     double *grad_a, double *F) {
  static const int64_t shape[2] = {GN, GN};
  int st;
  geomloss_buffers *bufs = geomloss_buffers_create();
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_A, (void *)a, GP);
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_B, (void *)b, GP);
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_VALUE, value, 1);
  if (grad_a) geomloss_buffers_set(bufs, GEOMLOSS_BUF_GRAD_A, grad_a, GP);
  if (F) geomloss_buffers_set(bufs, GEOMLOSS_BUF_F, F, GP);
  st = geomloss_eval_grid(o, GEOMLOSS_F64, 1, 2, shape, NULL, bufs);
  geomloss_buffers_destroy(bufs);
  return st;
}

/* Closed forms: a box and its translate by t = (2, 1) pixels give
 * S = |t|^2/2 = 5/(2*16^2) up to the annealing's accuracy (within 3% at
 * scaling 0.9, 10% at the reference's 0.5); identical images give 0 (to
 * 1e-12) and S(a, b) = S(b, a); the blur not set equals blur = 1/16 set, bit
 * for bit, and again after a reset; balanced and debiased, grad_a is F
 * (F - F_aa); float32 agrees with float64 to 1e-5; the last-run report says
 * grid solver on the CPU. */
static void test_grid_closed_forms(void) {
  double a[GP], b[GP], v = -1, v2 = -1, v3 = -1, want = 5.0 / (2.0 * GN * GN);
  double ga[GP], F[GP];
  float af[GP], bf[GP], vf = -1;
  static const int64_t shape[2] = {GN, GN};
  int i, same = 1;
  geomloss_options *o = geomloss_options_create();
  geomloss_buffers *bufs;
  grid_box(a, 4, 4);
  grid_box(b, 6, 5);
  CHECK_STATUS(grid_eval(NULL, a, b, &v, NULL, NULL), GEOMLOSS_OK, "");
  CHECK(fabs(v - want) <= 0.1 * want, "translation at the defaults: S = %g, want %g within 10%%", v, want);
  CHECK(geomloss_last_backend() == GEOMLOSS_BACKEND_AUTO && geomloss_last_device() == GEOMLOSS_DEVICE_CPU,
        "grid run report: backend %d device %d", geomloss_last_backend(), geomloss_last_device());
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_BLUR, 1.0 / GN), GEOMLOSS_OK, "");
  CHECK_STATUS(grid_eval(o, a, b, &v2, NULL, NULL), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_options_reset(o, GEOMLOSS_OPT_BLUR), GEOMLOSS_OK, "");
  CHECK_STATUS(grid_eval(o, a, b, &v3, NULL, NULL), GEOMLOSS_OK, "");
  CHECK(v2 == v && v3 == v, "blur not set (%.17g), set to 1/16 (%.17g), reset (%.17g) differ", v, v2, v3);
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_BLUR, 2.0 / GN), GEOMLOSS_OK, "");
  CHECK_STATUS(grid_eval(o, a, b, &v2, NULL, NULL), GEOMLOSS_OK, "");
  CHECK(v2 != v, "blur 2/16 gives the value of the pixel blur (%.17g)", v2);
  geomloss_options_reset(o, GEOMLOSS_OPT_BLUR);
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_SCALING, 0.9), GEOMLOSS_OK, "");
  CHECK_STATUS(grid_eval(o, a, b, &v2, NULL, NULL), GEOMLOSS_OK, "");
  CHECK(fabs(v2 - want) <= 0.03 * want, "translation at scaling 0.9: S = %g, want %g within 3%%", v2, want);
  CHECK_STATUS(grid_eval(o, b, a, &v3, NULL, NULL), GEOMLOSS_OK, "");
  CHECK(fabs(v3 - v2) <= 1e-12, "symmetry: S(a,b) = %.17g, S(b,a) = %.17g", v2, v3);
  CHECK_STATUS(grid_eval(o, a, a, &v3, NULL, NULL), GEOMLOSS_OK, "");
  CHECK(fabs(v3) <= 1e-12, "identical images: S = %g", v3);
  CHECK_STATUS(grid_eval(NULL, a, b, &v, ga, F), GEOMLOSS_OK, "");
  for (i = 0; i < GP; i++) same &= fabs(ga[i] - F[i]) <= 1e-12;
  CHECK(same, "grad_a differs from F (balanced debiased: both F - F_aa)");
  to_f32(af, a, GP);
  to_f32(bf, b, GP);
  bufs = geomloss_buffers_create();
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_A, af, GP);
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_B, bf, GP);
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_VALUE, &vf, 1);
  CHECK_STATUS(geomloss_eval_grid(NULL, GEOMLOSS_F32, 1, 2, shape, NULL, bufs), GEOMLOSS_OK, "");
  CHECK(fabs(vf - v) <= 1e-5 * fabs(v), "float32 %.9g vs float64 %.9g", vf, v);
  geomloss_buffers_destroy(bufs);
  geomloss_options_destroy(o);
}

/* The grid-only options: single_scale (0/1, default 0) and grid_tol ([0, 1),
 * default 0) read back as set and refuse other values naming themselves; with
 * single_scale = 1 the grid value is the point-cloud Sinkhorn's on the pixel
 * centres u*h with the densities as weights (tensorized, same blur, diameter
 * and scaling: the same eps-list) to 1e-6 relative, while the pyramid's
 * differs; grid_tol 1e-3 moves the value by less than 1e-2 relative (a pass
 * loses at most tol); tol > 0 is refused (no tolerance-based stopping on
 * grids); the report names the grid engine in its note. */
static void test_grid_options(void) {
  double a[GP], b[GP], x[2 * GP], v = -1, vp = -1, vs = -1, vt = -1, ref = -1, dv = -1;
  int64_t iv = -1;
  int i;
  geomloss_options *o = geomloss_options_create(), *pc = geomloss_options_create();
  grid_box(a, 4, 4);
  grid_box(b, 6, 5);
  for (i = 0; i < GP; i++) { /* smooth positive densities: every pixel carries mass */
    a[i] = 0.5 * a[i] + 0.5 / GP;
    b[i] = 0.5 * b[i] + 0.5 / GP;
  }
  CHECK_STATUS(geomloss_options_get_int(o, GEOMLOSS_OPT_SINGLE_SCALE, &iv), GEOMLOSS_OK, "");
  CHECK(iv == 0, "single_scale default %lld", (long long)iv);
  CHECK_STATUS(geomloss_options_get_double(o, GEOMLOSS_OPT_GRID_TOL, &dv), GEOMLOSS_OK, "");
  CHECK(dv == 0, "grid_tol default %g", dv);
  CHECK_STATUS(geomloss_options_set_int(o, GEOMLOSS_OPT_SINGLE_SCALE, 2), GEOMLOSS_ERR_INVALID_OPTION, "single_scale");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_GRID_TOL, 1), GEOMLOSS_ERR_INVALID_OPTION, "grid_tol");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_GRID_TOL, -1e-3), GEOMLOSS_ERR_INVALID_OPTION, "grid_tol");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_GRID_TOL, NAN), GEOMLOSS_ERR_INVALID_OPTION, "grid_tol");
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_SINGLE_SCALE, 1), GEOMLOSS_ERR_INVALID_OPTION, "integer option");

  CHECK_STATUS(grid_eval(o, a, b, &vp, NULL, NULL), GEOMLOSS_OK, "");
  CHECK(strstr(geomloss_last_note(), "engine") != NULL && geomloss_last_engine()[0] != '\0' &&
            strstr(geomloss_last_note(), geomloss_last_engine()) != NULL,
        "grid note \"%s\" does not name the engine \"%s\"", geomloss_last_note(), geomloss_last_engine());
  CHECK_STATUS(geomloss_options_set_int(o, GEOMLOSS_OPT_SINGLE_SCALE, 1), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_options_get_int(o, GEOMLOSS_OPT_SINGLE_SCALE, &iv), GEOMLOSS_OK, "");
  CHECK(iv == 1, "single_scale reads back %lld", (long long)iv);
  CHECK_STATUS(grid_eval(o, a, b, &vs, NULL, NULL), GEOMLOSS_OK, "");

  for (i = 0; i < GP; i++) {
    x[2 * i] = (double)(i / GN) / GN;
    x[2 * i + 1] = (double)(i % GN) / GN;
  }
  geomloss_options_set_double(pc, GEOMLOSS_OPT_BLUR, 1.0 / GN);
  geomloss_options_set_double(pc, GEOMLOSS_OPT_DIAMETER, 1.0);
  geomloss_options_set_int(pc, GEOMLOSS_OPT_BACKEND, GEOMLOSS_BACKEND_TENSORIZED);
  CHECK_STATUS(geomloss_eval_f64(pc, 1, GP, GP, 2, x, x, a, b, NULL, NULL, NULL, &ref, NULL, NULL, NULL, NULL, NULL, NULL),
               GEOMLOSS_OK, "");
  CHECK(fabs(vs - ref) <= 1e-6 * fabs(ref), "single scale %.15g vs point clouds %.15g", vs, ref);
  CHECK(fabs(vp - ref) > 1e-6 * fabs(ref), "the pyramid's value %.15g equals the single-scale one %.15g", vp, ref);

  geomloss_options_reset(o, GEOMLOSS_OPT_SINGLE_SCALE);
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_GRID_TOL, 1e-3), GEOMLOSS_OK, "");
  CHECK_STATUS(geomloss_options_get_double(o, GEOMLOSS_OPT_GRID_TOL, &dv), GEOMLOSS_OK, "");
  CHECK(dv == 1e-3, "grid_tol reads back %g", dv);
  CHECK_STATUS(grid_eval(o, a, b, &vt, NULL, NULL), GEOMLOSS_OK, "");
  CHECK(fabs(vt - vp) <= 1e-2 * fabs(vp), "grid_tol 1e-3: %.15g vs default %.15g", vt, vp);
  geomloss_options_reset(o, GEOMLOSS_OPT_GRID_TOL);
  CHECK_STATUS(grid_eval(o, a, b, &v, NULL, NULL), GEOMLOSS_OK, "");
  CHECK(v == vp, "grid_tol reset: %.17g vs %.17g", v, vp);
  CHECK_STATUS(geomloss_options_set_double(o, GEOMLOSS_OPT_TOL, 1e-6), GEOMLOSS_OK, "");
  v = 42;
  CHECK_STATUS(grid_eval(o, a, b, &v, NULL, NULL), GEOMLOSS_ERR_INVALID_OPTION, "no tolerance-based stopping");
  CHECK(v == 42, "value written by a refused call");
  geomloss_options_destroy(o);
  geomloss_options_destroy(pc);
}

/* Anisotropic spacing: the grid's u*h with spacing (2/16, 1/16) equals the
 * translation by (1, 0) pixels scaled: |t|^2/2 with t = 2/16 along axis 0,
 * i.e. the value of a translate by 2 rows on the isotropic grid at blur 1/16
 * is within 10% of it (both are the same transport cost). */
static void test_grid_spacing(void) {
  double a[GP], b[GP], v = -1, want = 0.5 * (2.0 / GN) * (2.0 / GN);
  static const int64_t shape[2] = {GN, GN};
  static const double spacing[2] = {2.0 / GN, 1.0 / GN};
  geomloss_buffers *bufs = geomloss_buffers_create();
  grid_box(a, 4, 4);
  grid_box(b, 5, 4);
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_A, a, GP);
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_B, b, GP);
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_VALUE, &v, 1);
  CHECK_STATUS(geomloss_eval_grid(NULL, GEOMLOSS_F64, 1, 2, shape, spacing, bufs), GEOMLOSS_OK, "");
  CHECK(fabs(v - want) <= 0.1 * want, "one row on spacing 2/16: S = %g, want %g within 10%%", v, want);
  geomloss_buffers_destroy(bufs);
}

/* cot_F, cot_G on grids: the gradients of sum cot_F*F + sum cot_G*G
 * (cot_value = 0) differentiate the last soft-min with the duals fixed.
 * Single scale, that is the final step
 * F_i = -eps log sum_j b_j exp((g_j - C_ij)/eps), whose soft-max rows sum to
 * 1: <b, dF_i/db> = -eps, and F_aa likewise on a. So
 * <a, grad_a> = eps (sum cot_F - sum cot_G) and <b, grad_b> = -that when
 * debiased; raw, <a, grad_a> = -eps sum cot_G and <b, grad_b> = -eps sum cot_F
 * (balanced, blur = pixel width: eps = 1/GN^2), to 1e-12. With the pyramid's
 * defaults the last iteration is a jump: F = U((f + F_coarse)/2) with
 * F_coarse the soft-min on the pooled densities; pooling is linear,
 * averaging halves the shift -eps ln s of a rescaling b -> s b and the
 * upsampling U keeps constants, so the same identities hold with eps/2. */
static void test_grid_potential_cotangents(void) {
  static const int64_t shape[2] = {GN, GN};
  double a[GP], b[GP], cf[GP], cg[GP], ga[GP], gb[GP], v, cv = 0, sf = 0, sg = 0;
  int debias, single, i;
  geomloss_options *o = geomloss_options_create();
  geomloss_buffers *bufs = geomloss_buffers_create();
  grid_box(a, 4, 4);
  grid_box(b, 6, 5);
  for (i = 0; i < GP; i++) {
    cf[i] = (i % 7) / 3.0 - 1;
    cg[i] = (i % 5) / 2.0 - 0.8;
    sf += cf[i];
    sg += cg[i];
  }
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_A, a, GP);
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_B, b, GP);
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_COT_VALUE, &cv, 1);
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_COT_F, cf, GP);
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_COT_G, cg, GP);
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_VALUE, &v, 1);
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_GRAD_A, ga, GP);
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_GRAD_B, gb, GP);
  for (single = 0; single <= 1; single++) {
    const double eps = (single ? 1.0 : 0.5) / (GN * GN);
    geomloss_options_set_int(o, GEOMLOSS_OPT_SINGLE_SCALE, single);
    for (debias = 0; debias <= 1; debias++) {
      double pa = 0, pb = 0, wa = debias ? eps * (sf - sg) : -eps * sg, wb = debias ? -eps * (sf - sg) : -eps * sf;
      geomloss_options_set_int(o, GEOMLOSS_OPT_DEBIAS, debias);
      CHECK_STATUS(geomloss_eval_grid(o, GEOMLOSS_F64, 1, 2, shape, NULL, bufs), GEOMLOSS_OK, "");
      for (i = 0; i < GP; i++) {
        pa += a[i] * ga[i];
        pb += b[i] * gb[i];
      }
      CHECK(fabs(pa - wa) <= 1e-12 && fabs(pb - wb) <= 1e-12,
            "single_scale %d debias %d: <a, grad_a> = %.15g (want %.15g), <b, grad_b> = %.15g (want %.15g)", single,
            debias, pa, wa, pb, wb);
    }
  }
  geomloss_buffers_destroy(bufs);
  geomloss_options_destroy(o);
}

/* Every refusal of geomloss_eval_grid, with its status and the name in the
 * message; outputs stay untouched. */
static void test_grid_errors(void) {
  double a[GP], b[GP], ab[2 * GP], v = 42, out[2 * GP], cot[2] = {1, 1}, xs[4] = {0};
  static const int64_t shape[2] = {GN, GN}, bad_side[2] = {GN, 0};
  static const double neg[2] = {-1, 1};
  static const struct {
    int key;
    const char *name;
    int64_t need;
  } keys[] = {{GEOMLOSS_BUF_A, "a has", GP},          {GEOMLOSS_BUF_B, "b has", GP},
              {GEOMLOSS_BUF_COT_VALUE, "cot_value has", 1}, {GEOMLOSS_BUF_VALUE, "value has", 1},
              {GEOMLOSS_BUF_COT_F, "cot_F has", GP},  {GEOMLOSS_BUF_COT_G, "cot_G has", GP},
              {GEOMLOSS_BUF_F, "F has", GP},          {GEOMLOSS_BUF_G, "G has", GP},
              {GEOMLOSS_BUF_GRAD_A, "grad_a has", GP}, {GEOMLOSS_BUF_GRAD_B, "grad_b has", GP}};
  size_t k;
  geomloss_options *o = geomloss_options_create();
  geomloss_buffers *bufs = geomloss_buffers_create();
  grid_box(a, 4, 4);
  grid_box(b, 6, 5);
  for (k = 0; k < sizeof keys / sizeof keys[0]; k++) {
    size_t j;
    for (j = 0; j < sizeof keys / sizeof keys[0]; j++) { /* all set, right sizes */
      void *p = keys[j].key == GEOMLOSS_BUF_A ? (void *)a : keys[j].key == GEOMLOSS_BUF_B ? (void *)b
              : keys[j].key == GEOMLOSS_BUF_COT_VALUE ? (void *)cot : keys[j].key == GEOMLOSS_BUF_VALUE ? (void *)&v
              : (void *)(out + (keys[j].key == GEOMLOSS_BUF_G || keys[j].key == GEOMLOSS_BUF_GRAD_B ? GP : 0));
      geomloss_buffers_set(bufs, keys[j].key, p, keys[j].need);
    }
    /* the F/G and grad_a/grad_b outputs share out[]: only the size check is reached */
    geomloss_buffers_set(bufs, keys[k].key, keys[k].key == GEOMLOSS_BUF_A ? (void *)a : (void *)ab, keys[k].need - 1);
    CHECK_STATUS(geomloss_eval_grid(NULL, GEOMLOSS_F64, 1, 2, shape, NULL, bufs), GEOMLOSS_ERR_SHAPE, keys[k].name);
    CHECK(v == 42, "value written by a failed call (%s)", keys[k].name);
  }
  geomloss_buffers_destroy(bufs);
  bufs = geomloss_buffers_create();
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_B, b, GP);
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_VALUE, &v, 1);
  CHECK_STATUS(geomloss_eval_grid(NULL, GEOMLOSS_F64, 1, 2, shape, NULL, bufs), GEOMLOSS_ERR_NULL_POINTER, "a is NULL");
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_A, a, GP);
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_X, xs, 4);
  CHECK_STATUS(geomloss_eval_grid(NULL, GEOMLOSS_F64, 1, 2, shape, NULL, bufs), GEOMLOSS_ERR_INVALID_ARGUMENT, "x is set");
  geomloss_buffers_set(bufs, GEOMLOSS_BUF_X, NULL, 0);
  CHECK_STATUS(geomloss_eval_grid(NULL, GEOMLOSS_F64, 1, 0, shape, NULL, bufs), GEOMLOSS_ERR_SIZE, "ndim");
  CHECK_STATUS(geomloss_eval_grid(NULL, GEOMLOSS_F64, 1, 4, shape, NULL, bufs), GEOMLOSS_ERR_SIZE, "ndim");
  CHECK_STATUS(geomloss_eval_grid(NULL, GEOMLOSS_F64, 1, 2, NULL, NULL, bufs), GEOMLOSS_ERR_NULL_POINTER, "shape is NULL");
  CHECK_STATUS(geomloss_eval_grid(NULL, GEOMLOSS_F64, 1, 2, bad_side, NULL, bufs), GEOMLOSS_ERR_SIZE, "shape[1]");
  CHECK_STATUS(geomloss_eval_grid(NULL, GEOMLOSS_F64, 0, 2, shape, NULL, bufs), GEOMLOSS_ERR_SIZE, "B must be");
  CHECK_STATUS(geomloss_eval_grid(NULL, GEOMLOSS_F64, 1, 2, shape, neg, bufs), GEOMLOSS_ERR_INVALID_ARGUMENT, "spacing[0]");
  CHECK_STATUS(geomloss_eval_grid(NULL, 7, 1, 2, shape, NULL, bufs), GEOMLOSS_ERR_INVALID_ARGUMENT, "dtype");
  CHECK_STATUS(geomloss_eval_grid(NULL, GEOMLOSS_F64, 1, 2, shape, NULL, NULL), GEOMLOSS_ERR_NULL_POINTER, "bufs is NULL");
  geomloss_options_set_int(o, GEOMLOSS_OPT_LOSS, GEOMLOSS_LOSS_ENERGY);
  CHECK_STATUS(geomloss_eval_grid(o, GEOMLOSS_F64, 1, 2, shape, NULL, bufs), GEOMLOSS_ERR_INVALID_OPTION, "sinkhorn only");
  geomloss_options_reset(o, 0);
  geomloss_options_set_int(o, GEOMLOSS_OPT_DEVICE, GEOMLOSS_DEVICE_GPU);
  CHECK_STATUS(geomloss_eval_grid(o, GEOMLOSS_F64, 1, 2, shape, NULL, bufs), GEOMLOSS_ERR_UNSUPPORTED, "device");
  geomloss_options_reset(o, 0);
  b[0] += 0.5; /* unequal masses, balanced */
  CHECK_STATUS(geomloss_eval_grid(o, GEOMLOSS_F64, 1, 2, shape, NULL, bufs), GEOMLOSS_ERR_VALUE, "set reach");
  b[0] = -1;
  CHECK_STATUS(geomloss_eval_grid(o, GEOMLOSS_F64, 1, 2, shape, NULL, bufs), GEOMLOSS_ERR_VALUE, "negative");
  CHECK(v == 42, "value written by a failed call");
  geomloss_buffers_destroy(bufs);
  geomloss_options_destroy(o);
}

/* ImagesBarycenter: two boxes 6 pixels apart; the barycenter with weights
 * (1/2, 1/2) has mass about 1 (within 20%: exp(l_bar) is not normalised) and its centroid halfway (within half a
 * pixel); with (1, 0) its centroid is the first box's; gradients come back
 * finite and non-zero; refusals name their argument. */
static void centroid(const double *v, double *r, double *c, double *m) {
  int i, j;
  *r = *c = *m = 0;
  for (i = 0; i < GN; i++)
    for (j = 0; j < GN; j++) {
      *m += v[i * GN + j];
      *r += i * v[i * GN + j];
      *c += j * v[i * GN + j];
    }
  *r /= *m;
  *c /= *m;
}

static void test_grid_barycenter(void) {
  double meas[2 * GP], w[2] = {0.5, 0.5}, w10[2] = {1, 0}, bar[GP], cot[GP], gm[2 * GP], gw[2] = {0, 0};
  double r, c, m;
  static const int64_t shape[2] = {GN, GN};
  int i, finite = 1, nonzero = 0;
  grid_box(meas, 2, 5);
  grid_box(meas + GP, 8, 5);
  CHECK_STATUS(geomloss_images_barycenter(NULL, GEOMLOSS_F64, 1, 2, 2, shape, NULL, 10, 0, meas, w, NULL, bar, NULL, NULL), GEOMLOSS_OK, "");
  centroid(bar, &r, &c, &m);
  CHECK(fabs(m - 1) <= 0.2, "barycenter mass %g", m);
  CHECK(fabs(r - 7.5) <= 0.5 && fabs(c - 7.5) <= 0.5, "barycenter centroid (%g, %g), want (7.5, 7.5)", r, c);
  CHECK_STATUS(geomloss_images_barycenter(NULL, GEOMLOSS_F64, 1, 2, 2, shape, NULL, 10, 0, meas, w10, NULL, bar, NULL, NULL), GEOMLOSS_OK, "");
  centroid(bar, &r, &c, &m);
  CHECK(fabs(r - 4.5) <= 0.5 && fabs(c - 7.5) <= 0.5, "weights (1, 0): centroid (%g, %g), want (4.5, 7.5)", r, c);
  for (i = 0; i < GP; i++) cot[i] = i % 7 - 3;
  CHECK_STATUS(geomloss_images_barycenter(NULL, GEOMLOSS_F64, 1, 2, 2, shape, NULL, 10, 2, meas, w, cot, bar, gm, gw), GEOMLOSS_OK, "");
  for (i = 0; i < 2 * GP; i++) {
    finite &= isfinite(gm[i]);
    nonzero |= gm[i] != 0;
  }
  CHECK(finite && nonzero && isfinite(gw[0]) && gw[0] != 0, "barycenter gradients: finite %d, non-zero %d, gw %g", finite, nonzero, gw[0]);
  CHECK_STATUS(geomloss_images_barycenter(NULL, GEOMLOSS_F64, 1, 2, 2, shape, NULL, 10, 2, meas, w, NULL, bar, gm, NULL), GEOMLOSS_ERR_NULL_POINTER, "cot is NULL");
  CHECK_STATUS(geomloss_images_barycenter(NULL, GEOMLOSS_F64, 1, 2, 2, shape, NULL, 10, 0, meas, w, cot, bar, gm, NULL), GEOMLOSS_ERR_INVALID_ARGUMENT, "extra_iterations");
  CHECK_STATUS(geomloss_images_barycenter(NULL, GEOMLOSS_F64, 1, 2, 2, shape, NULL, 10, 0, NULL, w, NULL, bar, NULL, NULL), GEOMLOSS_ERR_NULL_POINTER, "measures");
  CHECK_STATUS(geomloss_images_barycenter(NULL, GEOMLOSS_F64, 1, 2, 2, shape, NULL, 10, 0, meas, w, NULL, NULL, NULL, NULL), GEOMLOSS_ERR_NULL_POINTER, "bar");
  CHECK_STATUS(geomloss_images_barycenter(NULL, GEOMLOSS_F64, 1, 0, 2, shape, NULL, 10, 0, meas, w, NULL, bar, NULL, NULL), GEOMLOSS_ERR_SIZE, "K must be");
  CHECK_STATUS(geomloss_images_barycenter(NULL, GEOMLOSS_F64, 1, 2, 2, shape, NULL, 0, 0, meas, w, NULL, bar, NULL, NULL), GEOMLOSS_ERR_INVALID_ARGUMENT, "scaling_n");
}

int main(void) {
  test_version();
  test_status_strings();
  test_value_names();
  test_options();
  test_translation();
  test_identical_zero();
  test_outputs_and_report();
  test_errors();
  test_progress();
  test_buffers();
  test_cancel();
  test_ot();
  test_plan_handles();
  test_ot_batch();
  test_batch_plans();
  test_ot_multiscale();
  test_labels();
  test_grid_closed_forms();
  test_grid_options();
  test_grid_spacing();
  test_grid_errors();
  test_grid_potential_cotangents();
  test_grid_barycenter();
  test_panics();
  checks++;
  if (cxx_smoke() != 0) {
    failures++;
    fprintf(stderr, "FAIL: the C++ translation unit's checks\n");
  }
  test_concurrency();
  printf("geomloss C tests: %d checks, %d failures (%d threads x %d evaluations)\n", checks,
         failures, NTHREADS, thread_iters);
  return failures == 0 ? 0 : 1;
}
