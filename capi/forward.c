/* The public functions of include/geomloss.h that are written in Go, defined
 * here against the header's own prototypes: each forwards to a private Go
 * export (glcgo_*, declared by cgo in _cgo_export.h, hidden by the linker
 * map). A function whose definition here disagrees with its prototype in
 * geomloss.h ("conflicting types"), or whose arguments do not convert to the
 * Go export's parameters, fails the build. (The functions written in C are in
 * state.c, compiled against the same header.) */
#include "capi.h"

#include "_cgo_export.h"

/* Wrong pointer types and dropped qualifiers are errors here, not warnings. */
#pragma GCC diagnostic error "-Wincompatible-pointer-types"
#pragma GCC diagnostic error "-Wdiscarded-qualifiers"
#pragma GCC diagnostic error "-Wint-conversion"
#pragma GCC diagnostic error "-Wimplicit-function-declaration"
#pragma GCC diagnostic error "-Wconversion" /* e.g. an int64_t passed to an int */

/* Go exports cannot spell const: these drop it from one exact pointer type
 * each (a cast would accept any type). The Go side never writes through
 * them. */
static geomloss_options *mut_opts(const geomloss_options *p) { return (geomloss_options *)p; }
static geomloss_buffers *mut_bufs(const geomloss_buffers *p) { return (geomloss_buffers *)p; }
static float *mut_f32(const float *p) { return (float *)p; }
static double *mut_f64(const double *p) { return (double *)p; }
static char *mut_str(const char *p) { return (char *)p; }
static int64_t *mut_i64(const int64_t *p) { return (int64_t *)p; }
static void *mut_ptr(const void *p) { return (void *)p; }

GEOMLOSS_API geomloss_options *geomloss_options_create(void) { return glcgo_options_create(); }

GEOMLOSS_API geomloss_options *geomloss_options_clone(const geomloss_options *opts) {
  return glcgo_options_clone(mut_opts(opts));
}

GEOMLOSS_API void geomloss_options_destroy(geomloss_options *opts) { glcgo_options_destroy(opts); }

GEOMLOSS_API int geomloss_options_set_int(geomloss_options *opts, int key, int64_t value) {
  return glcgo_options_set_int(opts, key, value);
}

GEOMLOSS_API int geomloss_options_set_double(geomloss_options *opts, int key, double value) {
  return glcgo_options_set_double(opts, key, value);
}

GEOMLOSS_API int geomloss_options_set_string(geomloss_options *opts, int key, const char *value) {
  return glcgo_options_set_string(opts, key, mut_str(value));
}

GEOMLOSS_API int geomloss_options_get_int(const geomloss_options *opts, int key, int64_t *value) {
  return glcgo_options_get_int(mut_opts(opts), key, value);
}

GEOMLOSS_API int geomloss_options_get_double(const geomloss_options *opts, int key,
                                             double *value) {
  return glcgo_options_get_double(mut_opts(opts), key, value);
}

GEOMLOSS_API int geomloss_options_reset(geomloss_options *opts, int key) {
  return glcgo_options_reset(opts, key);
}

GEOMLOSS_API int geomloss_options_set_progress(geomloss_options *opts, geomloss_progress_fn fn,
                                               void *user_data) {
  return glcgo_options_set_progress(opts, fn, user_data);
}

GEOMLOSS_API geomloss_buffers *geomloss_buffers_create(void) { return glcgo_buffers_create(); }

GEOMLOSS_API void geomloss_buffers_destroy(geomloss_buffers *bufs) { glcgo_buffers_destroy(bufs); }

GEOMLOSS_API int geomloss_buffers_set(geomloss_buffers *bufs, int key, void *ptr, int64_t count) {
  return glcgo_buffers_set(bufs, key, ptr, count);
}

GEOMLOSS_API int geomloss_eval(const geomloss_options *opts, int dtype, int64_t B, int64_t N,
                               int64_t M, int64_t D, const geomloss_buffers *bufs) {
  return glcgo_eval(mut_opts(opts), dtype, B, N, M, D, mut_bufs(bufs));
}

GEOMLOSS_API int geomloss_eval_f32(const geomloss_options *opts, int64_t B, int64_t N, int64_t M,
                                   int64_t D, const float *x, const float *y, const float *a,
                                   const float *b, const float *cot_value, const float *cot_F,
                                   const float *cot_G, float *value, float *F, float *G,
                                   float *grad_x, float *grad_y, float *grad_a, float *grad_b) {
  return glcgo_eval_f32(mut_opts(opts), B, N, M, D, mut_f32(x), mut_f32(y), mut_f32(a), mut_f32(b),
                        mut_f32(cot_value), mut_f32(cot_F), mut_f32(cot_G), value, F, G, grad_x,
                        grad_y, grad_a, grad_b);
}

GEOMLOSS_API int geomloss_eval_f64(const geomloss_options *opts, int64_t B, int64_t N, int64_t M,
                                   int64_t D, const double *x, const double *y, const double *a,
                                   const double *b, const double *cot_value, const double *cot_F,
                                   const double *cot_G, double *value, double *F, double *G,
                                   double *grad_x, double *grad_y, double *grad_a,
                                   double *grad_b) {
  return glcgo_eval_f64(mut_opts(opts), B, N, M, D, mut_f64(x), mut_f64(y), mut_f64(a), mut_f64(b),
                        mut_f64(cot_value), mut_f64(cot_F), mut_f64(cot_G), value, F, G, grad_x,
                        grad_y, grad_a, grad_b);
}

GEOMLOSS_API int geomloss_ot_solve_sample(const geomloss_options *opts, int dtype, int64_t N,
                                          int64_t M, int64_t D, const geomloss_buffers *bufs) {
  return glcgo_ot_solve_sample(mut_opts(opts), dtype, N, M, D, mut_bufs(bufs));
}

GEOMLOSS_API int geomloss_ot_solve(const geomloss_options *opts, int dtype, int64_t N, int64_t M,
                                   const geomloss_buffers *bufs) {
  return glcgo_ot_solve(mut_opts(opts), dtype, N, M, mut_bufs(bufs));
}

GEOMLOSS_API int geomloss_ot_solve_sample_batch(const geomloss_options *opts, int dtype, int64_t B,
                                                int64_t N, int64_t M, int64_t D,
                                                const geomloss_buffers *bufs) {
  return glcgo_ot_solve_sample_batch(mut_opts(opts), dtype, B, N, M, D, mut_bufs(bufs));
}

GEOMLOSS_API int geomloss_ot_solve_batch(const geomloss_options *opts, int dtype, int64_t B,
                                         int64_t N, int64_t M, const geomloss_buffers *bufs) {
  return glcgo_ot_solve_batch(mut_opts(opts), dtype, B, N, M, mut_bufs(bufs));
}

GEOMLOSS_API int geomloss_ot_solve_sample_plan(const geomloss_options *opts, int dtype, int64_t N,
                                               int64_t M, int64_t D, const geomloss_buffers *bufs,
                                               geomloss_plan *plan) {
  return glcgo_ot_solve_sample_plan(mut_opts(opts), dtype, N, M, D, mut_bufs(bufs), plan);
}

GEOMLOSS_API int geomloss_ot_solve_plan(const geomloss_options *opts, int dtype, int64_t N,
                                        int64_t M, const geomloss_buffers *bufs,
                                        geomloss_plan *plan) {
  return glcgo_ot_solve_plan(mut_opts(opts), dtype, N, M, mut_bufs(bufs), plan);
}

GEOMLOSS_API int geomloss_ot_solve_sample_batch_plan(const geomloss_options *opts, int dtype,
                                                     int64_t B, int64_t N, int64_t M, int64_t D,
                                                     const geomloss_buffers *bufs,
                                                     geomloss_plan *plans) {
  return glcgo_ot_solve_sample_batch_plan(mut_opts(opts), dtype, B, N, M, D, mut_bufs(bufs), plans);
}

GEOMLOSS_API int geomloss_ot_solve_batch_plan(const geomloss_options *opts, int dtype, int64_t B,
                                              int64_t N, int64_t M, const geomloss_buffers *bufs,
                                              geomloss_plan *plans) {
  return glcgo_ot_solve_batch_plan(mut_opts(opts), dtype, B, N, M, mut_bufs(bufs), plans);
}

GEOMLOSS_API int geomloss_plan_eval(geomloss_plan plan, const geomloss_buffers *bufs) {
  return glcgo_plan_eval(plan, mut_bufs(bufs));
}

GEOMLOSS_API int geomloss_plan_info(geomloss_plan plan, int *dtype, int64_t *N, int64_t *M,
                                    int64_t *D) {
  return glcgo_plan_info(plan, dtype, N, M, D);
}

GEOMLOSS_API int geomloss_plan_free(geomloss_plan plan) { return glcgo_plan_free(plan); }

GEOMLOSS_API int geomloss_eval_grid(const geomloss_options *opts, int dtype, int64_t B, int ndim,
                                    const int64_t *shape, const double *spacing,
                                    const geomloss_buffers *bufs) {
  return glcgo_eval_grid(mut_opts(opts), dtype, B, ndim, mut_i64(shape), mut_f64(spacing),
                         mut_bufs(bufs));
}

GEOMLOSS_API int geomloss_images_barycenter(const geomloss_options *opts, int dtype, int64_t B,
                                            int64_t K, int ndim, const int64_t *shape,
                                            const double *spacing, int64_t scaling_n,
                                            int64_t extra_iterations, const void *measures,
                                            const void *weights, const void *cot, void *bar,
                                            void *grad_measures, void *grad_weights) {
  return glcgo_images_barycenter(mut_opts(opts), dtype, B, K, ndim, mut_i64(shape),
                                 mut_f64(spacing), scaling_n, extra_iterations, mut_ptr(measures),
                                 mut_ptr(weights), mut_ptr(cot), bar, grad_measures, grad_weights);
}
